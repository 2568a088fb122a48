import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { type CrashChaosReport, runCrashChaos } from "./chaos-crash-run.ts";

/**
 * Chaos v2, full form: `npm run bench:chaos-crash` (or `node --import tsx bench/chaos-crash.ts
 * [tasks]`). Starts DynamoDB Local, the simulator and `local/start.ts` as a child process that it
 * kills with SIGKILL three times; writes bench/CHAOS-CRASH.md.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const tasks = Number(process.argv[2] ?? 10_000);
const report = await runCrashChaos({
  tasks,
  concurrency: 24,
  dropAllShare: 0.3,
  duplicateReorderShare: 0.3,
  submitFailure: 0.1,
  clientRetryShare: 0.3,
  taskFailure: 0.05,
  throttleShare: 0.05,
  kills: 3,
  reconcileIntervalSeconds: 2,
  stepMs: 40,
  seed: 20261201,
  settleSeconds: 240,
  waitForSlots: true,
  log: (line) => process.stdout.write(`${line}\n`),
});

function markdown(r: CrashChaosReport): string {
  const refused = Object.entries(r.refusedAtSubmit)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  const ops = Object.entries(r.dynamodb.total)
    .sort()
    .map(([op, n]) => `| ${op} | ${n} |`)
    .join("\n");
  const kills = r.kills
    .map((k) => `after request ${k.afterRequests} (back in ${k.restartMs} ms)`)
    .join("; ");
  return `# Chaos run v2: crashes and throttling

Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.
Date: ${new Date().toISOString()}. Re-run: \`npm run bench:chaos-crash\` (seeded; the kill points are fixed, what is
in flight at each kill is not). A ${Math.min(r.requests, 80)}-request version runs in \`npm test\` (test/e2e/chaos-crash.test.ts).

Method: ${r.requests} imagine requests from ${r.options.concurrency} concurrent clients, each with a webhookUrl, against
\`local/start.ts\` (what \`npm start\` runs) as a child process. Everything chaos v1 injects (${r.options.dropAllShare * 100}% of tasks
lose all webhooks, ${r.options.duplicateReorderShare * 100}% get them twice and shuffled, ${r.options.submitFailure * 100}% of submits fail upstream in every way
the simulator knows, ${r.options.taskFailure * 100}% of jobs fail, ${r.options.clientRetryShare * 100}% of clients send their request again with the same
Idempotency-Key), plus DynamoDB throttling on ${r.options.throttleShare * 100}% of data requests (a proxy answers
ProvisionedThroughputExceededException; ${r.dynamodb.throttled} requests throttled) and \`kill -9\` of the whole paperboat
process ${r.kills.length} times: ${kills}. Each time it is restarted on the same DATA_DIR. DynamoDB Local and the simulator are
not killed (on AWS the table and the upstream outlive our functions). Clients resend with the same key while the
service cannot be reached or answers 503/409 (${r.clientRetriesAfterCrash} resends after connection errors). A receiver
records every delivery by \`webhook-id\` (deduplicating, as Standard Webhooks receivers do). Four readers poll tasks
and watch for a step backwards.

| figure | result | goal |
| --- | --- | --- |
| requests / accepted (202) | ${r.requests} / ${r.accepted} | |
| refused at submit | ${refused} | |
| accepted tasks terminal and equal to the simulator's truth | ${r.terminalMatchingTruth} of ${r.accepted} | all |
| lost (accepted, not converged) | ${r.lost.length} | 0 |
| status regressions seen by readers (${r.pollReads} reads) | ${r.regressions} | 0 |
| upstream jobs per accepted request | exactly 1: ${r.jobsPerAccepted.exactlyOne}, none: ${r.jobsPerAccepted.none}, more: ${r.jobsPerAccepted.more} | exactly 1 (none only for a task that failed before reaching the upstream) |
| upstream jobs for refused requests | ${r.jobsForRefused} | 0, except lost answers: the job started but its answer never reached us (simulator's acceptedTimeout, or a kill between the upstream's answer and our write) and no webhook proved it |
| replayed answers that differed from the first | ${r.inconsistentReplays} of ${r.replays} | 0 |
| terminal events delivered (distinct webhook-id) | ${r.events.delivered} of ${r.events.expected} (missing ${r.events.missing.length}) | all |
| owner's slots still taken at the end | ${r.slotsHeld ?? "not measured"} | 0 (a release lost to a throttle or a kill is redone by the reconciler) |
| events of the wrong type / second ids for one change | ${r.events.wrongType} / ${r.events.extra} | 0 / 0 |
| deliveries received (redeliveries included) | ${r.events.received} | |
| last expected event received, after the upstream went idle | ${r.events.drainedMs < 0 ? "not all came" : `${(r.events.drainedMs / 1000).toFixed(0)} s`} | the local stack's one process drains its dispatcher backlog once the clients stop |
| whole run | ${(r.durationMs / 1000).toFixed(1)} s | |

DynamoDB requests (counted by the proxy, throttled ones included):

| operation | total |
| --- | --- |
${ops}
`;
}

writeFileSync(new URL("./CHAOS-CRASH.md", import.meta.url), markdown(report));
writeFileSync(
  new URL("./chaos-crash-result.json", import.meta.url),
  `${JSON.stringify(report, null, 2)}\n`,
);
process.stdout.write(markdown(report));
const ok =
  report.lost.length === 0 &&
  report.regressions === 0 &&
  report.jobsPerAccepted.more === 0 &&
  report.events.missing.length === 0 &&
  report.events.extra === 0;
process.exit(ok ? 0 : 1);

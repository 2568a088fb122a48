import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { type ChaosReport, runChaos } from "./chaos-run.ts";

/**
 * The full chaos run: `npm run bench:chaos` (or `node --import tsx bench/chaos.ts [tasks]`).
 * Starts its own DynamoDB Local, stack and simulator; writes bench/CHAOS.md.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const tasks = Number(process.argv[2] ?? 1000);
const report = await runChaos({
  tasks,
  concurrency: 24,
  dropAllShare: 0.3,
  duplicateReorderShare: 0.3,
  submitFailure: 0.1,
  clientRetryShare: 0.3,
  taskFailure: 0.05,
  reconcileIntervalSeconds: 2,
  stepMs: 40,
  seed: 20261125,
  log: (line) => process.stdout.write(`${line}\n`),
});

function markdown(r: ChaosReport): string {
  const refused = Object.entries(r.refusedAtSubmit)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  const ops = Object.entries(r.dynamodb.total)
    .sort()
    .map(([op, n]) => `| ${op} | ${n} | ${r.dynamodb.perTask[op]} |`)
    .join("\n");
  return `# Chaos run

Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.
Date: ${new Date().toISOString()}. Re-run: \`npm run bench:chaos\` (seeded: same faults each run).

Method: ${r.requests} imagine requests from ${r.options.concurrency} concurrent clients against the
local stack (DynamoDB Local behind a counting proxy, the simulator at ${r.options.stepMs} ms per step,
reconciler every ${r.options.reconcileIntervalSeconds} s). ${r.options.dropAllShare * 100}% of tasks lose all
their webhooks, ${r.options.duplicateReorderShare * 100}% get every webhook twice in shuffled order,
${r.options.submitFailure * 100}% of submits fail upstream (5xx, timeout, garbage, empty, queue full,
refusals), ${r.options.taskFailure * 100}% of jobs end in FAILURE, and ${r.options.clientRetryShare * 100}% of
clients "lose" the response and send the same request again with the same Idempotency-Key (at once,
and once more after the answer). Four readers poll tasks throughout and watch for a step backwards.

| figure | result | goal |
| --- | --- | --- |
| requests / accepted (202) | ${r.requests} / ${r.accepted} | |
| refused at submit (as the contract maps them) | ${refused} | |
| accepted tasks terminal and equal to the simulator's truth | ${r.terminalMatchingTruth} of ${r.accepted} | all |
| lost (accepted, not converged) | ${r.lost.length} | 0 |
| status regressions seen by readers (${r.pollReads} reads) | ${r.regressions} | 0 |
| upstream jobs per accepted request | exactly 1: ${r.jobsPerAccepted.exactlyOne}, none: ${r.jobsPerAccepted.none}, more: ${r.jobsPerAccepted.more} | exactly 1 |
| upstream jobs for refused requests, lost answers aside | ${r.jobsForRefused} | 0 |
| lost answers: jobs started whose answer the upstream withheld (acceptedTimeout), no webhook proving them within the 1 s upstream timeout | ${r.lostAnswers} | answered 502 as the contract says; the one gap no poll can close |
| replayed answers that differed from the first | ${r.inconsistentReplays} of ${r.replays} | 0 |
| retries answered 409 "still running" | ${r.conflictsWhileRunning} | |
| last task converged after the simulator finished | ${r.convergenceMs} ms | ≤ ${r.options.reconcileIntervalSeconds * 1000} ms interval + one batch |
| per task, upstream finished → recorded here, webhook path: p50 / p99 / max | ${r.lagMs.webhooks.p50} / ${r.lagMs.webhooks.p99} / ${r.lagMs.webhooks.max} ms | |
| the same, tasks whose webhooks were all lost (reconciler path) | ${r.lagMs.reconciler.p50} / ${r.lagMs.reconciler.p99} / ${r.lagMs.reconciler.max} ms | max ≤ interval + one batch |
| reconciler runs | ${r.reconcileRuns} | |
| whole run | ${(r.durationMs / 1000).toFixed(1)} s | |

DynamoDB requests (counted by the proxy; GetItem includes the readers' polling):

| operation | total | per request |
| --- | --- | --- |
${ops}
`;
}

writeFileSync(new URL("./CHAOS.md", import.meta.url), markdown(report));
writeFileSync(
  new URL("./chaos-result.json", import.meta.url),
  `${JSON.stringify(report, null, 2)}\n`,
);
process.stdout.write(markdown(report));
process.exit(
  report.lost.length === 0 && report.regressions === 0 && report.jobsPerAccepted.more === 0 ? 0 : 1,
);

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient, createIdFactory } from "../functions/deps.ts";
import { keys } from "../functions/store/keys.ts";
import { taskToItem } from "../functions/store/task-store.ts";
import { ensureTable, startDynamoDbLocal } from "../local/dynamodb.ts";
import type { NodejsOptions } from "../test/infra/sst-bundle.ts";
import { evaluateSstConfig, ROOT } from "../test/infra/sst-stand-in.ts";
import { benchColdStart } from "./cold-start.ts";
import { benchLatency } from "./latency.ts";
import { table } from "./lib/markdown.ts";
import type { Section, Target } from "./lib/report.ts";
import { bundleAppServer } from "./lib/servers.ts";
import { benchTask } from "./lib/tasks.ts";
import { benchRequestCounts } from "./request-counts.ts";
import { benchScale } from "./scale.ts";
import { benchWebhookThroughput } from "./webhook-throughput.ts";

/**
 * `npm run bench`: the whole performance suite, each figure next to a reference measured in the
 * same run, written to bench/RESULTS.md. `npm run bench -- cold warm` runs only those parts
 * (cold, warm, counts, latency, scale) and prints them instead of writing RESULTS.md.
 * Starts what it needs (DynamoDB Local, simulators, servers) on 127.0.0.1 and stops it all.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const PARTS = ["cold", "warm", "counts", "latency", "scale"] as const;
type Part = (typeof PARTS)[number];
const asked = process.argv
  .slice(2)
  .filter((a): a is Part => (PARTS as readonly string[]).includes(a));
const parts: readonly Part[] = asked.length > 0 ? asked : PARTS;
const full = asked.length === 0;

const startedAt = new Date();
const t0 = performance.now();
const loadAtStart = loadavg();
const log = (line: string) =>
  process.stdout.write(
    `[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${line}\n`,
  );

function javaVersion(): string {
  // `java -version` writes to stderr
  const out = spawnSync("java", ["-version"], { encoding: "utf8" });
  return (
    `${out.stderr ?? ""}${out.stdout ?? ""}`.split("\n")[0]?.trim() || "java (version unknown)"
  );
}

/** The code measured: the commit, and whether functions/ had uncommitted changes. */
function gitState(): string {
  // a copy outside git (e.g. a `git archive` of a commit) says which it is
  if (process.env.BENCH_CODE) return process.env.BENCH_CODE;
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: ROOT,
      encoding: "utf8",
    }).trim();
    const dirty = execFileSync(
      "git",
      ["--no-optional-locks", "status", "--porcelain", "--", "functions"],
      { cwd: ROOT, encoding: "utf8" },
    ).trim();
    return `${head}${dirty ? " + uncommitted changes in functions/" : ""}`;
  } catch {
    return "unknown";
  }
}

/**
 * DynamoDB Local is a JVM: its first thousands of requests run interpreted and get faster as
 * its JIT compiles them. A few seconds of the same kinds of requests the figures make, before
 * any figure is timed, so no figure pays for the warm-up.
 */
async function warmDynamoDb(endpoint: string, seconds: number) {
  const client = createDocumentClient({ endpoint });
  const tableName = "bench_warmup";
  await ensureTable(client, tableName);
  const newId = createIdFactory();
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() < deadline) {
        const task = benchTask({
          id: newId(),
          owner: "warm",
          status: "SUBMITTED",
          upstreamTaskId: "7000000000000000",
        });
        await client.send(new PutCommand({ TableName: tableName, Item: taskToItem(task) }));
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.task(task.id),
            UpdateExpression: "SET #s = :s, #r = :r REMOVE gsi3pk, gsi3sk",
            ConditionExpression: "attribute_exists(pk) AND #r < :r",
            ExpressionAttributeNames: { "#s": "status", "#r": "rank" },
            ExpressionAttributeValues: { ":s": "SUCCESS", ":r": 3100 },
            ReturnValues: "ALL_NEW",
          }),
        );
        await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: "gsi1",
            KeyConditionExpression: "gsi1pk = :o",
            ExpressionAttributeValues: { ":o": keys.ownerTasks("warm") },
            ScanIndexForward: false,
            Limit: 20,
          }),
        );
      }
    }),
  );
}

const fmt = (value: number | undefined, digits = 1) =>
  value === undefined || !Number.isFinite(value) ? "?" : value.toFixed(digits);

/** For each missed target: what costs (with this run's numbers) and the change that fixes it. */
function closingNotes(sections: Map<Part, Section>): string[] {
  const notes: string[] = [];
  const cold = sections.get("cold");
  const missedCold = cold?.targets.filter((t) => !t.met && t.figure.startsWith("1. cold")) ?? [];
  if (cold && missedCold.length > 0) {
    const d = cold.data ?? {};
    const missedNames = [...new Set(missedCold.map((t) => t.figure.split(": ").pop() ?? ""))];
    const names = missedNames.join(", ");
    // init per KB a cold start loads: the reference's init above the floor's, over its bytes
    const price =
      ((d["init:reference"] ?? 0) - (d["init:floor"] ?? 0)) / ((d["bytes:reference"] ?? 1) / 1024);
    // what the functions measured against their own references carry beyond zod and that reference
    const ownBeyond = missedNames
      .flatMap((name) => {
        const own = d[`ownBytes:${name}`];
        if (own === undefined || d[`pairedOwnInit:${name}`] === undefined) return [];
        const kb = ((d[`bytes:${name}`] ?? 0) - (d[`zodBytes:${name}`] ?? 0) - own) / 1024;
        const ms = kb * price;
        return [{ name, kb, ms, ratio: 1 + ms / (d["init:reference"] ?? 1) }];
      })
      .filter((o) => o.ratio > 1.1);
    notes.push(
      `**Cold start (${names}).** What the bundles are now: each Lambda entry (functions/lambda/) imports only its own composition module (functions/compose/<function>.ts) and names only the settings it reads (functions/config.ts exports each setting on its own; test/infra/bundle-contents.test.ts keeps both so); every schema is \`zod/mini\` and built on first use (functions/contract/z.ts \`z.onDemand\`), so a cold start builds the one or two it parses and a bundle leaves out the ones it never references; each function carries only the task store's pieces it calls (the callback its one write, store/task-advance.ts); no bundle carries the S3 client (the SigV4 signer the DynamoDB client brings signs image links); the upstream client sends over \`node:http\`, so no function starts undici's client for its few upstream calls; and no bundle carries the SDK's credential providers Lambda never uses (infra/runtime.ts \`SDK_PACKAGES_LAMBDA_NEVER_LOADS\`). The reference is built with the same options, so that lowers both sides of each ratio alike. Cause that remains, measured, in the Callback's CPU profile: zod/mini's code takes ${fmt(d["zod:Callback"])} ms of a cold start (the reference plus one schema in \`zod/mini\` runs ${fmt(d["zod:reference+zod-mini"])} ms); its bundle, ${fmt(((d["bytes:Callback"] ?? 0) - (d["bytes:reference"] ?? 0)) / 1024, 0)} KB larger than the reference's (${fmt((d["zodBytes:Callback"] ?? 0) / 1024, 0)} KB of it zod), costs ${fmt((d["loader:Callback"] ?? 0) - (d["loader:reference"] ?? 0))} ms more in Node's module loader (read, parse, compile) and ${fmt((d["gc:Callback"] ?? 0) - (d["gc:reference"] ?? 0))} ms more GC, against a total difference of ${fmt((d["sampled:Callback"] ?? 0) - (d["sampled:reference"] ?? 0))} ms sampled. What validation costs, measured in the ablations' table: the Callback with zod swapped for a pass-through (bench/variants/pass-through-zod.ts: building a schema costs nothing and a parse returns its input) starts at ${fmt(d["ablationInit:callback-no-validation"], 2)}× the reference's init alone and ${fmt(d["ablationTotal:callback-no-validation"], 2)}× its init + first event, where the Callback itself is at ${fmt(d["ablationInit:Callback"], 2)}× and ${fmt(d["ablationTotal:Callback"], 2)}× in the same rounds: the difference is everything zod costs it (${fmt((d["zodBytes:Callback"] ?? 0) / 1024, 0)} KB of code, and the schemas it builds and runs for the first time during the first event). One schema alone costs the reference ${fmt(d["ablationInit:reference+zod-mini"], 2)}× init alone in \`zod/mini\` and ${fmt(d["ablationInit:reference+valibot"], 2)}× in valibot, the lightest library tried (bundles ${fmt((d["ablationBytes:reference+zod-mini"] ?? 0) / 1024, 0)} and ${fmt((d["ablationBytes:reference+valibot"] ?? 0) / 1024, 0)} KB, the reference ${fmt((d["bytes:reference"] ?? 0) / 1024, 0)} KB). The rest is the functions' own code, at about ${fmt(price, 3)} ms of init per KB a cold start loads (the reference's init above the floor's, over its bytes). **Next in functions/**: few bytes are left to take: moving the code of routes a cold start does not serve behind dynamic imports was measured and made init slower (with esbuild's splitting, each module such code shares with the handler becomes a file of its own, about 0.7 ms each, against 0.1 ms per KB saved); the EventBridge client in the dispatcher's bundles (about 17 KB; its one PutEvents could be signed as the webhook's UpdateItem is, functions/store/update-item.ts). Against the reference as SST builds it by default (the SDK's credential providers bundled, the ablations' table), the Callback's init alone is about ${fmt((d["ablationInit:Callback"] ?? 0) / (d["ablationInit:reference-sst-default"] ?? 1), 2)}× and its init + first event about ${fmt((d["ablationTotal:Callback"] ?? 0) / (d["ablationTotal:reference-sst-default"] ?? 1), 2)}×: leaving those providers out (infra/runtime.ts) gains every function what zod and its own code cost, but the reference here is built the same way, so the ratios above do not show it. **Beyond functions/**: with validation that costs nothing the Callback's init alone would be ${fmt(d["ablationInit:callback-no-validation"], 2)}×, against 1.05× for everything it adds, so only a library that costs next to nothing could meet it (valibot comes closest; moving the contract to it rewrites every schema and the OpenAPI generator, a change of the stack). ${ownBeyond.length > 0 ? `And no validation library can meet the init-alone target of ${ownBeyond.map((o) => o.name).join(", ")}: beyond zod, ${ownBeyond.map((o) => `${o.name} carries ${fmt(o.kb, 0)} KB more than its same-round-trip reference (about ${fmt(o.ms)} ms, ${fmt(o.ratio, 2)}× of the reference's init by itself)`).join("; ")}; that is its own work (its part of the task store, the upstream client with its hosts' quirks, the flow itself). ` : ""}The init-alone targets need a decision this code cannot make: restate them (against the reference as SST builds it by default, or net of what a function must carry), or accept the misses.`,
    );
    const ownMissed = missedNames.filter((name) => d[`pairedOwn:${name}`] !== undefined);
    if (ownMissed.length > 0) {
      notes.push(
        `**Cold start, ${ownMissed.join(" and ")}: against a reference making the same round trips** (bench/reference/work.ts): ${ownMissed.map((name) => `${name} ${fmt(d[`pairedOwn:${name}`], 2)}× paired, init alone ${fmt(d[`pairedOwnInit:${name}`], 2)}× (bundle ${fmt((d[`bytes:${name}`] ?? 0) / 1024, 0)} KB)`).join("; ")}. The round trips are the same on both sides, so what is left is the function's own code: the reference carries only the clients, while the function carries its validation (zod), its settings, the task store and the upstream client with its failover. **Next in functions/**: the same as above.`,
      );
    }
  }
  const warm = sections.get("warm");
  if (warm?.targets.some((t) => !t.met && t.figure.startsWith("2."))) {
    const d = warm.data ?? {};
    notes.push(
      `**Warm webhook throughput (${fmt(d.ratio, 2)}×).** Cause, measured: CPU per webhook, the app's and DynamoDB Local's. With DynamoDB Local, the server and the load on two cores, throughput is bounded by CPU: the callback's process spends ${fmt(d.cpuCallback, 0)} µs per request against the reference's ${fmt(d.cpuReference, 0)} µs, and DynamoDB Local spends ${fmt(d.dbCpuCallback, 0)} µs on the callback's write against ${fmt(d.dbCpuReference, 0)} µs on the reference's. Without I/O the callback costs ${fmt(d.microsCallback, 0)} µs per webhook vs ${fmt(d.microsReference, 0)} µs (its log line ${fmt((d.microsCallback ?? 0) - (d.microsNoLog ?? 0), 0)} µs): its write reads nothing back (TaskStore.apply) and is sent without the SDK's command pipeline (functions/store/update-item.ts), so the app's share left is the work the reference skips (the body's zod parse, the state token's HMAC check, the log line: the pieces' table in section 2). The database's share is the write's own extra work: it appends the step to the task's \`steps\` (the live stream reads them) and its event to the \`outbox\` (one string, functions/store/outbox-entry.ts), and both lists grow by one entry per progress step until the dispatcher takes the events. **Next in functions/**: what is left to trim is on the item: the size of those two lists a progress step adds to.`,
    );
  }
  const counts = sections.get("counts");
  const getMisses =
    counts?.targets.filter((t) => !t.met && t.figure.includes("GET /v1/tasks/{id}")) ?? [];
  if (getMisses.length > 0) {
    const which = getMisses
      .map((t) => `${t.figure.replace("3. requests: GET /v1/tasks/{id}, ", "")}: ${t.measured}`)
      .join("; ");
    notes.push(
      `**GET /v1/tasks/{id} is more than 1 GetItem** (${which}). Cause: \`getTaskWithChildren\` (functions/core/queries.ts, added with the workflow routes) lists the children's ids with a second request, a Query on gsi4 (with a FilterExpression on the owner, so possibly more than one), for every finished task with buttons: exactly the read clients poll for, and the most frequent one. **Fix in functions/**: keep the children's ids on the parent item (the child's creating write appends its id with \`list_append\`, in the same transaction that creates the child), so GET stays 1 GetItem; or leave \`children\` out of GET and let clients page \`GET /v1/tasks?parentId=\` (1 Query per page). test/e2e/dynamodb-calls.test.ts asserts today's count (1 GetItem + 1 Query) until then.`,
    );
  }
  for (const [part, section] of sections) {
    for (const target of section.targets.filter((t) => !t.met)) {
      const explained =
        (part === "cold" && missedCold.includes(target)) ||
        (part === "warm" && target.figure.startsWith("2.")) ||
        getMisses.includes(target);
      if (!explained) {
        notes.push(
          `**${target.figure}**: measured ${target.measured}, target ${target.target}; see section ${section.title}.`,
        );
      }
    }
  }
  return notes;
}

const dynamodb = await startDynamoDbLocal();
const workDir = await mkdtemp(join(tmpdir(), "paperboat-bench-"));
const sections = new Map<Part, Section>();
try {
  log(`DynamoDB Local on ${dynamodb.endpoint}; warming it up`);
  await warmDynamoDb(dynamodb.endpoint, 8);
  const wiring = await evaluateSstConfig("bench");
  const nodejs = (wiring.fn("Callback").args.nodejs ?? {}) as NodejsOptions;
  const server = await bundleAppServer(nodejs, join(workDir, "app-server"));
  const run = (part: Part): Promise<Section> => {
    switch (part) {
      case "cold":
        return benchColdStart({
          dynamodbEndpoint: dynamodb.endpoint,
          wiring,
          workDir,
          rounds: Number(process.env.BENCH_COLD_ROUNDS) || 12,
          ablationRounds: Number(process.env.BENCH_COLD_ROUNDS) || 10,
          profileRuns: Number(process.env.BENCH_COLD_PROFILES) || 6,
          log,
        });
      case "warm":
        return benchWebhookThroughput({
          dynamodbEndpoint: dynamodb.endpoint,
          dynamodbPid: dynamodb.pid,
          server,
          concurrency: 16,
          phases: 5,
          phaseSeconds: 4,
          phaseRequests: 6000,
        });
      case "counts":
        return benchRequestCounts({ dynamodbEndpoint: dynamodb.endpoint });
      case "latency":
        return benchLatency({
          dynamodbEndpoint: dynamodb.endpoint,
          server,
          tasks: 30,
          reconcileIntervalMs: 1000,
          log,
        });
      case "scale":
        return benchScale({
          dynamodbEndpoint: dynamodb.endpoint,
          sizes: [1_000, 10_000, 100_000],
          samples: 200,
          log,
        });
    }
  };
  for (const part of parts) {
    log(`${part}: start`);
    const loadBefore = loadavg()[0] ?? 0;
    try {
      const section = await run(part);
      const loadAfter = loadavg()[0] ?? 0;
      section.markdown += `\n\n_Load average (1 min) during this part: ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}, on 2 cores._`;
      sections.set(part, section);
    } catch (error) {
      // one part failing still leaves the others' figures, and says so
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      log(`${part}: FAILED ${message}`);
      sections.set(part, {
        title: `${part} (failed)`,
        markdown: `This part failed: \`${message.replace(/`/g, "'").slice(0, 500)}\``,
        targets: [
          {
            figure: `${part}: the part ran`,
            measured: "failed",
            target: "ran to the end",
            met: false,
          },
        ],
      });
    }
    log(`${part}: done`);
  }
} finally {
  await dynamodb.stop();
  await rm(workDir, { recursive: true, force: true });
}

const seconds = (performance.now() - t0) / 1000;
const targets: Target[] = [...sections.values()].flatMap((s) => s.targets);
const notes = closingNotes(sections);
const cpu = cpus();
const markdown = [
  "# Performance, measured",
  "",
  `Generated by \`npm run bench\` (bench/run.ts) on ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC in ${(seconds / 60).toFixed(1)} min. Machine: ${cpu.length} × ${cpu[0]?.model?.trim() ?? "CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}, ${javaVersion()} for DynamoDB Local (in memory). Load average (1 min) ${loadAtStart[0]?.toFixed(2)} at the start, ${loadavg()[0]?.toFixed(2)} at the end: other work on this machine shows up as noise, which is why every figure is a ratio to a reference measured in the same run, interleaved with it. Code: ${gitState()}.`,
  "",
  "Method, in short: everything runs on this machine over 127.0.0.1, started and stopped by the bench. Timings are medians or percentiles of many runs, never means; ratios compare a subject with its reference measured alternately in the same run. DynamoDB Local is warmed up before anything is timed. Request counts come from a counting proxy in front of DynamoDB Local and are also asserted by test/e2e/dynamodb-calls.test.ts. Each section below starts with its own method.",
  "",
  "## Targets",
  "",
  table(
    ["figure", "measured", "target", "met"],
    targets.map((t) => [t.figure, t.measured, t.target, t.met ? "yes" : "**no**"]),
  ),
  "",
  ...[...sections.values()].flatMap((s) => [`## ${s.title}`, "", s.markdown, ""]),
  "## Closing note: the misses, their causes, and the fixes",
  "",
  notes.length === 0 ? "Every target holds." : notes.join("\n\n"),
  "",
].join("\n");

if (full) {
  const file = join(ROOT, "bench", "RESULTS.md");
  await writeFile(file, markdown);
  try {
    execFileSync(join(ROOT, "node_modules", ".bin", "biome"), ["format", "--write", file], {
      cwd: ROOT,
      stdio: "ignore",
    });
  } catch {
    // formatting is cosmetic; the file is written either way
  }
  log(
    `wrote bench/RESULTS.md (${targets.filter((t) => t.met).length}/${targets.length} targets met)`,
  );
} else {
  process.stdout.write(`${markdown}\n`);
}
log(`finished in ${seconds.toFixed(0)} s`);

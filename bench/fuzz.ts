import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

/**
 * The long fuzz run: `npm run bench:fuzz [runs]` runs test/e2e/fuzz.test.ts with FUZZ_RUNS
 * generated upstream payloads (default 3,000; the CI form runs 60) and writes bench/FUZZ.md.
 */
const runs = Number(process.argv[2] ?? 3000);
const started = Date.now();
const result = spawnSync(
  "npx",
  [
    "vitest",
    "run",
    "--project",
    "integration",
    "test/e2e/fuzz.test.ts",
    "--testTimeout",
    "3600000",
  ],
  {
    cwd: join(import.meta.dirname, ".."),
    env: { ...process.env, FUZZ_RUNS: String(runs) },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  },
);
const output = `${result.stdout}\n${result.stderr}`;
const summary = /tests: (\d+) passed, (\d+) failed/.exec(output);
const counterexample = /Counterexample: (.*)/.exec(output)?.[1] ?? null;
const seconds = ((Date.now() - started) / 1000).toFixed(0);
const report = `# Fuzz run: hostile upstream payloads

Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.
Date: ${new Date().toISOString()}. Re-run: \`npm run bench:fuzz [runs]\` (the 60-payload form runs in \`npm test\`).

Method: test/e2e/fuzz.test.ts against the local stack (DynamoDB Local, the Hono apps over HTTP) with an
upstream of the test's own that answers whatever was generated. ${runs} generated webhook bodies (every
field of the upstream's task in its own type with odd values, or any JSON at all: floats and huge
numbers where integers belong, times out of range, nulls inside arrays, up to 120 image URLs, nested
values, long texts), each sent with a valid state token for a new task of one owner; then a
reconciler run over ${Math.max(60, Math.floor(runs / 10))} tasks whose list-by-condition answers are generated the same way, next to one
good answer; then another owner's task through copies and webhook delivery.

| check | result |
| --- | --- |
| callback answers below 500, task reads back for its owner, 404 for the other owner, list 200 | ${summary ? (summary[2] === "0" ? "held for every payload" : "FAILED") : "no result"} |
| the good answer in a poisoned reconciler page applied | ${summary?.[2] === "0" ? "yes" : "see output"} |
| the other owner's image copy and webhook delivery ran | ${summary?.[2] === "0" ? "yes" : "see output"} |
| tests passed / failed | ${summary ? `${summary[1]} / ${summary[2]}` : "?"} |
| first counterexample | ${counterexample ? `\`${counterexample.slice(0, 300)}\`` : "none"} |
| whole run | ${seconds} s |
`;
writeFileSync(new URL("./FUZZ.md", import.meta.url), report);
process.stdout.write(report);
process.exit(result.status ?? 1);

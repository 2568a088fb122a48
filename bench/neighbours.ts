import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { startStack } from "../local/stack.ts";

/**
 * Issue 17, point 4, in time: how long another owner's first webhook waits in a dispatcher run
 * while one owner has 24 tasks whose receiver is slow, with the real sender settings (10 s per
 * attempt, 1 s for a body after its headers). Two slow receivers: one that answers 200 and then
 * drips its body forever, one that never answers. `node --import tsx bench/neighbours.ts`
 * (starts its own DynamoDB Local); writes bench/neighbours.md.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler) {
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

const slowReceivers: Record<string, Handler> = {
  "answers 200, then drips its body": (req, res) => {
    req.resume();
    res.writeHead(200);
    const timer = setInterval(() => res.write("."), 100);
    res.on("close", () => clearInterval(timer));
  },
  "never answers": (req) => {
    req.resume();
  },
};

const owners = [
  { owner: "a", key: `key_a_${randomBytes(8).toString("hex")}` },
  { owner: "b", key: `key_b_${randomBytes(8).toString("hex")}` },
];

async function scenario(name: string, slow: Handler) {
  let calls = 0;
  let aliceAt: number | null = null;
  let bobAt: number | null = null;
  let aliceBeforeBob = 0;
  const slowServer = await listen((req, res) => {
    calls++;
    aliceAt ??= performance.now();
    slow(req, res);
  });
  const fast = await listen((req, res) => {
    bobAt ??= performance.now();
    aliceBeforeBob = calls;
    req.resume();
    res.writeHead(200).end();
  });
  const stack = await startStack({
    tableName: `neighbours_${Date.now().toString(36)}`,
    callbackSecret: randomBytes(32).toString("base64url"),
    apiKeys: owners,
    reconcileIntervalSeconds: 0,
    simulator: { stepMs: 15, seed: 7 },
  });
  try {
    const submit = (key: string, webhookUrl: string, n: number) =>
      fetch(`${stack.url}/v1/imagine`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ prompt: `a boat ${n} --sim-banned`, webhookUrl }),
      }).then((r) => r.text());
    for (let i = 0; i < 24; i++) await submit(owners[0]?.key ?? "", slowServer.url, i);
    await submit(owners[1]?.key ?? "", fast.url, 99);
    const started = performance.now();
    const first = await stack.dispatchOnce();
    const runMs = performance.now() - started;
    return {
      name,
      bobMs: bobAt === null ? null : (bobAt as number) - started,
      aliceMs: aliceAt === null ? null : (aliceAt as number) - started,
      runMs,
      aliceBeforeBob,
      aliceAttempts: calls,
      deferred: first.deferred,
    };
  } finally {
    await stack.stop();
    await slowServer.stop();
    await fast.stop();
  }
}

const rows = [];
for (const [name, handler] of Object.entries(slowReceivers))
  rows.push(await scenario(name, handler));
const fmt = (n: number | null) => (n === null ? "never" : `${(n / 1000).toFixed(2)} s`);
const table = [
  "| Owner A's receiver (24 tasks) | A's first attempt after | B's first attempt after | the run took | A's calls before B's | A's attempts in the run | left for the next run |",
  "| --- | --- | --- | --- | --- | --- | --- |",
  ...rows.map(
    (r) =>
      `| ${r.name} | ${fmt(r.aliceMs)} | ${fmt(r.bobMs)} | ${fmt(r.runMs)} | ${r.aliceBeforeBob} | ${r.aliceAttempts} | ${r.deferred} |`,
  ),
].join("\n");
const text = `# Another owner's slow receiver (issue 17, point 4)

One dispatcher run (\`dispatchOnce()\`, DynamoDB Local, receivers on 127.0.0.1), real sender
settings: 10 s per attempt, 1 s for a body after its headers; shares of 2 per host, 4 per owner,
8 in all. Owner A's 24 tasks are listed before owner B's one. Before the change (8 shared lanes,
the body read until the 10 s deadline) B's first attempt waited for A's: 238 s in the issue's
measurement. \`node --import tsx bench/neighbours.ts\` (${new Date().toISOString().slice(0, 10)}).

${table}
`;
writeFileSync(join(import.meta.dirname, "neighbours.md"), text);
process.stdout.write(`${text}\n`);

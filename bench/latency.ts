import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient, createIdFactory } from "../functions/deps.ts";
import { taskToItem } from "../functions/store/task-store.ts";
import { startStack } from "../local/stack.ts";
import type { Bundle } from "../test/infra/sst-bundle.ts";
import { table } from "./lib/markdown.ts";
import type { Section } from "./lib/report.ts";
import { startAppServer } from "./lib/servers.ts";
import { ms, percentile } from "./lib/stats.ts";
import { benchTask, upstreamId, webhookBody } from "./lib/tasks.ts";

export interface LatencyOptions {
  dynamodbEndpoint: string;
  /** bench/lib/app-server.ts, bundled: the reference's floor runs there */
  server: Bundle;
  /** tasks per path */
  tasks?: number;
  /** the reconciler's interval in this run (60 s on AWS) */
  reconcileIntervalMs?: number;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POSTs once on a fresh connection (as the simulator and real upstreams do); resolves on the answer. */
function postOnce(url: string, body: string): Promise<number> {
  return new Promise((ok, fail) => {
    const target = new URL(url);
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        agent: false,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          connection: "close",
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => ok(res.statusCode ?? 0));
      },
    );
    req.on("error", fail);
    req.end(body);
  });
}

const stats = (values: number[]) => [
  ms(percentile(values, 50)),
  ms(percentile(values, 90)),
  ms(Math.max(...values)),
];

/**
 * Figure 4: end to end on the local stack (the code `npm start` runs: one HTTP server routing
 * like API Gateway, DynamoDB Local, the simulator). The simulator reports each change of its
 * tasks through its log callback, synchronously, just before it sends the webhook: that instant
 * is when the upstream "sends SUCCESS". From then on this process reads the task through the API
 * back to back until it reads SUCCESS.
 */
export async function benchLatency(options: LatencyOptions): Promise<Section> {
  const tasks = options.tasks ?? 30;
  const intervalMs = options.reconcileIntervalMs ?? 1000;
  const apiKey = `key_latency_${randomBytes(8).toString("hex")}`;
  const secret = randomBytes(24).toString("base64url");
  const tableName = `bench_latency_${randomBytes(3).toString("hex")}`;
  const succeededAt = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const stack = await startStack({
    tableName,
    dynamodbEndpoint: options.dynamodbEndpoint,
    callbackSecret: secret,
    apiKeys: [{ owner: "alice", key: apiKey }],
    reconcileIntervalSeconds: 0,
    simulator: {
      stepMs: 40,
      seed: 4,
      log: (message, fields) => {
        if (message !== "task changed" || fields?.status !== "SUCCESS") return;
        const id = String(fields.taskId);
        succeededAt.set(id, performance.now());
        waiters.get(id)?.();
      },
    },
  });
  const reference = await startAppServer(options.server, "reference", {
    TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: options.dynamodbEndpoint,
    CALLBACK_SECRET: secret,
  });
  const auth = { authorization: `Bearer ${apiKey}` };
  const read = async (id: string) => {
    const response = await fetch(`${stack.url}/v1/tasks/${id}`, { headers: auth });
    return ((await response.json()) as { status?: string }).status;
  };
  const submit = async (prompt: string) => {
    const response = await fetch(`${stack.url}/v1/imagine`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ prompt }),
    });
    const body = (await response.json()) as { id: string; upstreamTaskId: string };
    if (response.status !== 202) throw new Error(`latency: submit ${response.status}`);
    return body;
  };
  /** Resolves when the simulator moves this upstream task to SUCCESS. */
  const upstreamSuccess = (upstreamTaskId: string) =>
    new Promise<number>((ok) => {
      const done = () => ok(succeededAt.get(upstreamTaskId) as number);
      if (succeededAt.has(upstreamTaskId)) done();
      else waiters.set(upstreamTaskId, done);
    });
  /** Reads back to back (every `everyMs`) until the task reads SUCCESS; the instant it did. */
  const readUntilSuccess = async (id: string, everyMs = 0) => {
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      if ((await read(id)) === "SUCCESS") return performance.now();
      if (everyMs > 0) await sleep(everyMs);
    }
    throw new Error(`latency: task ${id} never read SUCCESS`);
  };

  try {
    // warm-up: every path's code once
    for (let i = 0; i < 3; i++) {
      const t = await submit(`a warm-up boat ${i}`);
      await upstreamSuccess(t.upstreamTaskId);
      await readUntilSuccess(t.id);
    }

    // webhook path, one task at a time so that reads do not queue behind other work
    const webhookPath: number[] = [];
    for (let i = 0; i < tasks; i++) {
      const t = await submit(`a paper boat on the webhook path ${i}`);
      const sent = await upstreamSuccess(t.upstreamTaskId);
      webhookPath.push((await readUntilSuccess(t.id, 2)) - sent);
    }
    options.log?.("latency: webhook path measured");

    // the floor of that path, same run: the same webhook on a fresh connection to the reference
    // app (one conditional UpdateItem), then one read of the task through the API
    const client = createDocumentClient({ endpoint: options.dynamodbEndpoint });
    const newId = createIdFactory();
    const floor: number[] = [];
    const hookAlone = { stack: [] as number[], reference: [] as number[] };
    const freshSuccessWebhook = async (i: number) => {
      const task = benchTask({
        id: newId(),
        owner: "alice",
        status: "IN_PROGRESS",
        progress: 93,
        upstreamTaskId: upstreamId(800_000 + i),
      });
      await client.send(new PutCommand({ TableName: tableName, Item: taskToItem(task) }));
      const body = webhookBody({
        secret,
        taskId: task.id,
        upstreamTaskId: task.upstreamTaskId as string,
        status: "SUCCESS",
        progress: 100,
      });
      return { id: task.id, body };
    };
    const post = async (url: string, body: string) => {
      const t0 = performance.now();
      const status = await postOnce(`${url}/hooks/midjourney`, body);
      if (status !== 200) throw new Error(`latency: ${url} answered ${status}`);
      return performance.now() - t0;
    };
    for (let i = 0; i < tasks; i++) {
      const hook = await freshSuccessWebhook(2 * i);
      const t0 = performance.now();
      hookAlone.reference.push(await post(reference.url, hook.body));
      await read(hook.id);
      floor.push(performance.now() - t0);
      hookAlone.stack.push(await post(stack.url, (await freshSuccessWebhook(2 * i + 1)).body));
    }

    // reconciler path: the final webhook is lost; a run every intervalMs finds it
    const runs: { started: number; ended: number }[] = [];
    let ticking = true;
    const ticker = (async () => {
      while (ticking) {
        const started = performance.now();
        await stack.reconcileOnce();
        runs.push({ started, ended: performance.now() });
        await sleep(Math.max(0, intervalMs - (performance.now() - started)));
      }
    })();
    const reconcilerPath: number[] = [];
    const waits: number[] = [];
    const runTimes: number[] = [];
    const reconcilerTasks = Math.max(10, Math.floor(tasks / 2));
    try {
      await Promise.all(
        Array.from({ length: 3 }, async (_, worker) => {
          for (let i = worker; i < reconcilerTasks; i += 3) {
            const t = await submit(`a boat whose last webhook is lost ${i} --sim-drop-final`);
            const lost = await upstreamSuccess(t.upstreamTaskId);
            const seen = await readUntilSuccess(t.id, 5);
            reconcilerPath.push(seen - lost);
            // the run that found it: the first one that started after the webhook was lost
            const run = runs.find((r) => r.started >= lost);
            if (run) {
              waits.push(run.started - lost);
              runTimes.push(run.ended - run.started);
            }
          }
        }),
      );
    } finally {
      ticking = false;
      await ticker;
    }
    options.log?.("latency: reconciler path measured");

    const markdown = [
      `Method: the local stack (DynamoDB Local, the simulator at 40 ms per step, one HTTP server routing like API Gateway). *Webhook path*: ${tasks} tasks, one at a time; from the instant the simulator moves the job to SUCCESS and hands its webhook to its sender, until this process, reading \`GET /v1/tasks/{id}\` back to back, first reads SUCCESS. Its floor, same run: the same webhook POSTed on a fresh connection to the reference app (one conditional UpdateItem), then one read. *Reconciler path*: ${reconcilerTasks} tasks whose final webhook is dropped (\`--sim-drop-final\`), the reconciler run every ${intervalMs} ms; from the lost webhook until the task reads SUCCESS, split into the wait for the next run and that run (Query, list-by-condition, UpdateItem). On AWS the interval is 60 s, so expect the wait to average ~30 s there; the run's own part is what this code controls.`,
      "",
      table(
        ["path", "p50", "p90", "max"],
        [
          ["webhook path: SUCCESS sent → task reads SUCCESS", ...stats(webhookPath)],
          ["floor: reference app's write (fresh connection) + one read", ...stats(floor)],
          [
            "↳ a SUCCESS webhook alone, POSTed on a fresh connection to the stack",
            ...stats(hookAlone.stack),
          ],
          ["↳ the same, to the reference app", ...stats(hookAlone.reference)],
          [
            `reconciler path: webhook lost → task reads SUCCESS (every ${intervalMs} ms)`,
            ...stats(reconcilerPath),
          ],
          ["↳ of which: waiting for the next run", ...stats(waits)],
          ["↳ of which: the run that applied it", ...stats(runTimes)],
        ],
      ),
    ].join("\n");
    return {
      title: "4. End-to-end latency",
      markdown,
      targets: [],
      data: {
        webhookP50: percentile(webhookPath, 50),
        floorP50: percentile(floor, 50),
      },
    };
  } finally {
    await reference.stop();
    await stack.stop();
  }
}

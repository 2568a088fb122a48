import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { openSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process_ from "node:process";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { SLOT_RELEASE_GRACE_SECONDS } from "../functions/core/reconcile.ts";
import { TaskStatus, taskRank } from "../functions/core/task.ts";
import { createDocumentClient } from "../functions/deps.ts";
import { keys } from "../functions/store/keys.ts";
import { freePort, startDynamoDbLocal } from "../local/dynamodb.ts";
import { startDynamoDbProxy } from "../local/dynamodb-proxy.ts";
import { startSimulator } from "../local/simulator/index.ts";
import { rng, SUBMIT_FAULTS, sleep } from "./chaos-run.ts";

/**
 * Chaos v2: chaos v1's faults (lost, duplicated and shuffled webhooks, failed submits, clients
 * resending with the same Idempotency-Key) plus DynamoDB throttling on a share of requests and
 * `kill -9` of the whole paperboat process (`npm start`'s `local/start.ts`: API, reconciler,
 * dispatcher, copier) several times mid-run, each time restarted on the same DATA_DIR. DynamoDB
 * and the upstream are not killed: on AWS they outlive our functions. Every task gets a
 * webhookUrl; a receiver records each event by `webhook-id`, deduplicating as receivers must.
 * Shared by `bench/chaos-crash.ts` (full form) and `test/e2e/chaos-crash.test.ts` (short form).
 */
export interface CrashChaosOptions {
  tasks: number;
  concurrency: number;
  dropAllShare: number;
  duplicateReorderShare: number;
  submitFailure: number;
  clientRetryShare: number;
  taskFailure: number;
  /** Share of DynamoDB data requests answered with a throttling error. */
  throttleShare: number;
  /** How many times the stack is killed with SIGKILL, spread evenly over the submissions. */
  kills: number;
  reconcileIntervalSeconds: number;
  stepMs: number;
  seed: number;
  /** How long to wait for convergence and for every event after the upstream is idle. */
  settleSeconds: number;
  /** An existing DynamoDB Local; otherwise one is started (in memory) and stopped. */
  dynamodbEndpoint?: string;
  /**
   * Wait, after everything converged, for the owner's slots to come back (a release lost to a
   * throttle or a kill is redone by the reconciler past its grace period): minutes, so the
   * full run only.
   */
  waitForSlots?: boolean;
  log?: (line: string) => void;
}

export interface CrashChaosReport {
  options: Omit<CrashChaosOptions, "log" | "dynamodbEndpoint">;
  requests: number;
  accepted: number;
  refusedAtSubmit: Record<string, number>;
  kills: { afterRequests: number; restartMs: number }[];
  clientRetriesAfterCrash: number;
  terminalMatchingTruth: number;
  lost: { taskId: string; ours: string; truth: string }[];
  regressions: number;
  pollReads: number;
  jobsPerAccepted: { exactlyOne: number; none: number; more: number };
  jobsForRefused: number;
  inconsistentReplays: number;
  replays: number;
  events: {
    expected: number;
    delivered: number;
    missing: string[];
    wrongType: number;
    /** Deliveries received in all (redeliveries of the same webhook-id included). */
    received: number;
    /** Distinct events beyond one terminal event per task (a second id for the same change). */
    extra: number;
    /** From the upstream going idle to the last expected event received; -1 if some never came. */
    drainedMs: number;
  };
  dynamodb: { total: Record<string, number>; throttled: number };
  /** The owner's slots still taken once every task is finished (the quota item's `running`). */
  slotsHeld: number;
  durationMs: number;
}

const DATA_OPERATIONS = [
  "GetItem",
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "Query",
  "TransactWriteItems",
  "BatchWriteItem",
  "BatchGetItem",
];

const ROOT = join(import.meta.dirname, "..");

interface Answer {
  status: number;
  text: string;
}

/** The receiver of every task's events: webhook-id → the event's type, task and status. */
async function startReceiver() {
  const events = new Map<string, { type: string; taskId: string; status: string }>();
  let received = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received++;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const id = String(request.headers["webhook-id"] ?? body.id);
        events.set(id, { type: body.type, taskId: body.data?.id, status: body.data?.status });
      } catch {}
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    events,
    received: () => received,
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** Reads tasks 16 at a time (a sequential pass over 10,000 tasks takes minutes on 2 cores). */
async function readTasks(
  url: string,
  headers: Record<string, string>,
  ids: string[],
): Promise<Map<string, { status: string; buttons: unknown[] }>> {
  const read = new Map<string, { status: string; buttons: unknown[] }>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        const response = await fetch(`${url}/v1/tasks/${id}`, { headers });
        read.set(id, (await response.json()) as { status: string; buttons: unknown[] });
      }
    }),
  );
  return read;
}

export async function runCrashChaos(options: CrashChaosOptions): Promise<CrashChaosReport> {
  const log = options.log ?? (() => {});
  const random = rng(options.seed);
  const faultRandom = rng(options.seed + 1);
  const started = Date.now();
  const db = options.dynamodbEndpoint ? null : await startDynamoDbLocal();
  const proxy = await startDynamoDbProxy(options.dynamodbEndpoint ?? (db?.endpoint as string));
  let throttled = 0;
  const simKey = `sim_${randomBytes(8).toString("hex")}`;
  const simulator = await startSimulator({
    apiKey: simKey,
    stepMs: options.stepMs,
    seed: options.seed,
    faults: {
      submitFailure: options.submitFailure,
      submitFailureKinds: SUBMIT_FAULTS,
      taskFailure: options.taskFailure,
    },
  });
  const receiver = await startReceiver();
  const dataDir = await mkdtemp(join(tmpdir(), "paperboat-chaos-crash-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const apiKey = `chaos_${randomBytes(12).toString("hex")}`;
  const env = {
    ...process.env,
    PORT: String(port),
    DATA_DIR: dataDir,
    DYNAMODB_ENDPOINT: proxy.endpoint,
    TABLE_NAME: `chaos_crash_${Date.now().toString(36)}`,
    MJ_API_BASE_URL: simulator.url,
    MJ_API_KEY: simKey,
    API_KEYS: `chaos:${apiKey}`,
    CALLBACK_SECRET: randomBytes(32).toString("base64url"),
    RECONCILE_INTERVAL_SECONDS: String(options.reconcileIntervalSeconds),
    UPSTREAM_TIMEOUT_MS: "1000",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };

  let child: ChildProcess | null = null;
  let up: Promise<void> = Promise.resolve();
  async function startChild(): Promise<void> {
    // CHAOS_STACK_LOG=<file>: the stack's own log lines (JSON), appended across restarts
    const logFile = process_.env.CHAOS_STACK_LOG;
    const process = spawn("node", ["--import", "tsx", "local/start.ts"], {
      cwd: ROOT,
      env,
      stdio: ["ignore", logFile ? openSync(logFile, "a") : "ignore", "pipe"],
    });
    let stderr = "";
    process.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-2000);
    });
    child = process;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (process.exitCode !== null) throw new Error(`the stack exited at start: ${stderr}`);
      const healthy = await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (healthy) return;
      await sleep(100);
    }
    throw new Error(`the stack did not come up within 60 s: ${stderr}`);
  }
  async function killChild(): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((ok) => running.once("exit", () => ok()));
    running.kill("SIGKILL");
    await exited;
  }

  try {
    await startChild();
    // faults only once the table exists: DynamoDB throttles data requests, not the start-up
    proxy.reset();
    proxy.setFault({
      kind: "throttle",
      operations: DATA_OPERATIONS,
      probability: options.throttleShare,
      random: () => {
        const r = faultRandom();
        if (r < options.throttleShare) throttled++;
        return r;
      },
    });
    const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };

    let clientRetriesAfterCrash = 0;
    /**
     * One request as a careful client sends it: until it gets an answer that is not "the
     * service is down or busy with this key" (connection refused or reset, 503, 409 still
     * running), it sends the same body with the same key again.
     */
    async function post(body: string, key: string): Promise<Answer> {
      for (;;) {
        await up;
        try {
          const response = await fetch(`${url}/v1/imagine`, {
            method: "POST",
            headers: { ...headers, "idempotency-key": key },
            body,
          });
          const text = await response.text();
          if (response.status !== 503 && response.status !== 409)
            return { status: response.status, text };
        } catch {
          clientRetriesAfterCrash++;
        }
        await sleep(200);
      }
    }

    const accepted = new Map<string, string>();
    const knownTasks = new Set<string>();
    const refused: Record<string, number> = {};
    const refusedTaskIds: string[] = [];
    let inconsistentReplays = 0;
    let replays = 0;

    async function client(i: number) {
      const roll = random();
      const words =
        roll < options.dropAllShare
          ? " --sim-drop-hooks"
          : roll < options.dropAllShare + options.duplicateReorderShare
            ? " --sim-duplicate --sim-reorder"
            : "";
      const body = JSON.stringify({
        prompt: `crash boat ${i}${words}`,
        webhookUrl: receiver.url,
        metadata: { i },
      });
      const key = `crash-${options.seed}-${i}`;
      const first = await post(body, key);
      const answers = [first];
      if (random() < options.clientRetryShare) {
        answers.push(await post(body, key));
        replays++;
      }
      if (answers.some((a) => a.status !== first.status || a.text !== first.text))
        inconsistentReplays++;
      const parsed = JSON.parse(first.text);
      if (first.status === 202) {
        accepted.set(key, parsed.id);
        knownTasks.add(parsed.id);
      } else {
        const label = `${first.status} ${parsed.error?.code ?? "?"}`;
        refused[label] = (refused[label] ?? 0) + 1;
        if (parsed.task?.id) {
          refusedTaskIds.push(parsed.task.id);
          knownTasks.add(parsed.task.id);
        }
      }
    }

    let regressions = 0;
    let pollReads = 0;
    let polling = true;
    const highest = new Map<string, number>();
    async function poller() {
      while (polling) {
        const ids = [...accepted.values()];
        await sleep(ids.length === 0 ? 20 : 5);
        if (ids.length === 0) continue;
        const id = ids[Math.floor(random() * ids.length)] as string;
        try {
          await up;
          const response = await fetch(`${url}/v1/tasks/${id}`, { headers });
          pollReads++;
          if (response.status !== 200) continue;
          const task = (await response.json()) as { status: string; progress: number };
          const rank = taskRank(TaskStatus.parse(task.status), task.progress);
          if (rank < (highest.get(id) ?? -1)) regressions++;
          highest.set(id, Math.max(rank, highest.get(id) ?? -1));
        } catch {}
      }
    }
    const pollers = Array.from({ length: 4 }, poller);

    const kills: CrashChaosReport["kills"] = [];
    const killAt = Array.from({ length: options.kills }, (_, k) =>
      Math.floor((options.tasks * (k + 1)) / (options.kills + 1)),
    );
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < options.tasks) {
          const i = next++;
          if (killAt.includes(i)) {
            // mid-run, with requests in flight, submits half done and deliveries claimed
            const at = Date.now();
            let restarted: () => void = () => {};
            up = new Promise<void>((ok) => {
              restarted = ok;
            });
            await killChild();
            log(`killed the stack (SIGKILL) after ${i} requests`);
            await startChild();
            restarted();
            kills.push({ afterRequests: i, restartMs: Date.now() - at });
          }
          await client(i);
        }
      }),
    );
    log(
      `submitted ${options.tasks} requests in ${Date.now() - started} ms, ${accepted.size} accepted, ${kills.length} kills`,
    );

    await simulator.idle();
    const simulatorDone = Date.now();
    log(`the upstream is idle after ${simulatorDone - started} ms`);
    const jobsByTask = new Map<
      string,
      { status: string; imageUrl: string | null; buttons: number }[]
    >();
    for (const job of simulator.tasks()) {
      const taskId = job.state?.split(".")[1];
      if (!taskId) continue;
      const list = jobsByTask.get(taskId) ?? [];
      list.push({ status: job.status, imageUrl: job.imageUrl, buttons: job.buttons.length });
      jobsByTask.set(taskId, list);
    }

    const deadline = simulatorDone + options.settleSeconds * 1000;
    let pending = [...accepted.values()];
    let lost: CrashChaosReport["lost"] = [];
    let matching = 0;
    let convergedLastAt = Date.now();
    for (;;) {
      lost = [];
      const read = await readTasks(url, headers, pending);
      for (const id of pending) {
        const task = read.get(id) as { status: string; buttons: unknown[] };
        const truth = jobsByTask.get(id)?.[0];
        // a task whose job never started upstream must have failed; otherwise it ends as its job did
        const same =
          truth === undefined
            ? task.status === "FAILURE"
            : task.status === truth.status &&
              (truth.status !== "SUCCESS" || task.buttons.length === truth.buttons);
        if (same) matching++;
        else lost.push({ taskId: id, ours: task.status, truth: truth?.status ?? "no job" });
      }
      // as for the events below: the one local process drains its reconciler and webhook
      // backlog after the clients stop, so wait while tasks still converge, and past the settle
      // time give up only after a minute in which none did
      if (lost.length < pending.length) convergedLastAt = Date.now();
      pending = lost.map((l) => l.taskId);
      if (lost.length === 0) break;
      if (Date.now() > deadline && Date.now() - convergedLastAt > 60_000) break;
      await sleep(500);
    }
    polling = false;
    await Promise.all(pollers);
    log(
      `tasks converged (or gave up) after ${Date.now() - started} ms, ${lost.length} not converged`,
    );

    // every task we know of (accepted, or refused with its recorded task) ends in exactly one
    // terminal event: task.succeeded for SUCCESS, task.failed for FAILURE and CANCEL
    const finalStatus = new Map<string, string>();
    for (const [id, task] of await readTasks(url, headers, [...knownTasks])) {
      finalStatus.set(id, task.status);
    }
    const expectedType = (status: string) =>
      status === "SUCCESS"
        ? "task.succeeded"
        : status === "FAILURE" || status === "CANCEL"
          ? "task.failed"
          : null;
    let missing: string[] = [];
    let wrongType = 0;
    let extra = 0;
    let delivered = 0;
    let lastReceived = -1;
    let lastProgressAt = Date.now();
    let eventsDrainedMs = -1;
    for (;;) {
      const byTask = new Map<string, string[]>();
      for (const event of receiver.events.values()) {
        const list = byTask.get(event.taskId) ?? [];
        list.push(event.type);
        byTask.set(event.taskId, list);
      }
      missing = [];
      wrongType = 0;
      extra = 0;
      delivered = 0;
      for (const [id, status] of finalStatus) {
        const want = expectedType(status);
        if (!want) continue;
        const got = byTask.get(id) ?? [];
        if (got.includes(want)) delivered++;
        else missing.push(id);
        wrongType += got.filter((type) => type !== want).length;
        extra += Math.max(0, got.filter((type) => type === want).length - 1);
      }
      // The local stack runs every function in one process: under load its dispatcher falls
      // behind and drains the backlog once the clients stop. Wait while deliveries still
      // arrive; give up only after a minute without a new one (or past the settle time, then).
      if (receiver.received() !== lastReceived) {
        lastReceived = receiver.received();
        lastProgressAt = Date.now();
      }
      if (missing.length === 0) {
        eventsDrainedMs = Date.now() - simulatorDone;
        break;
      }
      if (Date.now() > deadline && Date.now() - lastProgressAt > 60_000) break;
      await sleep(500);
    }
    const expected = [...finalStatus.values()].filter((s) => expectedType(s) !== null).length;

    // every task is finished: the owner's slots must all be back (read past the proxy's faults)
    const store = createDocumentClient({ endpoint: options.dynamodbEndpoint ?? db?.endpoint });
    const slotsHeld = async () => {
      const { Item } = await store.send(
        new GetCommand({ TableName: env.TABLE_NAME, Key: keys.quota("chaos") }),
      );
      return Number(Item?.running ?? 0);
    };
    let held = await slotsHeld();
    if (options.waitForSlots) {
      const until = Date.now() + (SLOT_RELEASE_GRACE_SECONDS + 60) * 1000;
      while (held > 0 && Date.now() < until) {
        await sleep(2000);
        held = await slotsHeld();
      }
    }
    log(`slots still held: ${held}`);

    const jobsPerAccepted = { exactlyOne: 0, none: 0, more: 0 };
    for (const id of accepted.values()) {
      const n = jobsByTask.get(id)?.length ?? 0;
      if (n === 1) jobsPerAccepted.exactlyOne++;
      else if (n === 0) jobsPerAccepted.none++;
      else jobsPerAccepted.more++;
    }
    const jobsForRefused = refusedTaskIds.reduce(
      (n, id) => n + (jobsByTask.get(id)?.length ?? 0),
      0,
    );
    const { log: _log, dynamodbEndpoint: _endpoint, ...shown } = options;
    return {
      options: shown,
      requests: options.tasks,
      accepted: accepted.size,
      refusedAtSubmit: refused,
      kills,
      clientRetriesAfterCrash,
      terminalMatchingTruth: matching,
      lost,
      regressions,
      pollReads,
      jobsPerAccepted,
      jobsForRefused,
      inconsistentReplays,
      replays,
      events: {
        expected,
        delivered,
        missing,
        wrongType,
        received: receiver.received(),
        extra,
        drainedMs: eventsDrainedMs,
      },
      dynamodb: { total: proxy.counts(), throttled },
      slotsHeld: held,
      durationMs: Date.now() - started,
    };
  } finally {
    await killChild();
    await receiver.stop();
    await simulator.stop();
    await proxy.stop();
    await db?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

import { randomBytes } from "node:crypto";
import type { Overrides } from "../functions/compose/settings.ts";
import { TaskStatus, taskRank } from "../functions/core/task.ts";
import { type DynamoDbLocal, freePort, startDynamoDbLocal } from "../local/dynamodb.ts";
import { type DynamoDbProxy, startDynamoDbProxy } from "../local/dynamodb-proxy.ts";
import { SubmitFaultKind } from "../local/simulator/faults.ts";
import { type Simulator, startSimulator } from "../local/simulator/index.ts";
import { startStack } from "../local/stack.ts";

/**
 * The chaos run: many imagine requests against the local stack while the simulator loses,
 * duplicates and reorders webhooks and fails submits, with clients that retry with the same
 * Idempotency-Key. It then checks every task against the simulator's truth. Shared by
 * `bench/chaos.ts` (full form) and `test/e2e/chaos.test.ts` (short form, in CI).
 */
export interface ChaosOptions {
  tasks: number;
  /** Client requests in flight at once. */
  concurrency: number;
  /** Share of tasks whose webhooks are all dropped (only the reconciler can finish them). */
  dropAllShare: number;
  /** Share of tasks whose webhooks are duplicated and delivered in shuffled order. */
  duplicateReorderShare: number;
  /** Probability that a submit fails upstream (5xx, timeout, garbage, queue full, refusal...). */
  submitFailure: number;
  /** Share of client requests whose response is "lost", so the client sends it again. */
  clientRetryShare: number;
  /** Probability that an accepted job ends in FAILURE upstream. */
  taskFailure: number;
  reconcileIntervalSeconds: number;
  stepMs: number;
  seed: number;
  /** An existing DynamoDB Local; otherwise one is started (in memory) and stopped. */
  dynamodbEndpoint?: string;
  /**
   * Two upstreams (docs/upstreams.md "Several upstreams"): a flaky simulator listed first,
   * ahead of the usual one. It refuses every connection during the first `refusingMs` of each
   * `cycleMs` (its URL then points at a closed port: a real ECONNREFUSED), and fails
   * `submitFailure` of the submits it gets with 5xx, a full queue, an empty account pool, a
   * timeout, a lost answer or garbage. Jobs must move on only from what started nothing.
   */
  failover?: { refusingMs: number; cycleMs: number; submitFailure: number };
  log?: (line: string) => void;
}

export interface ChaosReport {
  options: Omit<ChaosOptions, "log" | "dynamodbEndpoint">;
  requests: number;
  accepted: number;
  refusedAtSubmit: Record<string, number>;
  terminalMatchingTruth: number;
  lost: { taskId: string; ours: string; truth: string }[];
  regressions: number;
  pollReads: number;
  jobsPerAccepted: { exactlyOne: number; none: number; more: number };
  /** With `failover`: jobs each upstream started, and the submits the flaky one answered. */
  jobsPerUpstream?: { flaky: number; steady: number; flakySubmits: number };
  /** Jobs started for requests answered with an error, other than lost answers: must be 0. */
  jobsForRefused: number;
  /**
   * Jobs started for requests answered 502 because the upstream withheld its answer
   * (acceptedTimeout) and no webhook proved the job within the upstream timeout: the contract's
   * "FAILURE unless proven started", the one gap no poll can close.
   */
  lostAnswers: number;
  inconsistentReplays: number;
  replays: number;
  conflictsWhileRunning: number;
  convergenceMs: number;
  /** Per accepted task, upstream finish → our terminal write: p50, p99, max. */
  lagMs: Record<"webhooks" | "reconciler", { p50: number; p99: number; max: number }>;
  reconcileRuns: number;
  dynamodb: { total: Record<string, number>; perTask: Record<string, number> };
  durationMs: number;
}

/** mulberry32: the run is reproducible from its seed. */
export function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function summarize(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  text: string;
}

const SIM_KEY = "sim-chaos-key";

/**
 * The flaky upstream's submit faults: the ones that start nothing (a job moves on from these)
 * and the ones that may hide a started job (it must not).
 */
const FLAKY_FAULTS: SubmitFaultKind[] = [
  "http500",
  "queueFull",
  "noAccount",
  "timeout",
  "acceptedTimeout",
  "garbage",
];

/** Every submit fault the simulator knows, lost answers (acceptedTimeout) included. */
export const SUBMIT_FAULTS = SubmitFaultKind.options;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const random = rng(options.seed);
  const started = Date.now();
  let db: DynamoDbLocal | null = null;
  let proxy: DynamoDbProxy | null = null;
  let stack: Awaited<ReturnType<typeof startStack>> | null = null;
  const stops: (() => Promise<void>)[] = [];
  try {
    if (!options.dynamodbEndpoint) db = await startDynamoDbLocal();
    const endpoint = options.dynamodbEndpoint ?? (db as DynamoDbLocal).endpoint;
    proxy = await startDynamoDbProxy(endpoint);
    const apiKey = `chaos_${randomBytes(12).toString("hex")}`;
    let reconcileRuns = 0;
    const reconcileLog: { at: number; durationMs: number; applied: number; checked: number }[] = [];
    let flaky: Simulator | null = null;
    let failoverOverrides: Overrides = {};
    if (options.failover) {
      const { refusingMs, cycleMs, submitFailure } = options.failover;
      flaky = await startSimulator({
        // the key the stack's own simulator takes: one MJ_API_KEY serves both upstreams
        apiKey: SIM_KEY,
        stepMs: options.stepMs,
        seed: options.seed + 1,
        faults: {
          submitFailure,
          submitFailureKinds: FLAKY_FAULTS,
          taskFailure: options.taskFailure,
        },
      });
      const flakyUrl = flaky.url;
      const closedUrl = `http://127.0.0.1:${await freePort()}`;
      const refusing = () => (Date.now() - started) % cycleMs < refusingMs;
      failoverOverrides = {
        fetch: (input, init) => {
          const target = String(input instanceof Request ? input.url : input);
          const refused = target.startsWith(flakyUrl) && refusing();
          return fetch(refused ? closedUrl + target.slice(flakyUrl.length) : input, init);
        },
        // probed again soon, so the run sees it go down and come back many times
        breaker: { cooldownMs: Math.max(200, cycleMs / 2) },
      };
      stops.push(() => (flaky as Simulator).stop());
    }
    stack = await startStack({
      tableName: `chaos_${Date.now().toString(36)}`,
      ...(flaky ? { upstreamsBefore: [flaky.url], overrides: failoverOverrides } : {}),
      dynamodbEndpoint: proxy.endpoint,
      callbackSecret: randomBytes(32).toString("base64url"),
      apiKeys: [{ owner: "chaos", key: apiKey }],
      reconcileIntervalSeconds: options.reconcileIntervalSeconds,
      upstreamTimeoutMs: 1000,
      simulator: {
        apiKey: SIM_KEY,
        stepMs: options.stepMs,
        seed: options.seed,
        faults: {
          submitFailure: options.submitFailure,
          submitFailureKinds: SUBMIT_FAULTS,
          taskFailure: options.taskFailure,
        },
      },
      log: {
        info(message, fields) {
          if (message !== "reconcile finished") return;
          reconcileRuns++;
          const f = fields as { durationMs: number; applied: number; checked: number };
          reconcileLog.push({
            at: Date.now(),
            durationMs: f.durationMs,
            applied: f.applied,
            checked: f.checked,
          });
        },
        warn() {},
        error(message, fields) {
          log(`error: ${message} ${JSON.stringify(fields)}`);
        },
      },
    });
    proxy.reset();
    const url = stack.url;
    const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };

    async function post(body: string, key: string): Promise<Answer> {
      const response = await fetch(`${url}/v1/imagine`, {
        method: "POST",
        headers: { ...headers, "idempotency-key": key },
        body,
      });
      return { status: response.status, text: await response.text() };
    }

    // --- clients ---------------------------------------------------------------------------
    const accepted = new Map<string, string>(); // key → task id
    const category = new Map<string, "webhooks" | "reconciler">(); // task id → which path finishes it
    const refused: Record<string, number> = {};
    const refusedTaskIds: string[] = [];
    const refusedLabel = new Map<string, string>();
    let inconsistentReplays = 0;
    let replays = 0;
    let conflictsWhileRunning = 0;

    async function client(i: number) {
      const roll = random();
      const words =
        roll < options.dropAllShare
          ? " --sim-drop-hooks"
          : roll < options.dropAllShare + options.duplicateReorderShare
            ? " --sim-duplicate --sim-reorder"
            : "";
      const body = JSON.stringify({ prompt: `chaos boat ${i}${words}`, metadata: { i } });
      const key = `chaos-${options.seed}-${i}`;
      const retries = random() < options.clientRetryShare;
      const attempts: Promise<Answer>[] = [post(body, key)];
      if (retries) {
        // the first response is "lost": the client sends the same request again, soon
        attempts.push(sleep(Math.floor(random() * 50)).then(() => post(body, key)));
      }
      let answers = await Promise.all(attempts);
      conflictsWhileRunning += answers.filter((a) => a.status === 409).length;
      // a client told "still running" asks again until it gets the answer
      while (answers.every((a) => a.status === 409)) {
        await sleep(200);
        answers = [await post(body, key)];
      }
      const final = answers.filter((a) => a.status !== 409);
      if (retries) {
        const again = await post(body, key);
        final.push(again);
        replays++;
      }
      const first = final[0] as Answer;
      if (final.some((a) => a.status !== first.status || a.text !== first.text))
        inconsistentReplays++;
      const parsed = JSON.parse(first.text);
      if (first.status === 202) {
        accepted.set(key, parsed.id);
        category.set(parsed.id, words.includes("drop-hooks") ? "reconciler" : "webhooks");
      } else {
        const label = `${first.status} ${parsed.error?.code ?? "?"}`;
        refused[label] = (refused[label] ?? 0) + 1;
        if (parsed.task?.id) refusedTaskIds.push(parsed.task.id);
        if (parsed.task?.id) refusedLabel.set(parsed.task.id, `${label}: ${parsed.error?.message}`);
      }
    }

    // --- readers that poll tasks and watch for any step backwards ---------------------------
    let regressions = 0;
    let pollReads = 0;
    let polling = true;
    const highest = new Map<string, number>();
    async function poller() {
      while (polling) {
        const ids = [...accepted.values()];
        if (ids.length === 0) {
          await sleep(20);
          continue;
        }
        const id = ids[Math.floor(random() * ids.length)] as string;
        await sleep(5); // readers, not a load test: leave the event loop to the service
        const response = await fetch(`${url}/v1/tasks/${id}`, { headers });
        pollReads++;
        if (response.status !== 200) continue;
        const task = (await response.json()) as { status: string; progress: number };
        const rank = taskRank(TaskStatus.parse(task.status), task.progress);
        if (rank < (highest.get(id) ?? -1)) regressions++;
        highest.set(id, Math.max(rank, highest.get(id) ?? -1));
      }
    }
    const pollers = Array.from({ length: 4 }, poller);

    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < options.tasks) await client(next++);
      }),
    );
    log(`submitted ${options.tasks} requests, ${accepted.size} accepted`);

    // --- convergence: every accepted task terminal and equal to the simulator's truth ---------
    const simulator = stack.simulator;
    if (!simulator) throw new Error("the chaos run needs the simulator");
    // with failover, the jobs of both upstreams are the truth
    const simulators = flaky ? [flaky, simulator] : [simulator];
    await Promise.all(simulators.map((s) => s.idle()));
    const simulatorDone = Date.now();
    const jobsByTask = new Map<
      string,
      { id: string; status: string; imageUrl: string | null; buttons: number; finishTime: number }[]
    >();
    for (const job of simulators.flatMap((s) => s.tasks())) {
      const taskId = job.state?.split(".")[1];
      if (!taskId) continue;
      const list = jobsByTask.get(taskId) ?? [];
      list.push({
        id: job.id,
        status: job.status,
        imageUrl: job.imageUrl,
        buttons: job.buttons.length,
        finishTime: job.finishTime ?? 0,
      });
      jobsByTask.set(taskId, list);
    }
    const deadline = simulatorDone + (options.reconcileIntervalSeconds * 3 + 30) * 1000;
    // read only the tasks not yet seen converged, so each round is short and the time is exact
    let pending = [...accepted.values()];
    let lost: ChaosReport["lost"] = [];
    let matching = 0;
    let convergedAt = 0;
    // when the last task's final write happened (server clock, same machine): exact, unlike the
    // moment this loop happens to see it
    let lastWriteAt = 0;
    // per task: from the upstream finishing the job to our record of it
    const webhookLags: number[] = [];
    const reconcilerLags: number[] = [];
    for (;;) {
      lost = [];
      const reads = await Promise.all(
        pending.map(async (id) => {
          const response = await fetch(`${url}/v1/tasks/${id}`, { headers });
          return {
            id,
            task: (await response.json()) as {
              status: string;
              imageUrl: string | null;
              buttons: unknown[];
              updatedAt: string;
            },
          };
        }),
      );
      for (const { id, task } of reads) {
        const truth = jobsByTask.get(id)?.[0];
        const same =
          truth !== undefined &&
          task.status === truth.status &&
          (truth.status !== "SUCCESS" ||
            (task.imageUrl === truth.imageUrl && task.buttons.length === truth.buttons));
        if (same) {
          matching++;
          lastWriteAt = Math.max(lastWriteAt, Date.parse(task.updatedAt));
          const lag = Math.max(0, Date.parse(task.updatedAt) - (truth?.finishTime ?? 0));
          (category.get(id) === "reconciler" ? reconcilerLags : webhookLags).push(lag);
        } else lost.push({ taskId: id, ours: task.status, truth: truth?.status ?? "no job" });
      }
      pending = lost.map((l) => l.taskId);
      if (lost.length === 0) {
        convergedAt = Date.now();
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(50);
    }
    polling = false;
    await Promise.all(pollers);
    for (const run of reconcileLog.filter((r) => r.at > simulatorDone - 5000)) {
      log(
        `reconcile ended ${run.at - simulatorDone} ms after the simulator: ${run.durationMs} ms, checked ${run.checked}, applied ${run.applied}`,
      );
    }

    const jobsPerAccepted = { exactlyOne: 0, none: 0, more: 0 };
    for (const id of accepted.values()) {
      const n = jobsByTask.get(id)?.length ?? 0;
      if (n === 1) jobsPerAccepted.exactlyOne++;
      else if (n === 0) jobsPerAccepted.none++;
      else jobsPerAccepted.more++;
    }
    const withheld = new Set(simulators.flatMap((s) => s.stats().answersWithheld));
    let jobsForRefused = 0;
    let lostAnswers = 0;
    for (const id of refusedTaskIds) {
      for (const job of jobsByTask.get(id) ?? []) {
        if (withheld.has(job.id)) lostAnswers++;
        else jobsForRefused++;
      }
    }

    const total = proxy.counts();
    const perTask = Object.fromEntries(
      Object.entries(total).map(([op, n]) => [op, Math.round((n / options.tasks) * 100) / 100]),
    );
    const { log: _log, dynamodbEndpoint: _endpoint, ...shown } = options;
    return {
      options: shown,
      requests: options.tasks,
      accepted: accepted.size,
      refusedAtSubmit: refused,
      terminalMatchingTruth: matching,
      lost,
      regressions,
      pollReads,
      jobsPerAccepted,
      ...(flaky
        ? {
            jobsPerUpstream: {
              flaky: flaky.stats().jobsCreated,
              steady: simulator.stats().jobsCreated,
              flakySubmits: flaky.stats().submits,
            },
          }
        : {}),
      jobsForRefused,
      lostAnswers,
      inconsistentReplays,
      replays,
      conflictsWhileRunning,
      convergenceMs: convergedAt ? Math.max(0, lastWriteAt - simulatorDone) : -1,
      lagMs: { webhooks: summarize(webhookLags), reconciler: summarize(reconcilerLags) },
      reconcileRuns,
      dynamodb: { total, perTask },
      durationMs: Date.now() - started,
    };
  } finally {
    await stack?.stop();
    for (const stop of stops) await stop();
    await proxy?.stop();
    await db?.stop();
  }
}

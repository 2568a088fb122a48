import { type FairKey, type FairLimits, forEachLimited, runFairly } from "./concurrency.ts";
import type {
  AttemptRecord,
  DeliveryAttempt,
  DeliveryStore,
  DispatchWork,
  NewDelivery,
  StoredDelivery,
} from "./deliveries.ts";
import type { WebhookEndpoint } from "./endpoints.ts";
import { type OutboxEvent, type TaskEvent, taskEvent } from "./events.ts";
import type { Clock, Logger } from "./ports.ts";
import { isTerminal, type Task } from "./task.ts";

/** One HTTP attempt's outcome, as the webhook transport reports it (it never throws). */
export interface AttemptResult {
  /** The receiver answered 2xx. */
  ok: boolean;
  /** Null when there was no HTTP answer. */
  statusCode: number | null;
  latencyMs: number;
  /** The start of the response body (UTF-8, cut to whole characters), null if none. */
  responseBody: string | null;
  /** `<code>: <reason>`; it names the host at most, never the URL's path or query. */
  error: string | null;
  /** Retry-After (seconds or an HTTP date) in seconds, whatever the status. */
  retryAfterSeconds: number | null;
  /** The receiver answered 410 Gone: stop delivering to it. */
  gone: boolean;
}

/** POSTs one signed webhook (functions/webhooks/sender.ts). */
export interface WebhookTransport {
  send(request: {
    url: string;
    headers: Record<string, string>;
    body: string;
  }): Promise<AttemptResult>;
}

/** Publishes one event to the event bus (functions/events/bus.ts); throws when it was not. */
export interface EventBusPort {
  publish(event: TaskEvent): Promise<void>;
}

export interface DispatchDeps {
  deliveries: DeliveryStore;
  /** The Standard Webhooks headers of one attempt, signed with the owner's current secret(s). */
  sign(
    owner: string,
    message: { id: string; timestampSeconds: number; body: string },
  ): Promise<Record<string, string>>;
  webhooks: WebhookTransport;
  /**
   * An owner's account webhook endpoints (read once per owner per run); not given: none.
   */
  endpoints?: (owner: string) => Promise<WebhookEndpoint[]>;
  /** null: no bus configured (events go to webhooks only). */
  bus: EventBusPort | null;
  /** The delay before the next attempt after `failedAttempts` failures, or null: no more. */
  retryDelaySeconds(failedAttempts: number, retryAfterSeconds: number | null): number | null;
  /** How many attempts a delivery gets (the schedule's length + 1). */
  maxAttempts: number;
  clock: Clock;
  log: Logger;
}

export interface DispatchReport {
  outboxes: number;
  queued: number;
  attempts: number;
  delivered: number;
  retrying: number;
  dead: number;
  stopped: number;
  /** Work another dispatcher had already taken. */
  skipped: number;
  /**
   * Work left due for a later run, untouched and no attempt counted: its host timed out earlier
   * in this run, or the run's time was up.
   */
  deferred: number;
}

/** A claimed delivery is out of other dispatchers' reach this long (an attempt takes ≤ 10 s). */
const LEASE_MS = 60_000;
/** Deliveries written in one transaction with their outbox consumption (DynamoDB allows 100). */
const MAX_DELIVERIES_PER_QUEUE = 90;
/**
 * Attempts in flight at once within a run: 8 in all, 4 for one owner, 2 to one receiver host, so
 * a slow receiver holds at most two slots and one owner at most half of them; everyone else's
 * deliveries go ahead in the others (issue 17, point 4).
 */
export const FAIRNESS: FairLimits = { total: 8, perOwner: 4, perHost: 2, maxWaiting: 500 };
/** Reads of the items a stream batch names, at once. */
const READS = 8;

function emptyReport(): DispatchReport {
  return {
    outboxes: 0,
    queued: 0,
    attempts: 0,
    delivered: 0,
    retrying: 0,
    dead: 0,
    stopped: 0,
    skipped: 0,
    deferred: 0,
  };
}

/**
 * What one run shares between its items: the hosts that timed out in it. A receiver that does
 * not answer within the attempt's deadline is not tried again in the same run: its other
 * deliveries stay due, untouched (no attempt counted), for the next run, so a hanging host costs
 * a run at most `perHost` attempts' time instead of its whole budget.
 */
interface Run {
  report: DispatchReport;
  timedOut: Set<string>;
  /** The run's time is up: nothing new starts. */
  overBudget: () => boolean;
  /** The owners' endpoints this run has read (one Query per owner per run). */
  endpointsOf: (owner: string) => Promise<WebhookEndpoint[]>;
}

/** A delivery to a URL (the task's webhookUrl or an account endpoint), not the bus. */
const isHttp = (target: string) => target !== "bus";

/** The receiver host a webhook URL names, port included (`hook.example.com:8443`); or null. */
export function receiverHost(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}

function fairKey(item: DispatchWork): FairKey {
  if (item.kind === "outbox") {
    const sendsWebhook = item.task.webhookUrl && !item.webhookStopped;
    return {
      owner: item.task.owner,
      host: sendsWebhook ? receiverHost(item.task.webhookUrl) : null,
    };
  }
  const { delivery } = item;
  return {
    owner: delivery.owner,
    host: isHttp(delivery.target) ? receiverHost(delivery.url) : null,
  };
}

/**
 * The deliveries one event makes: the client's webhookUrl if it asked for it, each of the
 * owner's endpoints that wants the event, and the bus.
 */
function deliveriesOf(
  deps: DispatchDeps,
  work: { task: Task; webhookStopped: boolean },
  endpoints: WebhookEndpoint[],
  event: OutboxEvent,
  now: Date,
): NewDelivery[] {
  const { task } = work;
  const payload = JSON.stringify(taskEvent(task, event));
  const base = {
    id: event.id,
    taskId: task.id,
    owner: task.owner,
    type: event.type,
    status: "pending" as const,
    attemptCount: 0,
    attempts: [],
    nextAttemptAt: now.toISOString(),
    createdAt: event.at,
    updatedAt: now.toISOString(),
    payload,
    attemptLimit: deps.maxAttempts,
  };
  const out: NewDelivery[] = [];
  if (task.webhookUrl && task.webhookEvents.includes(event.type) && !work.webhookStopped) {
    out.push({ ...base, target: "webhook", url: task.webhookUrl });
  }
  for (const endpoint of endpoints) {
    if (endpoint.events.includes(event.type)) {
      out.push({ ...base, target: endpoint.id, url: endpoint.url });
    }
  }
  if (deps.bus && event.type !== "task.progress") {
    out.push({ ...base, target: "bus", url: null });
  }
  return out;
}

/**
 * Turns a task's outbox into deliveries (one transaction that also empties the outbox, so each
 * event becomes its deliveries once) and makes their first attempts at once.
 */
async function dispatchOutbox(
  deps: DispatchDeps,
  work: Extract<DispatchWork, { kind: "outbox" }>,
  run: Run,
): Promise<StoredDelivery[]> {
  const { report } = run;
  const endpoints = await run.endpointsOf(work.task.owner);
  const now = deps.clock.now();
  const deliveries: NewDelivery[] = [];
  let count = 0;
  for (const event of work.outbox) {
    const made = deliveriesOf(deps, work, endpoints, event, now);
    if (deliveries.length + made.length > MAX_DELIVERIES_PER_QUEUE) break;
    deliveries.push(...made);
    count++;
  }
  const keepIndexed = work.wantsProgress && !isTerminal(work.task.status);
  const queued = await deps.deliveries.queueDeliveries(
    work.task,
    { count, outboxSize: work.outbox.length, keepIndexed },
    deliveries,
    now,
  );
  report.outboxes++;
  if (queued === "stale") {
    report.skipped++;
    return [];
  }
  report.queued += queued.length;
  return queued;
}

/** What an attempt makes of the delivery: delivered, stopped (410), retry later, or dead. */
function judge(
  deps: DispatchDeps,
  delivery: StoredDelivery,
  result: AttemptResult,
  now: Date,
): Omit<AttemptRecord, "attempt"> {
  if (result.ok) return { status: "delivered", nextAttemptAt: null };
  if (result.gone) return { status: "stopped", nextAttemptAt: null };
  const failed = delivery.attemptCount + 1;
  if (failed >= delivery.attemptLimit) return { status: "dead", nextAttemptAt: null };
  const delay = deps.retryDelaySeconds(failed, result.retryAfterSeconds);
  if (delay === null) return { status: "dead", nextAttemptAt: null };
  return { status: "pending", nextAttemptAt: new Date(now.getTime() + delay * 1000) };
}

async function send(deps: DispatchDeps, delivery: StoredDelivery): Promise<AttemptResult> {
  if (isHttp(delivery.target)) {
    const headers = await deps.sign(delivery.owner, {
      id: delivery.id,
      timestampSeconds: Math.floor(deps.clock.now().getTime() / 1000),
      body: delivery.payload,
    });
    return deps.webhooks.send({ url: delivery.url ?? "", headers, body: delivery.payload });
  }
  const started = Date.now();
  const result = { statusCode: null, responseBody: null, retryAfterSeconds: null, gone: false };
  if (!deps.bus) {
    return { ...result, ok: false, latencyMs: 0, error: "no event bus is configured" };
  }
  try {
    await deps.bus.publish(JSON.parse(delivery.payload) as TaskEvent);
    return { ...result, ok: true, latencyMs: Date.now() - started, error: null };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...result, ok: false, latencyMs: Date.now() - started, error: message };
  }
}

/** What a retry to an endpoint deleted since it was queued records, without sending. */
const DELETED = {
  ok: false,
  statusCode: null,
  responseBody: null,
  error: "the webhook endpoint was deleted",
  retryAfterSeconds: null,
  gone: true,
} as const;

async function endpointDeleted(delivery: StoredDelivery, run: Run): Promise<boolean> {
  if (!isHttp(delivery.target) || delivery.target === "webhook") return false;
  const endpoints = await run.endpointsOf(delivery.owner);
  return !endpoints.some((e) => e.id === delivery.target);
}

/** One attempt of one delivery: claim it, send, record. Returns its new status, or null. */
async function attempt(deps: DispatchDeps, delivery: StoredDelivery, run: Run): Promise<void> {
  const { report } = run;
  const claimedAt = deps.clock.now();
  const claimed = await deps.deliveries.claim(delivery, new Date(claimedAt.getTime() + LEASE_MS));
  if (!claimed) {
    report.skipped++;
    return;
  }
  const result = (await endpointDeleted(claimed, run))
    ? { ...DELETED, latencyMs: 0 }
    : await send(deps, claimed);
  if (isHttp(claimed.target) && result.error?.startsWith("timeout")) {
    const host = receiverHost(claimed.url);
    if (host) run.timedOut.add(host);
  }
  const now = deps.clock.now();
  const record: AttemptRecord = {
    attempt: {
      at: claimedAt.toISOString(),
      statusCode: result.statusCode,
      latencyMs: Math.max(0, Math.round(result.latencyMs)),
      error: result.error,
      response: result.responseBody,
      manual: claimed.manualPending,
    } satisfies DeliveryAttempt,
    ...judge(deps, claimed, result, now),
  };
  const recorded = await deps.deliveries.recordAttempt(claimed, record, now);
  report.attempts++;
  if (record.status === "delivered") report.delivered++;
  else if (record.status === "pending") report.retrying++;
  else if (record.status === "dead") report.dead++;
  else report.stopped++;
  if (record.status === "stopped" && claimed.target === "webhook") {
    await deps.deliveries.stopWebhook(claimed.taskId, now);
  }
  // never the URL (it may carry a token), the payload or the signature
  const fields = {
    taskId: claimed.taskId,
    deliveryId: claimed.id,
    target: claimed.target,
    attempt: claimed.attemptCount + 1,
    statusCode: result.statusCode,
    latencyMs: record.attempt.latencyMs,
    outcome: record.status,
    recorded,
  };
  if (record.status === "delivered") deps.log.info("delivery", fields);
  else deps.log.warn("delivery failed", { ...fields, error: result.error });
}

/** Does one piece of due work: an outbox becomes deliveries and their first attempts. */
async function work(deps: DispatchDeps, item: DispatchWork, run: Run): Promise<void> {
  try {
    if (item.kind === "outbox") {
      const queued = await dispatchOutbox(deps, item, run);
      // in the order of the transitions, per target (a receiver sees progress go up); the
      // webhook and the bus do not wait for each other. Once the webhook's host has timed out
      // the rest wait, due, for the next run (still in order: they are due in this order).
      const byTarget = new Map<string, StoredDelivery[]>();
      for (const d of queued) byTarget.set(d.target, [...(byTarget.get(d.target) ?? []), d]);
      await Promise.all(
        [...byTarget.values()].map(async (deliveries) => {
          for (const d of deliveries) {
            const host = isHttp(d.target) ? receiverHost(d.url) : null;
            if ((host && run.timedOut.has(host)) || run.overBudget()) run.report.deferred++;
            else await attempt(deps, d, run);
          }
        }),
      );
    } else if (item.delivery.status === "pending") {
      await attempt(deps, item.delivery, run);
    }
  } catch (error) {
    // one item's store trouble must not stop the others; the work stays due
    const e = error as Error;
    deps.log.error("dispatch failed", { error: e.name, message: e.message });
  }
}

/**
 * One run over the due work of the dispatch index (on AWS every minute, and locally every
 * second): outboxes become deliveries, deliveries due for a retry are attempted. Safe to run
 * while another run does the same: every step is a conditional write, and an attempt is made
 * only by the run that claimed it.
 */
export async function dispatchDue(
  deps: DispatchDeps,
  options: { limit?: number; timeBudgetMs?: number } = {},
): Promise<DispatchReport> {
  const run = startRun(deps, options.timeBudgetMs);
  let after: Record<string, unknown> | undefined;
  let done = false;
  await runFairlyIn(deps, run, async () => {
    if (done || run.overBudget()) return null;
    const page = await deps.deliveries.listDue({
      dueBy: deps.clock.now(),
      limit: options.limit ?? 25,
      after,
    });
    after = page.after ?? undefined;
    done = !after;
    return page.items;
  });
  return run.report;
}

function startRun(deps: DispatchDeps, timeBudgetMs = Number.POSITIVE_INFINITY): Run {
  const started = Date.now();
  const endpoints = new Map<string, Promise<WebhookEndpoint[]>>();
  return {
    report: emptyReport(),
    timedOut: new Set(),
    overBudget: () => Date.now() - started >= timeBudgetMs,
    endpointsOf(owner) {
      if (!deps.endpoints) return Promise.resolve([]);
      let found = endpoints.get(owner);
      if (!found) {
        found = deps.endpoints(owner);
        // a failed read is not kept: the next item of this owner asks again
        found.catch(() => endpoints.delete(owner));
        endpoints.set(owner, found);
      }
      return found;
    },
  };
}

/** The run's work, fairly (FAIRNESS); what its timed-out hosts or its budget leave is deferred. */
async function runFairlyIn(
  deps: DispatchDeps,
  run: Run,
  next: () => Promise<DispatchWork[] | null>,
): Promise<void> {
  const { deferred } = await runFairly({
    next,
    keyOf: fairKey,
    work: (item) => work(deps, item, run),
    limits: FAIRNESS,
    skip: (key) => (key.host !== null && run.timedOut.has(key.host)) || run.overBudget(),
  });
  run.report.deferred += deferred;
}

/**
 * The items a change stream named (on AWS, the table's stream: the write that queued an event,
 * or made a delivery due, triggers this within a second). Each is read again, consistently, and
 * only work that is due is done.
 */
export async function dispatchItems(
  deps: DispatchDeps,
  keys: { pk: string; sk: string }[],
  options: { timeBudgetMs?: number } = {},
): Promise<DispatchReport> {
  const run = startRun(deps, options.timeBudgetMs);
  const now = deps.clock.now().toISOString();
  const unique = [...new Map(keys.map((k) => [`${k.pk}\n${k.sk}`, k])).values()];
  const found: (DispatchWork | null)[] = unique.map(() => null);
  await forEachLimited(unique, READS, async (key, index) => {
    const item = await deps.deliveries.getWork(key);
    if (!item) return;
    if (item.kind === "outbox" && item.outbox.length === 0) return;
    // `due` (the index key) starts with the time the delivery is due, or its claim lapses:
    // a delivery another dispatcher holds is not due, whatever nextAttemptAt says
    if (
      item.kind === "delivery" &&
      (!item.delivery.due || item.delivery.due.slice(0, now.length) > now)
    )
      return;
    found[index] = item;
  });
  // in the stream's order: a task's writes, and so its events, come in the order they were made
  const due = found.filter((item) => item !== null);
  let given = false;
  await runFairlyIn(deps, run, async () => {
    if (given) return null;
    given = true;
    return due;
  });
  return run.report;
}

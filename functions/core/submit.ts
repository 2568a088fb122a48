import { createHash } from "node:crypto";
import type { ImagineBody } from "../contract/submit.ts";
import {
  IdempotencyConflictError,
  StoreUnavailableError,
  UpstreamBusyError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
  UpstreamUnsupportedError,
  ValidationError,
} from "./errors.ts";
import { DEFAULT_WEBHOOK_EVENTS, type TaskEventType } from "./events.ts";
import type {
  Clock,
  IdempotencyRecord,
  IdempotencyStore,
  Logger,
  ReserveOutcome,
  SubmitResult,
  SubmitTaskStore,
  TaskUpdate,
} from "./ports.ts";
import { createStateToken } from "./state-token.ts";
import type { Metadata, Task, TaskAction, TaskMode } from "./task.ts";
import type { SubmitKind, SubmitOutcome, Upstream } from "./upstream-port.ts";
import { explainUpstreamReason } from "./upstream-reasons.ts";

export interface SubmitDeps {
  store: SubmitTaskStore;
  idempotency: IdempotencyStore;
  /** How long a retry with the same key is told "still running" before the task answers. */
  idempotencyLockSeconds: number;
  upstream: Upstream;
  clock: Clock;
  newId: () => string;
  log: Logger;
  callbackSecret: string;
  /** Absolute URL of our callback route, sent upstream as notifyHook. */
  callbackUrl: string;
  /**
   * Why a client's webhookUrl is refused (not https, a private address...), or null; checked
   * before anything is recorded (functions/webhooks/url-policy.ts). Absent: not checked.
   */
  checkWebhookUrl?: (url: string) => Promise<string | null>;
  /**
   * A busy upstream's FAILURE makes no event: the caller retries it as a new task (the queue
   * consumer), so telling the task's webhook and the bus "failed" would be wrong. HTTP clients
   * get the 429 and decide themselves, so for them it stays off.
   */
  quietWhenBusy?: boolean;
  /**
   * Sends a started task's polls soon after its submit (AWS: delayed messages to the young-polls
   * queue, functions/queue/young-polls.ts); absent where something else runs them (the local
   * stack's composeYoungPoller). A failure is logged: the regular reconcile still polls.
   */
  scheduleYoungPolls?: (taskId: string) => Promise<void>;
  /** Waits out a backoff (the answer-write's retries); tests pass one that does not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

/** The validated body of `POST /v1/imagine` (functions/contract/submit.ts). */
export type ImagineInput = ImagineBody;

/** A fresh task record in NOT_START, before anything is sent upstream. */
export function newTask(fields: {
  id: string;
  owner: string;
  action: TaskAction;
  prompt: string | null;
  parentId?: string | null;
  metadata?: Metadata;
  /** The client's webhookUrl and the events it wants there (default: all but progress). */
  webhook?: { url?: string; events?: readonly TaskEventType[] };
  /** the speed asked for (its upstream path prefix); null: none */
  mode?: TaskMode | null;
  /** the upstream the job must go to (an action's parent's); absent: the first healthy one */
  upstream?: string | null;
  now: Date;
}): Task {
  const at = fields.now.toISOString();
  return {
    id: fields.id,
    owner: fields.owner,
    action: fields.action,
    status: "NOT_START",
    progress: 0,
    prompt: fields.prompt,
    upstreamTaskId: null,
    parentId: fields.parentId ?? null,
    imageUrl: null,
    imageUrls: [],
    videoUrl: null,
    videoUrls: [],
    prompts: [],
    buttons: [],
    failReason: null,
    upstreamFailReason: null,
    metadata: fields.metadata ?? {},
    createdAt: at,
    updatedAt: at,
    finishedAt: null,
    images: [],
    imagesStatus: null,
    imagesError: null,
    webhookUrl: fields.webhook?.url ?? null,
    webhookEvents: fields.webhook?.url
      ? [...(fields.webhook.events ?? DEFAULT_WEBHOOK_EVENTS)]
      : [],
    upstreamImageUrl: null,
    upstreamImageUrls: [],
    upstreamVideoUrl: null,
    upstreamVideoUrls: [],
    mode: fields.mode ?? null,
    upstream: fields.upstream ?? null,
  };
}

/** How long an Idempotency-Key is kept. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/** A client's Idempotency-Key and the fingerprint of the request it came with. */
export interface IdempotencyRequest {
  key: string;
  fingerprint: string;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Same route and same (validated) body, in any key order → same fingerprint. */
export function requestFingerprint(route: string, input: unknown): string {
  return createHash("sha256")
    .update(`${route}\n${canonicalJson(input)}`)
    .digest("base64url");
}

/**
 * Records what the upstream answered to a submit, with one forward-only write, as the result
 * the client gets (and a retry with the same Idempotency-Key gets again).
 */
async function recordOutcome(
  deps: SubmitDeps,
  task: Task,
  outcome: SubmitOutcome,
  answerWrite?: JobSteps["answerWrite"],
): Promise<SubmitResult> {
  const now = deps.clock.now();
  // the upstream's Chinese refusals in English, its own words kept beside them
  const fail = (prefix: string, reason: string): TaskUpdate => {
    const { failReason, upstreamFailReason } = explainUpstreamReason(reason);
    return {
      status: "FAILURE",
      failReason: `${prefix}${failReason}`,
      upstreamFailReason,
      finishedAt: now.toISOString(),
    };
  };
  let update: TaskUpdate;
  switch (outcome.kind) {
    case "accepted":
      update = { status: "SUBMITTED", progress: 0, upstreamTaskId: outcome.upstreamTaskId };
      // the upstream that took the job rides in the same write: its polls and buttons go there
      if (outcome.upstream) update.upstream = outcome.upstream;
      break;
    case "modal":
      update = { status: "MODAL", progress: 0, upstreamTaskId: outcome.upstreamTaskId };
      if (outcome.upstream) update.upstream = outcome.upstream;
      break;
    case "rejected":
      update = fail("", outcome.reason);
      break;
    case "busy":
      update = fail("upstream queue full: ", outcome.reason);
      break;
    case "unavailable":
      update = fail("upstream unavailable: ", outcome.reason);
      break;
  }
  const written = await advanceWithRetries(deps, task.id, update, now, outcome, answerWrite);
  // A webhook may have overtaken this answer: the stored task is then already further along.
  const recorded = written.task ?? task;
  if (
    written.outcome === "stale" &&
    outcome.upstream &&
    recorded.upstreamTaskId &&
    !recorded.upstream &&
    (outcome.kind === "accepted" || outcome.kind === "modal" || outcome.kind === "unavailable")
  ) {
    // its webhook bound it first, so the answer's write (which names the upstream) did not
    // apply; the job can only be where this submit went (no job moves on once it may have
    // started), so its polls and buttons go there: one more write, on this rare path only
    await recordUpstreamOf(deps, task.id, recorded.upstreamTaskId, outcome.upstream);
    recorded.upstream = outcome.upstream;
  }
  deps.log.info("task submitted", {
    taskId: task.id,
    upstreamTaskId: recorded.upstreamTaskId,
    upstream: outcome.upstream,
    action: recorded.action,
    outcome: outcome.kind,
    status: recorded.status,
    failReason: recorded.failReason ?? undefined,
  });
  if ((outcome.kind === "accepted" || outcome.kind === "modal") && deps.scheduleYoungPolls) {
    try {
      await deps.scheduleYoungPolls(task.id);
    } catch (error) {
      deps.log.warn("young polls not scheduled", {
        taskId: task.id,
        error: (error as Error).name,
        message: (error as Error).message,
      });
    }
  }
  const english = (reason: string) => explainUpstreamReason(reason).failReason;
  switch (outcome.kind) {
    case "rejected":
      return {
        kind: "error",
        code: "upstream_rejected",
        reason: english(outcome.reason),
        task: recorded,
      };
    case "busy":
      return {
        kind: "error",
        code: "upstream_busy",
        reason: english(outcome.reason),
        retryAfterSeconds: outcome.retryAfterSeconds,
        task: recorded,
      };
    case "unavailable":
      // the upstream's own webhook proved the job started while we waited: it is accepted
      if (written.outcome === "stale" && recorded.upstreamTaskId)
        return { kind: "task", task: recorded };
      return {
        kind: "error",
        code: "upstream_unavailable",
        reason: english(outcome.reason),
        task: recorded,
      };
    default:
      return { kind: "task", task: recorded };
  }
}

/**
 * The write that binds our task to the upstream job matters most: once the upstream has started
 * a job, losing its id would leave only webhooks to find it. So a store outage here is retried
 * a few times within the request, and if it still fails the upstream id is logged for recovery.
 */
async function advanceWithRetries(
  deps: SubmitDeps,
  taskId: string,
  update: TaskUpdate,
  now: Date,
  outcome: SubmitOutcome,
  answerWrite?: JobSteps["answerWrite"],
) {
  for (let attempt = 0; ; attempt++) {
    try {
      // An unanswered submit (timeout, 5xx, garbage) fails the task only if no webhook has
      // bound it to an upstream job meanwhile: a job proven started is kept, not failed.
      return await deps.store.advance(taskId, update, now, {
        allowModal: true,
        onlyIfUnbound: outcome.kind === "unavailable",
        quiet: outcome.kind === "busy" && deps.quietWhenBusy === true,
        ...answerWrite,
      });
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || attempt >= ANSWER_WRITE_RETRIES.length) {
        deps.log.error("submit answer not recorded", {
          taskId,
          outcome: outcome.kind,
          upstreamTaskId: "upstreamTaskId" in outcome ? outcome.upstreamTaskId : null,
        });
        throw error;
      }
      await (deps.sleep ?? sleep)(ANSWER_WRITE_RETRIES[attempt] as number);
    }
  }
}

/** recordUpstream, logged rather than thrown: the task is recorded, only its upstream is not. */
async function recordUpstreamOf(
  deps: SubmitDeps,
  taskId: string,
  upstreamTaskId: string,
  upstream: string,
): Promise<void> {
  try {
    await deps.store.recordUpstream?.(taskId, upstreamTaskId, upstream);
  } catch (error) {
    deps.log.warn("task's upstream not recorded", {
      taskId,
      upstreamTaskId,
      upstream,
      error: (error as Error).name,
    });
  }
}

/** The waits between the answer-write's attempts, in ms. */
export const ANSWER_WRITE_RETRIES = [100, 300, 900];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The answer a result stands for: the task, or the contract's upstream error. */
function answer(result: SubmitResult): Task {
  if (result.kind === "task") return result.task;
  if (result.code === "upstream_rejected")
    throw new UpstreamRejectedError(result.task, result.reason);
  if (result.code === "upstream_busy") {
    throw new UpstreamBusyError(result.task, result.retryAfterSeconds ?? 30);
  }
  throw new UpstreamUnavailableError(result.task, result.reason);
}

/**
 * Reserves the key and creates the task atomically. Returns null when this request owns the
 * key; otherwise the earlier request's result, or a 409 when the key came with another body
 * or its first request is still running (so a retry never starts a second upstream job).
 */
async function reserve(
  deps: SubmitDeps,
  steps: JobSteps,
  task: Task,
  idempotency: IdempotencyRequest,
): Promise<SubmitResult | null> {
  const now = deps.clock.now();
  const reserved = await steps.reserve(
    {
      owner: task.owner,
      key: idempotency.key,
      fingerprint: idempotency.fingerprint,
      taskId: task.id,
      createdAt: now.toISOString(),
      lockedUntil: new Date(now.getTime() + deps.idempotencyLockSeconds * 1000).toISOString(),
      expiresAt: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
      result: null,
    },
    task,
    now,
  );
  if (reserved.outcome === "reserved") return null;
  const earlier = reserved.record;
  if (earlier.fingerprint !== idempotency.fingerprint) {
    throw new IdempotencyConflictError(
      "This Idempotency-Key was already used with a different request; use a new key for a new request.",
      "different_request",
    );
  }
  if (earlier.result) return earlier.result;
  if (now.getTime() < Date.parse(earlier.lockedUntil)) {
    throw new IdempotencyConflictError(
      "A request with this Idempotency-Key is still running; retry in a few seconds.",
    );
  }
  // The first request stopped before it could record its answer: its task answers for it.
  const current = await deps.store.get(earlier.taskId);
  if (!current)
    throw new IdempotencyConflictError("This Idempotency-Key's request left no task.", "no_task");
  if (current.status !== "NOT_START" || current.upstreamTaskId) {
    // the job is known: the task as it stands now is the answer, kept so every replay agrees
    const result: SubmitResult = { kind: "task", task: current };
    await deps.idempotency.complete(task.owner, idempotency.key, result);
    return result;
  }
  // It died before the upstream's answer was recorded (a crash, a timeout of its own): whether
  // the job started cannot be known, so this is a lost answer. The task fails unless a webhook
  // binds it meanwhile (the same conditional write), and the key keeps that answer.
  const result = await recordOutcome(
    deps,
    current,
    {
      kind: "unavailable",
      reason: "the request stopped before the upstream's answer was recorded",
    },
    steps.answerWrite,
  );
  await deps.idempotency.complete(task.owner, idempotency.key, result);
  return result;
}

/**
 * The steps of a job that differ between a new task and a modal (`POST /v1/tasks/{id}/modal`,
 * core/workflow.ts submitModal): how the task is recorded before the upstream is asked (created,
 * or the MODAL task claimed), with an Idempotency-Key or without; how the upstream is asked;
 * what the answer's write may do besides a new task's.
 */
export interface JobSteps {
  record(task: Task): Promise<void>;
  reserve(record: IdempotencyRecord, task: Task, now: Date): Promise<ReserveOutcome>;
  submit: Upstream["submit"];
  /** overrides for the write that records the upstream's answer */
  answerWrite?: { onlyIfUnbound?: boolean; leavingModal?: boolean };
}

/** A new task's steps: create it (with its key, if any), ask the upstream as it is. */
export function newTaskSteps(deps: SubmitDeps): JobSteps {
  return {
    record: (task) => deps.store.create(task),
    reserve: (record, task, now) => deps.idempotency.reserveAndCreate(record, task, now),
    submit: (kind, body, mode, at) => deps.upstream.submit(kind, body, mode, at),
  };
}

/**
 * Records the task first (so nothing the upstream starts can be lost), then starts the
 * upstream job with a signed `state` and our callback URL, then records the answer. With an
 * Idempotency-Key the key is recorded in the same transaction as the task, and the answer is
 * kept for replay.
 */
export async function submitJob(
  deps: SubmitDeps,
  task: Task,
  kind: SubmitKind,
  body: Record<string, unknown>,
  idempotency?: IdempotencyRequest,
  steps: JobSteps = newTaskSteps(deps),
): Promise<Task> {
  // a body that names an upstream task (a button, a modal, an extension) goes where that task
  // is; any other job goes to the first healthy upstream
  const at = "taskId" in body ? task.upstream : undefined;
  const unsupported = deps.upstream.unsupported(kind, body, task.mode, at);
  if (unsupported) {
    throw new UpstreamUnsupportedError(
      deps.upstream.kindAt?.(at) ?? deps.upstream.kind,
      unsupported,
    );
  }
  if (task.webhookUrl && deps.checkWebhookUrl) {
    const refused = await deps.checkWebhookUrl(task.webhookUrl);
    if (refused) throw new ValidationError([{ path: "webhookUrl", message: refused }]);
  }
  if (idempotency) {
    const earlier = await reserve(deps, steps, task, idempotency);
    if (earlier) return answer(earlier);
  } else {
    await steps.record(task);
  }
  const outcome = await steps.submit(
    kind,
    {
      ...body,
      state: createStateToken(deps.callbackSecret, task.id),
      notifyHook: deps.callbackUrl,
    },
    task.mode,
    at,
  );
  const result = await recordOutcome(deps, task, outcome, steps.answerWrite);
  if (idempotency) await deps.idempotency.complete(task.owner, idempotency.key, result);
  return answer(result);
}

/** `POST /v1/imagine`. */
export async function submitImagine(
  deps: SubmitDeps,
  owner: string,
  input: ImagineInput,
  idempotencyKey?: string,
): Promise<Task> {
  const task = newTask({
    id: deps.newId(),
    owner,
    action: "IMAGINE",
    prompt: input.prompt,
    metadata: input.metadata,
    webhook: { url: input.webhookUrl, events: input.webhookEvents },
    mode: input.mode,
    now: deps.clock.now(),
  });
  const body: Record<string, unknown> = { prompt: input.prompt };
  if (input.botType) body.botType = input.botType;
  if (input.base64Array?.length) body.base64Array = input.base64Array;
  if (input.accountFilter) body.accountFilter = input.accountFilter;
  const idempotency = idempotencyKey
    ? { key: idempotencyKey, fingerprint: requestFingerprint("POST /v1/imagine", input) }
    : undefined;
  return submitJob(deps, task, "imagine", body, idempotency);
}

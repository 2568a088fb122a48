import type { SubmitKind, SubmitOutcome, UpstreamClient } from "../upstream/client.ts";
import { UpstreamBusyError, UpstreamRejectedError, UpstreamUnavailableError } from "./errors.ts";
import type { Clock, Logger, TaskStore, TaskUpdate } from "./ports.ts";
import { createStateToken } from "./state-token.ts";
import type { Metadata, Task, TaskAction } from "./task.ts";

export interface SubmitDeps {
  store: TaskStore;
  upstream: UpstreamClient;
  clock: Clock;
  newId: () => string;
  log: Logger;
  callbackSecret: string;
  /** Absolute URL of our callback route, sent upstream as notifyHook. */
  callbackUrl: string;
}

export interface ImagineInput {
  prompt: string;
  botType?: "MID_JOURNEY" | "NIJI_JOURNEY";
  base64Array?: string[];
  accountFilter?: Record<string, unknown>;
  metadata?: Metadata;
}

/** A fresh task record in NOT_START, before anything is sent upstream. */
export function newTask(fields: {
  id: string;
  owner: string;
  action: TaskAction;
  prompt: string | null;
  parentId?: string | null;
  metadata?: Metadata;
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
    buttons: [],
    failReason: null,
    metadata: fields.metadata ?? {},
    createdAt: at,
    updatedAt: at,
    finishedAt: null,
  };
}

/**
 * Records what the upstream answered to a submit, with one forward-only write, and turns
 * refusals into the contract's errors (each carrying the recorded task).
 */
async function recordOutcome(deps: SubmitDeps, task: Task, outcome: SubmitOutcome): Promise<Task> {
  const now = deps.clock.now();
  const fail = (failReason: string): TaskUpdate => ({
    status: "FAILURE",
    failReason,
    finishedAt: now.toISOString(),
  });
  let update: TaskUpdate;
  switch (outcome.kind) {
    case "accepted":
      update = { status: "SUBMITTED", progress: 0, upstreamTaskId: outcome.upstreamTaskId };
      break;
    case "modal":
      update = { status: "MODAL", progress: 0, upstreamTaskId: outcome.upstreamTaskId };
      break;
    case "rejected":
      update = fail(outcome.reason);
      break;
    case "busy":
      update = fail(`upstream queue full: ${outcome.reason}`);
      break;
    case "unavailable":
      update = fail(`upstream unavailable: ${outcome.reason}`);
      break;
  }
  const result = await deps.store.advance(task.id, update, now, { allowModal: true });
  // A webhook may have overtaken this answer: the stored task is then already further along.
  const recorded = result.task ?? task;
  deps.log.info("task submitted", {
    taskId: task.id,
    upstreamTaskId: recorded.upstreamTaskId,
    outcome: outcome.kind,
    status: recorded.status,
  });
  switch (outcome.kind) {
    case "rejected":
      throw new UpstreamRejectedError(recorded, outcome.reason);
    case "busy":
      throw new UpstreamBusyError(recorded, outcome.retryAfterSeconds);
    case "unavailable":
      throw new UpstreamUnavailableError(recorded, outcome.reason);
    default:
      return recorded;
  }
}

/**
 * Records the task first (so nothing the upstream starts can be lost), then starts the
 * upstream job with a signed `state` and our callback URL, then records the answer.
 */
export async function submitJob(
  deps: SubmitDeps,
  task: Task,
  kind: SubmitKind,
  body: Record<string, unknown>,
): Promise<Task> {
  await deps.store.create(task);
  const outcome = await deps.upstream.submit(kind, {
    ...body,
    state: createStateToken(deps.callbackSecret, task.id),
    notifyHook: deps.callbackUrl,
  });
  return recordOutcome(deps, task, outcome);
}

/** `POST /v1/imagine`. */
export async function submitImagine(
  deps: SubmitDeps,
  owner: string,
  input: ImagineInput,
): Promise<Task> {
  const task = newTask({
    id: deps.newId(),
    owner,
    action: "IMAGINE",
    prompt: input.prompt,
    metadata: input.metadata,
    now: deps.clock.now(),
  });
  const body: Record<string, unknown> = { prompt: input.prompt };
  if (input.botType) body.botType = input.botType;
  if (input.base64Array?.length) body.base64Array = input.base64Array;
  if (input.accountFilter) body.accountFilter = input.accountFilter;
  return submitJob(deps, task, "imagine", body);
}

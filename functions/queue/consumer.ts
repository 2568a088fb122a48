import { ImagineBody } from "../contract/submit.ts";
import * as z from "../contract/z.ts";
import { forEachLimited } from "../core/concurrency.ts";
import {
  IdempotencyConflictError,
  QuotaExceededError,
  UpstreamBusyError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
  ValidationError,
} from "../core/errors.ts";
import type { Logger } from "../core/ports.ts";
import type { Task } from "../core/task.ts";

/** The message attribute that carries a re-queued message's attempt number (2, 3, ...). */
export const ATTEMPT_ATTRIBUTE = "paperboat-attempt";
/**
 * The message attribute that carries the id of the message a re-queued one descends from, so
 * every copy of one attempt shares one idempotency key (see idempotencyKeyOf).
 */
export const ORIGIN_ATTRIBUTE = "paperboat-origin-message-id";
/** Busy answers accepted before a message is dead-lettered instead of re-queued again. */
export const MAX_BUSY_ATTEMPTS = 20;
/** SQS's own bounds for DelaySeconds. */
const MIN_DELAY_SECONDS = 1;
const MAX_DELAY_SECONDS = 900;
/** Records of one batch submitted at the same time: a small limit, kind to the upstream. */
const CONCURRENCY = 4;

/** The same rule as the HTTP `Idempotency-Key` header: 1–255 printable ASCII characters. */
const IdempotencyKey = /* @__PURE__ */ z.onDemand(() =>
  z
    .string()
    .check(
      z.regex(/^[\x20-\x7e]{1,255}$/, { message: "must be 1 to 255 printable ASCII characters" }),
    ),
);

/**
 * An imagine request as a queue message body (JSON): the body of `POST /v1/imagine` plus
 * whose request it is and, optionally, its idempotency key.
 *
 * ```json
 * { "owner": "<an owner of API_KEYS>", "prompt": "a paper boat at sunrise --v 6.1",
 *   "botType"?: "MID_JOURNEY" | "NIJI_JOURNEY", "base64Array"?: ["data:image/png;base64,..."],
 *   "accountFilter"?: {...}, "webhookUrl"?: "https://...", "metadata"?: {...},
 *   "idempotencyKey"?: "<1–255 printable ASCII>" }
 * ```
 *
 * Every field of the HTTP body is accepted with the HTTP rules (unknown fields are refused).
 * Without `idempotencyKey` the message's own id is the key (`sqs:<messageId>`), so only SQS's
 * redeliveries of that message are deduplicated; with it, any message carrying the same key
 * and body within 24 hours (the HTTP route's too) replays the first answer, and another body
 * with that key is dead-lettered. Mind the queue's message size limit (its MaximumMessageSize,
 * 256 KiB unless raised): images as data URIs may not fit where the HTTP route takes 5 MiB.
 */
export const ImagineMessage = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    ...z.built(ImagineBody).shape,
    owner: z.string().check(z.minLength(1, { message: "owner must not be empty" })),
    idempotencyKey: z.optional(z.built(IdempotencyKey)),
  }),
);
export type ImagineMessage = z.infer<typeof ImagineMessage>;

/** The subset of an SQS Lambda event record the consumer uses. */
export interface QueueRecord {
  messageId: string;
  body: string;
  attributes?: { ApproximateReceiveCount?: string };
  messageAttributes?: Record<string, { stringValue?: string; dataType: string }>;
}

export interface QueueConsumerDeps {
  /** The owners known from API_KEYS: a message naming anyone else is malformed. */
  owners: ReadonlySet<string>;
  /** functions/core/submit.ts submitImagine, bound to its deps. */
  submitImagine(owner: string, input: ImagineBody, idempotencyKey: string): Promise<Task>;
  /** Sends the record again as a new message, visible after `delaySeconds`, as `attempt`. */
  requeue(record: QueueRecord, delaySeconds: number, attempt: number): Promise<void>;
  /** Puts the record on the dead-letter queue with a short reason. */
  deadLetter(record: QueueRecord, reason: string): Promise<void>;
  log: Logger;
}

/** Lambda's ReportBatchItemFailures answer: the records SQS should deliver again. */
export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

type Parsed =
  | { ok: true; owner: string; input: ImagineBody; key: string; attempt: number }
  | { ok: false; reason: string };

/** "field: problem" for the first zod issue (never a value of the message). */
function describeIssues(error: { issues: z.core.$ZodIssue[] }): string {
  const [first] = error.issues;
  const path = first?.path.map(String).join(".") || "(body)";
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : "";
  return `${path}: ${first?.message ?? "invalid"}${more}`;
}

function attemptOf(record: QueueRecord): number | null {
  const raw = record.messageAttributes?.[ATTEMPT_ATTRIBUTE]?.stringValue;
  if (raw === undefined) return 1;
  return /^[1-9][0-9]{0,5}$/.test(raw) ? Number(raw) : null;
}

/**
 * The idempotency key of a record's submit. SQS delivers at least once, so a redelivery must
 * replay the first answer rather than start a second upstream job: the key is the message's
 * `idempotencyKey`, else `sqs:<id of the original message>`. A deliberate retry after "upstream
 * busy" must be a NEW attempt (the busy answer is kept on its key and would be replayed), so
 * attempt n > 1 adds `#attempt-n`. Re-queued copies carry the original message's id, so two
 * copies of one attempt (the original redelivered after it was re-queued) share one key.
 */
export function idempotencyKeyOf(
  record: QueueRecord,
  message: { idempotencyKey?: string },
  attempt: number,
): string {
  const origin = record.messageAttributes?.[ORIGIN_ATTRIBUTE]?.stringValue || record.messageId;
  const base = message.idempotencyKey ?? `sqs:${origin}`;
  return attempt > 1 ? `${base}#attempt-${attempt}` : base;
}

function parseRecord(owners: ReadonlySet<string>, record: QueueRecord): Parsed {
  const attempt = attemptOf(record);
  if (attempt === null)
    return { ok: false, reason: `${ATTEMPT_ATTRIBUTE}: not a positive integer` };
  let json: unknown;
  try {
    json = JSON.parse(record.body);
  } catch {
    return { ok: false, reason: "body: not JSON" };
  }
  const parsed = ImagineMessage.safeParse(json);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error) };
  const { owner, idempotencyKey, ...input } = parsed.data;
  if (!owners.has(owner)) return { ok: false, reason: "owner: unknown owner" };
  return {
    ok: true,
    owner,
    input,
    key: idempotencyKeyOf(record, { idempotencyKey }, attempt),
    attempt,
  };
}

/** The conflict's two meanings, as core/submit.ts words them. */
function isDifferentRequest(error: IdempotencyConflictError): boolean {
  return error.reason === "different_request";
}

const clamp = (value: number, min: number, max: number) =>
  Math.min(max, Math.max(min, Math.ceil(value)));

/** Dead-letters a record: handled when the DLQ took it, else left for SQS to deliver again. */
async function deadLetter(deps: QueueConsumerDeps, record: QueueRecord, reason: string) {
  try {
    await deps.deadLetter(record, reason);
  } catch (error) {
    deps.log.error("queue message not dead-lettered", {
      messageId: record.messageId,
      reason,
      error: (error as Error).name,
    });
    return false;
  }
  deps.log.warn("queue message dead-lettered", { messageId: record.messageId, reason });
  return true;
}

/** One record: true when it is done with (submitted, failed for good, re-queued, dead-lettered). */
async function consumeRecord(deps: QueueConsumerDeps, record: QueueRecord): Promise<boolean> {
  const messageId = record.messageId;
  const parsed = parseRecord(deps.owners, record);
  if (!parsed.ok) return deadLetter(deps, record, parsed.reason);
  const { attempt } = parsed;
  try {
    const task = await deps.submitImagine(parsed.owner, parsed.input, parsed.key);
    deps.log.info("queued imagine submitted", {
      messageId,
      taskId: task.id,
      status: task.status,
      attempt,
    });
    return true;
  } catch (error) {
    if (error instanceof QuotaExceededError) {
      // the owner's limit (docs/operating.md): nothing was recorded under this attempt's key,
      // so the same attempt is sent again once the limit may allow it; it never dead-letters
      const delaySeconds = clamp(error.retryAfterSeconds, MIN_DELAY_SECONDS, MAX_DELAY_SECONDS);
      try {
        await deps.requeue(record, delaySeconds, attempt);
      } catch (requeueError) {
        deps.log.error("queued imagine not re-queued", {
          messageId,
          attempt,
          error: (requeueError as Error).name,
        });
        return false;
      }
      deps.log.warn("queued imagine re-queued: owner's limit reached", {
        messageId,
        limit: error.limit,
        attempt,
        delaySeconds,
      });
      return true;
    }
    if (error instanceof UpstreamBusyError) {
      if (attempt >= MAX_BUSY_ATTEMPTS) {
        return deadLetter(deps, record, `upstream busy after ${MAX_BUSY_ATTEMPTS} attempts`);
      }
      const delaySeconds = clamp(error.retryAfterSeconds, MIN_DELAY_SECONDS, MAX_DELAY_SECONDS);
      try {
        await deps.requeue(record, delaySeconds, attempt + 1);
      } catch (requeueError) {
        deps.log.error("queued imagine not re-queued", {
          messageId,
          taskId: error.task.id,
          attempt,
          error: (requeueError as Error).name,
        });
        return false;
      }
      deps.log.warn("queued imagine re-queued: upstream busy", {
        messageId,
        taskId: error.task.id,
        attempt,
        delaySeconds,
      });
      return true;
    }
    // Not retried: the task is recorded as FAILURE, which its owner sees (and is told of); a
    // retry of "unavailable" could start a second paid job whose first answer was only lost.
    if (error instanceof UpstreamRejectedError || error instanceof UpstreamUnavailableError) {
      deps.log.warn("queued imagine failed upstream", {
        messageId,
        taskId: error.task?.id ?? null,
        code: error.code,
        attempt,
      });
      return true;
    }
    if (error instanceof IdempotencyConflictError && isDifferentRequest(error)) {
      return deadLetter(deps, record, "idempotencyKey: already used with a different request");
    }
    // refused before anything was recorded (a webhookUrl the address policy refuses): it
    // would be refused again, so it is malformed
    if (error instanceof ValidationError) {
      const first = error.details?.[0];
      const reason = first ? `${first.path}: ${first.message}` : error.message;
      return deadLetter(deps, record, reason.slice(0, 256));
    }
    // "still running", a store outage, anything unknown: SQS delivers it again after the
    // visibility timeout, and the idempotency key makes that safe.
    deps.log.error("queued imagine left for redelivery", {
      messageId,
      attempt,
      receiveCount: record.attributes?.ApproximateReceiveCount ?? null,
      error: (error as Error).name,
      code: (error as { code?: unknown }).code ?? null,
    });
    return false;
  }
}

/**
 * Consumes one batch of imagine messages (the SQS event of a Lambda with
 * ReportBatchItemFailures). Records are submitted a few at a time, and one record's failure
 * never fails another's:
 *
 * - malformed (not JSON, not the schema, an unknown owner) → dead-lettered with a reason naming
 *   the field, handled;
 * - upstream busy → re-sent with the upstream's delay (1–900 s) as attempt n + 1, handled;
 *   after MAX_BUSY_ATTEMPTS → dead-lettered;
 * - the owner's limit reached (quota_exceeded) → re-sent as the same attempt after its
 *   Retry-After (at most 900 s), handled; never dead-lettered;
 * - upstream rejected or unavailable → handled: the task is FAILURE, never retried;
 * - the idempotency key used with another body → dead-lettered; its first request still
 *   running, a store outage or anything unknown → a batch item failure, delivered again;
 * - a dead-letter or re-queue that fails → a batch item failure (SQS's redrive then moves it).
 */
export async function consumeImagineBatch(
  deps: QueueConsumerDeps,
  records: QueueRecord[],
): Promise<BatchResponse> {
  const handled = new Array<boolean>(records.length).fill(false);
  await forEachLimited(records, CONCURRENCY, async (record, index) => {
    try {
      handled[index] = await consumeRecord(deps, record);
    } catch (error) {
      deps.log.error("queued imagine left for redelivery", {
        messageId: record.messageId,
        error: (error as Error).name,
      });
    }
  });
  return {
    batchItemFailures: records
      .filter((_, index) => !handled[index])
      .map((record) => ({ itemIdentifier: record.messageId })),
  };
}

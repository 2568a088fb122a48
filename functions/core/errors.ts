import type { ErrorCode, ErrorDetail } from "../contract/errors.ts";
import type { Task } from "./task.ts";

export type { ErrorCode, ErrorDetail };

/**
 * A failure that ends a request. `code` is one of the contract's stable codes
 * (functions/contract/errors.ts); the one error handler in functions/http maps it to the HTTP
 * status and the `{"error": {...}}` body.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidJsonError extends AppError {
  constructor() {
    super("invalid_json", "The request body is not valid JSON.");
  }
}

export class ValidationError extends AppError {
  constructor(details: ErrorDetail[], message = "The request does not fit the schema.") {
    super("validation_failed", message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = "A valid API key is required: send `Authorization: Bearer <key>`.") {
    super("unauthorized", message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = "No such task.") {
    super("not_found", message);
  }
}

/** Why a key conflicts: another body, a first request still running, or one that left no task. */
export type IdempotencyConflictReason = "different_request" | "in_progress" | "no_task";

export class IdempotencyConflictError extends AppError {
  constructor(
    message: string,
    readonly reason: IdempotencyConflictReason = "in_progress",
  ) {
    super("idempotency_conflict", message);
  }
}

export class InvalidStateError extends AppError {
  constructor(message: string) {
    super("invalid_state", message);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(
      "payload_too_large",
      `The request body is larger than this route's limit of ${limitBytes} bytes.`,
    );
  }
}

/** The upstream refused the job; the task was recorded as FAILURE and is part of the answer. */
export class UpstreamRejectedError extends AppError {
  constructor(
    readonly task: Task,
    reason: string,
  ) {
    super("upstream_rejected", `The upstream refused the job: ${reason}`);
  }
}

/** The upstream's queue is full; nothing was started. */
export class UpstreamBusyError extends AppError {
  constructor(
    readonly task: Task,
    readonly retryAfterSeconds: number,
  ) {
    super("upstream_busy", "The upstream queue is full; retry later.");
  }
}

/** The upstream has no route for this job (novicezk: no shorten, video, modal ...); nothing was recorded. */
export class UpstreamUnsupportedError extends AppError {
  constructor(
    readonly hostKind: string,
    reason: string,
  ) {
    super(
      "upstream_unsupported",
      `The upstream (MJ_API_KIND ${hostKind}) cannot run this job: ${reason}`,
    );
  }
}

/** The upstream could not be reached or answered garbage. */
export class UpstreamUnavailableError extends AppError {
  constructor(
    readonly task: Task | null,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super("upstream_unavailable", `The upstream could not be used: ${reason}`, undefined, options);
  }
}

/** The store (DynamoDB) failed or throttled; nothing was written by this request. */
export class StoreUnavailableError extends AppError {
  constructor(options?: { cause?: unknown }) {
    super(
      "store_unavailable",
      "Storage is unavailable right now; retry shortly.",
      undefined,
      options,
    );
  }
}

/** Which of the owner's limits a submit met (docs/operating.md, limits). */
export type QuotaLimit = "concurrent" | "perDay";

/** The owner's limit is reached; nothing was recorded or started. */
export class QuotaExceededError extends AppError {
  constructor(
    readonly limit: QuotaLimit,
    readonly retryAfterSeconds: number,
  ) {
    super(
      "quota_exceeded",
      limit === "concurrent"
        ? "Too many of your tasks are unfinished at once; retry when one finishes."
        : "Your jobs for today (UTC) are used up; retry after midnight UTC.",
    );
  }
}

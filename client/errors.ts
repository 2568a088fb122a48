import type { ErrorCode, ErrorDetail } from "../functions/contract/errors.ts";
import type { Task } from "../functions/contract/task.ts";

export type { ErrorCode, ErrorDetail };

/** Every error the client throws is one of these. */
export class PaperboatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The API answered with one of the contract's errors: `{"error": {"code", "message", "details"?}}`.
 * `code` is the contract's stable code (`unauthorized`, `not_found`, `upstream_rejected` ...);
 * upstream errors (422, 429, 502) also carry the task as it was recorded.
 */
export class ApiError extends PaperboatError {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly task: Task | null = null,
    /** from `Retry-After` (429, 503) */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** The server could not be reached (refused, reset, DNS, timeout): nothing was answered. */
export class ConnectionError extends PaperboatError {
  constructor(
    readonly url: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Could not reach ${url}: ${reason}.`, options);
  }
}

/** Something answered, but not with the API's JSON (a proxy's HTML page, a wrong URL). */
export class UnexpectedResponseError extends PaperboatError {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly body: string,
  ) {
    super(`${url} answered ${status} with something that is not paperboat's JSON.`);
  }
}

/** `waitForTask` ran out of time; the task goes on, `task` is how it was last seen. */
export class WaitTimeoutError extends PaperboatError {
  constructor(
    readonly task: Task,
    timeoutMs: number,
  ) {
    super(
      `Task ${task.id} is still ${task.status} (${task.progress}%) after ${Math.round(timeoutMs / 1000)} s.`,
    );
  }
}

/** `action(id, { label })`: the task has no button with that label. */
export class ButtonNotFoundError extends PaperboatError {
  constructor(
    readonly task: Task,
    readonly label: string,
  ) {
    const labels = task.buttons.map((b) => b.label || b.emoji).filter(Boolean);
    super(
      labels.length
        ? `Task ${task.id} has no button "${label}"; it has ${labels.join(", ")}.`
        : `Task ${task.id} has no buttons (it is ${task.status}).`,
    );
  }
}

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ErrorCode, STATUS_BY_CODE } from "../contract/errors.ts";
import {
  AppError,
  type ErrorDetail,
  QuotaExceededError,
  StoreUnavailableError,
  UpstreamBusyError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from "../core/errors.ts";
import type { Logger } from "../core/ports.ts";

export { STATUS_BY_CODE };

export function errorBody(code: ErrorCode, message: string, details?: ErrorDetail[]) {
  return { error: { code, message, ...(details?.length ? { details } : {}) } };
}

/**
 * The one error boundary: AppErrors become the contract's status and `{"error": {...}}` body
 * (upstream errors also carry the recorded task); anything else is logged once and answered
 * as a 500 that leaks nothing.
 */
export function createErrorHandler(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof AppError) {
      const status: ContentfulStatusCode = STATUS_BY_CODE[err.code];
      const body: Record<string, unknown> = errorBody(err.code, err.message, err.details);
      if (
        err instanceof UpstreamRejectedError ||
        err instanceof UpstreamBusyError ||
        (err instanceof UpstreamUnavailableError && err.task)
      ) {
        body.task = err.task;
      }
      if (err instanceof UpstreamBusyError || err instanceof QuotaExceededError)
        c.header("Retry-After", String(err.retryAfterSeconds));
      if (err instanceof StoreUnavailableError) {
        c.header("Retry-After", "1");
        log.warn("store unavailable", { path: c.req.path, cause: (err.cause as Error)?.name });
      }
      return c.json(body, status);
    }
    log.error("unhandled error", { error: err.name, message: err.message, path: c.req.path });
    return c.json(errorBody("internal_error", "Something went wrong on our side."), 500);
  };
}

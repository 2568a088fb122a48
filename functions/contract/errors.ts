import * as z from "./z.ts";

/**
 * Every `error.code` the API answers with and its HTTP status (docs/api.md "Errors").
 * `internal_error` is the 500 that should never happen. AppError's `code`, the OpenAPI
 * document's error enums and the client's ApiError all come from this table.
 */
export const STATUS_BY_CODE = {
  invalid_json: 400,
  validation_failed: 400,
  unauthorized: 401,
  not_found: 404,
  idempotency_conflict: 409,
  invalid_state: 409,
  payload_too_large: 413,
  quota_exceeded: 429,
  upstream_rejected: 422,
  upstream_unsupported: 422,
  upstream_busy: 429,
  upstream_unavailable: 502,
  store_unavailable: 503,
  internal_error: 500,
} as const;

export const ErrorCode = /* @__PURE__ */ z.onDemand(() =>
  z.enum(
    Object.keys(STATUS_BY_CODE) as [
      keyof typeof STATUS_BY_CODE,
      ...(keyof typeof STATUS_BY_CODE)[],
    ],
  ),
);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** A field-level problem, listed in the error body's `details`. */
export const ErrorDetail = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    path: z.string().check(z.meta({ description: "the field, dot-separated, or `(body)`" })),
    message: z.string(),
  }),
);
export type ErrorDetail = z.infer<typeof ErrorDetail>;

/** Which error codes answer with which status. */
export function codesOfStatus(status: number): ErrorCode[] {
  return ErrorCode.options.filter((code) => STATUS_BY_CODE[code] === status);
}

import { ErrorCode, ErrorDetail } from "./errors.ts";
import { Task } from "./task.ts";
import * as z from "./z.ts";

/**
 * `{"error": {"code", "message", "details"?}}`, with `code` narrowed to `codes`. Upstream errors
 * (422, 429, 502) also carry the task as it was recorded.
 */
export function errorBodyOf(codes: readonly [ErrorCode, ...ErrorCode[]], withTask = false) {
  const error = z.strictObject({
    code: z.enum(codes),
    message: z.string().check(z.meta({ description: "for humans" })),
    details: z.optional(z.array(ErrorDetail)),
  });
  return withTask
    ? z.strictObject({ error, task: z.optional(z.built(Task)) })
    : z.strictObject({ error });
}

/** The error answer in general: any code, and the recorded task on upstream errors. */
export const ErrorBody = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    error: z.strictObject({
      code: z.built(ErrorCode),
      message: z.string(),
      details: z.optional(z.array(z.built(ErrorDetail))),
    }),
    task: z.optional(z.built(Task)),
  }),
);
export type ErrorBody = z.infer<typeof ErrorBody>;

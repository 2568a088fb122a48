import * as z from "zod";
import { Task } from "../core/task.ts";
import { STATUS_BY_CODE } from "./errors.ts";

/**
 * The JSON the API answers with, as zod schemas. The apps do not parse their own answers (that
 * would cost every request); these schemas exist so that the OpenAPI document
 * (functions/http/openapi.ts) and the typed client (client/) describe exactly what the apps
 * send, and test/http/openapi.test.ts checks real answers against them.
 */

/** `GET /v1/tasks/{id}`: the task and the ids of the tasks started from its buttons, newest first. */
export const TaskWithChildren = Task.extend({
  children: z.array(z.string()).meta({
    description:
      "ids of the tasks started from this one's buttons, newest first (up to 1000; page through all with `GET /v1/tasks?parentId=`)",
  }),
});
export type TaskWithChildren = z.infer<typeof TaskWithChildren>;

/** `GET /v1/tasks`: one page, newest first. */
export const TaskPage = z.strictObject({
  items: z.array(Task),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: "pass as `cursor` for the next page; null on the last page" }),
});
export type TaskPage = z.infer<typeof TaskPage>;

/** `GET /v1/tasks/{id}/seed`. */
export const Seed = z.strictObject({ taskId: z.string(), seed: z.string() });
export type Seed = z.infer<typeof Seed>;

/** One upstream in `GET /health` (docs/upstreams.md "Several upstreams"). */
export const UpstreamState = z.strictObject({
  id: z.string().describe("stable id, derived from the upstream's base URL"),
  position: z.number().int().min(1).describe("its place in MJ_API_BASE_URL, from 1"),
  state: z
    .enum(["up", "down", "probing", "busy", "unknown"])
    .describe(
      "`down`: failing, skipped until `retryAt`; `probing`: the next submit tries it again; `busy`: its queue was full; `unknown`: the states could not be read",
    ),
  since: z.string().nullable().describe("when the state last changed; null: never seen failing"),
  reason: z.string().nullable().describe("why it is down or busy"),
  retryAt: z.string().nullable().describe("while down or busy: when it is tried again"),
});
export type UpstreamState = z.infer<typeof UpstreamState>;

/** `GET /health`. */
export const Health = z.strictObject({
  status: z.literal("ok"),
  upstreams: z.array(UpstreamState),
});
export type Health = z.infer<typeof Health>;

/** `POST /hooks/midjourney`: what became of the webhook (stale and ignored ones change nothing). */
export const WebhookAnswer = z.strictObject({ result: z.enum(["applied", "stale", "ignored"]) });
export type WebhookAnswer = z.infer<typeof WebhookAnswer>;

/** Every `error.code` the API can answer; `internal_error` is the 500 that should never happen. */
export const ErrorCode = z.enum([
  ...(Object.keys(STATUS_BY_CODE) as (keyof typeof STATUS_BY_CODE)[]),
  "internal_error",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

const ErrorDetail = z.strictObject({
  path: z.string().meta({ description: "the field, dot-separated, or `(body)`" }),
  message: z.string(),
});

/**
 * `{"error": {"code", "message", "details"?}}`, with `code` narrowed to `codes`. Upstream errors
 * (422, 429, 502) also carry the task as it was recorded.
 */
export function errorBodyOf(codes: readonly [ErrorCode, ...ErrorCode[]], withTask = false) {
  const error = z.strictObject({
    code: z.enum(codes),
    message: z.string().meta({ description: "for humans" }),
    details: z.array(ErrorDetail).optional(),
  });
  return withTask ? z.strictObject({ error, task: Task.optional() }) : z.strictObject({ error });
}

/** The error answer in general: any code, and the recorded task on upstream errors. */
export const ErrorBody = z.strictObject({
  error: z.strictObject({
    code: ErrorCode,
    message: z.string(),
    details: z.array(ErrorDetail).optional(),
  }),
  task: Task.optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Which error codes answer with which status (the inverse of the error handler's table). */
export function codesOfStatus(status: number): ErrorCode[] {
  return ErrorCode.options.filter(
    (code) =>
      (code === "internal_error" ? 500 : STATUS_BY_CODE[code as keyof typeof STATUS_BY_CODE]) ===
      status,
  );
}

import type { Context } from "hono";
import { TaskId } from "../contract/task.ts";
import type * as z from "../contract/z.ts";
import { NotFoundError, ValidationError } from "../core/errors.ts";
import { addToLogScope } from "../log.ts";
import { readJson } from "./body.ts";

// the schema-free readers, kept in body.ts so the callback bundle carries no route schemas
export { limitBody, MAX_JSON_DEPTH, nestsDeeperThan, readJson } from "./body.ts";

/** zod issues → the contract's `details` list. */
export function issuesToDetails(error: { issues: z.core.$ZodIssue[] }) {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
}

/** Parses the body as JSON and validates it (400 validation_failed with field details). */
export async function readBody<S extends z.ZodMiniType>(
  c: Context,
  schema: S,
): Promise<z.output<S>> {
  const json = await readJson(c);
  const result = schema.safeParse(json);
  if (!result.success) throw new ValidationError(issuesToDetails(result.error));
  return result.data;
}

/** Validates query parameters the same way. */
export function readQuery<S extends z.ZodMiniType>(c: Context, schema: S): z.output<S> {
  const result = schema.safeParse(c.req.query());
  if (!result.success)
    throw new ValidationError(issuesToDetails(result.error), "The query does not fit the schema.");
  return result.data;
}

/** The optional `Idempotency-Key` header: 1–255 printable ASCII characters. */
export function readIdempotencyKey(c: Context): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!/^[\x20-\x7e]{1,255}$/.test(key)) {
    throw new ValidationError([
      { path: "Idempotency-Key", message: "must be 1 to 255 printable ASCII characters" },
    ]);
  }
  return key;
}

/** A task id from the path; a malformed one cannot name a task, so it is 404 like an unknown one. */
export function pathTaskId(raw: string | undefined): string {
  const id = TaskId.safeParse(raw);
  if (!id.success) throw new NotFoundError();
  addToLogScope({ taskId: id.data });
  return id.data;
}

import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import {
  InvalidJsonError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from "../core/errors.ts";
import { TaskId } from "./schemas.ts";

/** zod issues → the contract's `details` list. */
export function issuesToDetails(error: z.ZodError) {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
}

/** Deeper bodies are refused before parsing: no request of the contract nests half as deep. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether the JSON text nests arrays and objects deeper than `max`: one pass over the text,
 * brackets inside strings ignored. Parsing, validating or logging a body 100 000 levels deep
 * would blow the stack (a 500); checked first, it is a plain 400.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}

/** Parses the body as JSON (400 invalid_json) without any schema. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw new InvalidJsonError();
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidJsonError();
  }
}

/** Parses the body as JSON and validates it (400 validation_failed with field details). */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const json = await readJson(c);
  const result = schema.safeParse(json);
  if (!result.success) throw new ValidationError(issuesToDetails(result.error));
  return result.data;
}

/** Validates query parameters the same way. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
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

/** A per-route body limit answering the contract's 413. */
export function limitBody(maxBytes: number) {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new PayloadTooLargeError(maxBytes);
    },
  });
}

/** A task id from the path; a malformed one cannot name a task, so it is 404 like an unknown one. */
export function pathTaskId(raw: string | undefined): string {
  const id = TaskId.safeParse(raw);
  if (!id.success) throw new NotFoundError();
  return id.data;
}

import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { InvalidJsonError, PayloadTooLargeError } from "../core/errors.ts";

/**
 * Reading a request body without any schema: what the callback needs (it checks the state
 * token before it parses anything), so its bundle carries none of the routes' schemas.
 */

/** Deeper bodies are refused before parsing: no request of the contract nests half as deep. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether the JSON text nests arrays and objects deeper than `max`: one pass over the text,
 * brackets inside strings ignored. Parsing, validating or logging a body 100 000 levels deep
 * would blow the stack (a 500); checked first, it is a plain 400.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  // fewer opening brackets than `max` cannot nest deeper: found by native search, this settles
  // every ordinary body without the character-by-character pass below
  let brackets = 0;
  for (const open of ["{", "["]) {
    for (let at = text.indexOf(open); at !== -1; at = text.indexOf(open, at + 1)) {
      if (++brackets > max) break;
    }
  }
  if (brackets <= max) return false;
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

/** A per-route body limit answering the contract's 413. */
export function limitBody(maxBytes: number) {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new PayloadTooLargeError(maxBytes);
    },
  });
}

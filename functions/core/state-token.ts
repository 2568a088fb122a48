import { createHmac, timingSafeEqual } from "node:crypto";

const PREFIX = "pb1";

function sign(secret: string, taskId: string): Buffer {
  return createHmac("sha256", secret).update(`paperboat:state:v1:${taskId}`).digest();
}

/**
 * The correlation token sent upstream as `state` and echoed back in every webhook:
 * `pb1.<taskId>.<base64url HMAC-SHA256>`. Whoever holds a valid token can only move that one
 * task forward, and only with data the forward-only write accepts.
 */
export function createStateToken(secret: string, taskId: string): string {
  return `${PREFIX}.${taskId}.${sign(secret, taskId).toString("base64url")}`;
}

/** The task id inside a token whose signature verifies (constant-time compare), else null. */
export function verifyStateToken(secret: string, token: unknown): string | null {
  if (typeof token !== "string" || token.length > 512) return null;
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== PREFIX) return null;
  const [, taskId = "", mac = ""] = parts;
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(taskId)) return null;
  // compared in canonical form, as text: decoding would ignore appended junk and spare bits
  const expected = Buffer.from(sign(secret, taskId).toString("base64url"));
  const given = Buffer.from(mac);
  if (given.length !== expected.length) return null;
  return timingSafeEqual(given, expected) ? taskId : null;
}

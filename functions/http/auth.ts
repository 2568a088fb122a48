import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { Authenticate } from "../core/api-keys.ts";
import { UnauthorizedError } from "../core/errors.ts";

export type AuthEnv = { Variables: { owner: string } };

/** The Bearer token of the request, or a 401. */
function bearerOf(header: string | undefined): string {
  const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(header ?? "");
  if (!match?.[1]) throw new UnauthorizedError();
  return match[1];
}

/**
 * Bearer API keys: the bootstrap API_KEYS and, given an authenticator over the table, the keys
 * kept there (functions/core/api-keys.ts). Only SHA-256 hashes are compared, in constant time.
 * A table key's lastUsedAt write, when one is due, runs beside the route and is awaited after it,
 * so it adds no latency of its own and never outlives the request.
 */
export function createApiKeyAuth(authenticate: Authenticate): MiddlewareHandler<AuthEnv> {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const found = await authenticate(bearerOf(c.req.header("authorization")));
    if (found === null) throw new UnauthorizedError("The API key is not valid.");
    c.set("owner", found.owner);
    try {
      await next();
    } finally {
      await found.settled;
    }
  });
}

/**
 * The operator's ADMIN_KEY on `/v1/admin/*`, compared as SHA-256 in constant time. No owner's
 * key is ever accepted here, whatever it is.
 */
export function createAdminAuth(adminKey: string): MiddlewareHandler {
  const expected = createHash("sha256").update(adminKey).digest();
  return createMiddleware(async (c, next) => {
    const presented = createHash("sha256")
      .update(bearerOf(c.req.header("authorization")))
      .digest();
    if (!timingSafeEqual(expected, presented)) {
      throw new UnauthorizedError("The admin key is not valid.");
    }
    await next();
  });
}

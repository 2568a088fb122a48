import { createHash, timingSafeEqual } from "node:crypto";
import { createMiddleware } from "hono/factory";
import { UnauthorizedError } from "../core/errors.ts";

export type AuthEnv = { Variables: { owner: string } };

const sha256 = (value: string) => createHash("sha256").update(value).digest();

/**
 * Bearer API keys from API_KEYS. Only SHA-256 hashes are kept; a presented key is hashed and
 * compared with every known hash in constant time, so timing reveals neither which key nor how
 * much of it matched.
 */
export function createApiKeyAuth(apiKeys: readonly { owner: string; key: string }[]) {
  const known = apiKeys.map(({ owner, key }) => ({ owner, hash: sha256(key) }));
  return createMiddleware<AuthEnv>(async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
    if (!match?.[1]) throw new UnauthorizedError();
    const presented = sha256(match[1]);
    let owner: string | null = null;
    for (const entry of known) {
      if (timingSafeEqual(entry.hash, presented) && owner === null) owner = entry.owner;
    }
    if (owner === null) throw new UnauthorizedError("The API key is not valid.");
    c.set("owner", owner);
    await next();
  });
}

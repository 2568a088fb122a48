import type { ApiKeyList } from "../contract/admin.ts";
import { AdminUsageQuery, CreateKeyBody, KeyListQuery, LimitsBody } from "../contract/admin.ts";
import { BODY_LIMITS } from "../contract/limits.ts";
import {
  type ApiKeyAdminDeps,
  createApiKey,
  KeyId,
  listApiKeys,
  OwnerName,
  revokeApiKey,
} from "../core/api-keys.ts";
import { NotFoundError } from "../core/errors.ts";
import type { Logger } from "../core/ports.ts";
import { getUsage, type QuotaStore } from "../core/quota.ts";
import { createAdminAuth } from "./auth.ts";
import { createBaseApp } from "./base.ts";
import { limitBody, readBody, readQuery } from "./validate.ts";

export interface AdminAppDeps extends ApiKeyAdminDeps {
  /** The operator's credential; owners' keys are never accepted here. */
  adminKey: string;
  log: Logger;
  /** Owners' limits and usage (docs/operating.md). */
  quota: QuotaStore;
}

/**
 * The admin function: the operator manages owners' API keys with ADMIN_KEY. Its own function,
 * so only it holds ADMIN_KEY and the right to write keys.
 */
export function createAdminApp(deps: AdminAppDeps) {
  const app = createBaseApp(deps.log);
  app.use("/v1/admin/*", createAdminAuth(deps.adminKey));

  app.post("/v1/admin/keys", limitBody(BODY_LIMITS["POST /v1/admin/keys"]), async (c) => {
    const body = await readBody(c, CreateKeyBody);
    const created = await createApiKey(deps, body);
    // the key itself is never logged, its id is
    deps.log.info("api key created", { keyId: created.id, owner: created.owner });
    const { lastUsedAt: _, ...answer } = created;
    return c.json(answer, 201);
  });

  app.get("/v1/admin/keys", async (c) => {
    const query = readQuery(c, KeyListQuery);
    return c.json({ items: await listApiKeys(deps, query.owner) } satisfies ApiKeyList);
  });

  app.delete("/v1/admin/keys/:id", async (c) => {
    const id = KeyId.safeParse(c.req.param("id"));
    // a malformed id cannot name a key: the same answer as an unknown one
    if (!id.success) throw new NotFoundError("No such key.");
    await revokeApiKey(deps, id.data);
    deps.log.info("api key revoked", { keyId: id.data });
    return c.body(null, 204);
  });

  app.put(
    "/v1/admin/owners/:owner/limits",
    limitBody(BODY_LIMITS["PUT /v1/admin/owners/{owner}/limits"]),
    async (c) => {
      const owner = OwnerName.safeParse(c.req.param("owner"));
      if (!owner.success) throw new NotFoundError("No such owner.");
      const body = await readBody(c, LimitsBody);
      const limits = await deps.quota.setLimits(owner.data, body);
      deps.log.info("owner limits set", { ...limits });
      return c.json(limits);
    },
  );

  app.get("/v1/admin/usage", async (c) => {
    const query = readQuery(c, AdminUsageQuery);
    return c.json(await getUsage(deps, query.owner, query));
  });

  return app;
}

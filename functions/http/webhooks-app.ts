import { BODY_LIMITS } from "../contract/limits.ts";
import type { DeliveryList } from "../contract/webhooks.ts";
import { DeliveryId, EndpointBody, RetryTarget, RotateBody } from "../contract/webhooks.ts";
import type { Authenticate } from "../core/api-keys.ts";
import type { EndpointDeps } from "../core/endpoints.ts";
import { NotFoundError } from "../core/errors.ts";
import type { Logger } from "../core/ports.ts";
import type { WebhookAdminDeps } from "../core/webhook-admin.ts";
import { type AuthEnv, createApiKeyAuth } from "./auth.ts";
import { createBaseApp } from "./base.ts";
import { limitBody, pathTaskId, readBody } from "./validate.ts";

export interface WebhooksAppDeps
  extends Omit<WebhookAdminDeps, "deliveries" | "secrets">,
    Omit<EndpointDeps, "clock" | "endpoints"> {
  /** Each group of routes' store, created by the first request that needs it (compose/webhooks.ts). */
  deliveries(): Promise<WebhookAdminDeps["deliveries"]>;
  secrets(): Promise<WebhookAdminDeps["secrets"]>;
  endpoints(): Promise<EndpointDeps["endpoints"]>;
  /** Who a Bearer key belongs to (functions/core/api-keys.ts createAuthenticator). */
  authenticate: Authenticate;
  log: Logger;
}

export const DEFAULT_GRACE_SECONDS = 24 * 3600;

/**
 * The code of each group of routes (the deliveries and the signing secret: core/webhook-admin.ts;
 * the endpoints: core/endpoints.ts), loaded by the first request that needs it: a cold start
 * serves one group, and in the deployed bundle the others' code is chunks it never reads (SST's
 * `splitting`, docs/performance.md).
 */
let admin: Promise<typeof import("../core/webhook-admin.ts")> | undefined;
let endpointsCode: Promise<typeof import("../core/endpoints.ts")> | undefined;
const loadAdmin = () => {
  admin ??= import("../core/webhook-admin.ts");
  return admin;
};
const loadEndpoints = () => {
  endpointsCode ??= import("../core/endpoints.ts");
  return endpointsCode;
};

/**
 * The webhooks function: a task's delivery log and manual redelivery, and the owner's signing
 * secret. Its own function, so only it (and the dispatcher) holds WEBHOOK_SECRET.
 */
export function createWebhooksApp(deps: WebhooksAppDeps) {
  const app = createBaseApp<AuthEnv>(deps.log);
  app.use("/v1/*", createApiKeyAuth(deps.authenticate));

  app.get("/v1/tasks/:id/deliveries", async (c) => {
    const id = pathTaskId(c.req.param("id"));
    const { listDeliveries } = await loadAdmin();
    const deliveries = await deps.deliveries();
    const items = await listDeliveries({ ...deps, deliveries }, c.get("owner"), id);
    return c.json({ items } satisfies DeliveryList);
  });

  app.post("/v1/tasks/:id/deliveries/:deliveryId/retry", async (c) => {
    const id = pathTaskId(c.req.param("id"));
    const deliveryId = DeliveryId.safeParse(c.req.param("deliveryId"));
    const target = RetryTarget.safeParse(c.req.query("target") ?? "webhook");
    if (!deliveryId.success || !target.success) {
      throw new NotFoundError("The task has no delivery with this id.");
    }
    const owner = c.get("owner");
    const { retryDelivery } = await loadAdmin();
    const deliveries = await deps.deliveries();
    const retried = await retryDelivery(
      { ...deps, deliveries },
      owner,
      id,
      deliveryId.data,
      target.data,
    );
    return c.json(retried, 202);
  });

  app.post(
    "/v1/webhook-endpoints",
    limitBody(BODY_LIMITS["POST /v1/webhook-endpoints"]),
    async (c) => {
      const body = await readBody(c, EndpointBody);
      const { createEndpoint } = await loadEndpoints();
      const endpoints = await deps.endpoints();
      return c.json(await createEndpoint({ ...deps, endpoints }, c.get("owner"), body), 201);
    },
  );

  app.get("/v1/webhook-endpoints", async (c) => {
    const { listEndpoints } = await loadEndpoints();
    const endpoints = await deps.endpoints();
    return c.json(await listEndpoints({ ...deps, endpoints }, c.get("owner")));
  });

  app.delete("/v1/webhook-endpoints/:id", async (c) => {
    const { deleteEndpoint } = await loadEndpoints();
    const endpoints = await deps.endpoints();
    await deleteEndpoint({ ...deps, endpoints }, c.get("owner"), c.req.param("id"));
    return c.body(null, 204);
  });

  app.get("/v1/webhook-secret", async (c) => {
    const { getWebhookSecret } = await loadAdmin();
    const secrets = await deps.secrets();
    return c.json(await getWebhookSecret({ ...deps, secrets }, c.get("owner")));
  });

  app.post(
    "/v1/webhook-secret/rotate",
    limitBody(BODY_LIMITS["POST /v1/webhook-secret/rotate"]),
    async (c) => {
      // no body at all is the defaults (Hono keeps the text it read, for readBody)
      const body = (await c.req.text()).trim() === "" ? {} : await readBody(c, RotateBody);
      const grace = body.gracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
      const { rotateWebhookSecret } = await loadAdmin();
      const secrets = await deps.secrets();
      return c.json(await rotateWebhookSecret({ ...deps, secrets }, c.get("owner"), grace));
    },
  );

  return app;
}

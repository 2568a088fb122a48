import { BODY_LIMITS } from "../contract/limits.ts";
import type { DeliveryList } from "../contract/webhooks.ts";
import { DeliveryId, EndpointBody, RetryTarget, RotateBody } from "../contract/webhooks.ts";
import type { Authenticate } from "../core/api-keys.ts";
import {
  createEndpoint,
  deleteEndpoint,
  type EndpointDeps,
  listEndpoints,
} from "../core/endpoints.ts";
import { NotFoundError } from "../core/errors.ts";
import type { Logger } from "../core/ports.ts";
import {
  getWebhookSecret,
  listDeliveries,
  retryDelivery,
  rotateWebhookSecret,
  type WebhookAdminDeps,
} from "../core/webhook-admin.ts";
import { type AuthEnv, createApiKeyAuth } from "./auth.ts";
import { createBaseApp } from "./base.ts";
import { limitBody, pathTaskId, readBody } from "./validate.ts";

export interface WebhooksAppDeps extends WebhookAdminDeps, Omit<EndpointDeps, "clock"> {
  /** Who a Bearer key belongs to (functions/core/api-keys.ts createAuthenticator). */
  authenticate: Authenticate;
  log: Logger;
}

export const DEFAULT_GRACE_SECONDS = 24 * 3600;

/**
 * The webhooks function: a task's delivery log and manual redelivery, and the owner's signing
 * secret. Its own function, so only it (and the dispatcher) holds WEBHOOK_SECRET.
 */
export function createWebhooksApp(deps: WebhooksAppDeps) {
  const app = createBaseApp<AuthEnv>(deps.log);
  app.use("/v1/*", createApiKeyAuth(deps.authenticate));

  app.get("/v1/tasks/:id/deliveries", async (c) => {
    const id = pathTaskId(c.req.param("id"));
    return c.json({ items: await listDeliveries(deps, c.get("owner"), id) } satisfies DeliveryList);
  });

  app.post("/v1/tasks/:id/deliveries/:deliveryId/retry", async (c) => {
    const id = pathTaskId(c.req.param("id"));
    const deliveryId = DeliveryId.safeParse(c.req.param("deliveryId"));
    const target = RetryTarget.safeParse(c.req.query("target") ?? "webhook");
    if (!deliveryId.success || !target.success) {
      throw new NotFoundError("The task has no delivery with this id.");
    }
    const owner = c.get("owner");
    const retried = await retryDelivery(deps, owner, id, deliveryId.data, target.data);
    return c.json(retried, 202);
  });

  app.post(
    "/v1/webhook-endpoints",
    limitBody(BODY_LIMITS["POST /v1/webhook-endpoints"]),
    async (c) => {
      const body = await readBody(c, EndpointBody);
      return c.json(await createEndpoint(deps, c.get("owner"), body), 201);
    },
  );

  app.get("/v1/webhook-endpoints", async (c) => c.json(await listEndpoints(deps, c.get("owner"))));

  app.delete("/v1/webhook-endpoints/:id", async (c) => {
    await deleteEndpoint(deps, c.get("owner"), c.req.param("id"));
    return c.body(null, 204);
  });

  app.get("/v1/webhook-secret", async (c) => c.json(await getWebhookSecret(deps, c.get("owner"))));

  app.post(
    "/v1/webhook-secret/rotate",
    limitBody(BODY_LIMITS["POST /v1/webhook-secret/rotate"]),
    async (c) => {
      // no body at all is the defaults (Hono keeps the text it read, for readBody)
      const body = (await c.req.text()).trim() === "" ? {} : await readBody(c, RotateBody);
      const grace = body.gracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
      return c.json(await rotateWebhookSecret(deps, c.get("owner"), grace));
    },
  );

  return app;
}

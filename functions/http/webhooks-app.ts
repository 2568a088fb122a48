import * as z from "zod";
import type { Authenticate } from "../core/api-keys.ts";
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

export interface WebhooksAppDeps extends WebhookAdminDeps {
  /** Who a Bearer key belongs to (functions/core/api-keys.ts createAuthenticator). */
  authenticate: Authenticate;
  log: Logger;
}

/** A delivery id as the API makes them (`evt_<task id>_<status>[_<progress>]`). */
const DeliveryId = z.string().regex(/^evt_[0-9A-HJKMNP-TV-Z]{26}_[A-Z_]+(?:_\d{1,3})?$/);

/** `POST /v1/webhook-secret/rotate`: how long the old secret keeps signing (default a day). */
export const RotateBody = z.strictObject({
  gracePeriodSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .optional(),
});

export const DEFAULT_GRACE_SECONDS = 24 * 3600;

/** `GET /v1/webhook-secret` (functions/core/webhook-admin.ts WebhookSecretView). */
export const WebhookSecret = z.object({
  secret: z.string(),
  version: z.number().int(),
  rotatedAt: z.string().nullable(),
  previousValidUntil: z.string().nullable(),
});

/**
 * The webhooks function: a task's delivery log and manual redelivery, and the owner's signing
 * secret. Its own function, so only it (and the dispatcher) holds WEBHOOK_SECRET.
 */
export function createWebhooksApp(deps: WebhooksAppDeps) {
  const app = createBaseApp<AuthEnv>(deps.log);
  app.use("/v1/*", createApiKeyAuth(deps.authenticate));

  app.get("/v1/tasks/:id/deliveries", async (c) => {
    const id = pathTaskId(c.req.param("id"));
    return c.json({ items: await listDeliveries(deps, c.get("owner"), id) });
  });

  app.post("/v1/tasks/:id/deliveries/:deliveryId/retry", async (c) => {
    const id = pathTaskId(c.req.param("id"));
    const deliveryId = DeliveryId.safeParse(c.req.param("deliveryId"));
    if (!deliveryId.success) throw new NotFoundError("The task has no delivery with this id.");
    return c.json(await retryDelivery(deps, c.get("owner"), id, deliveryId.data), 202);
  });

  app.get("/v1/webhook-secret", async (c) => c.json(await getWebhookSecret(deps, c.get("owner"))));

  app.post("/v1/webhook-secret/rotate", limitBody(1024), async (c) => {
    // no body at all is the defaults (Hono keeps the text it read, for readBody)
    const body = (await c.req.text()).trim() === "" ? {} : await readBody(c, RotateBody);
    const grace = body.gracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    return c.json(await rotateWebhookSecret(deps, c.get("owner"), grace));
  });

  return app;
}

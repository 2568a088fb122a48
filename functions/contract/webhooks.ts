import { TaskEventType } from "./events.ts";
import { WebhookEvents, WebhookUrl } from "./submit.ts";
import * as z from "./z.ts";

/** The webhooks function's routes (docs/webhooks.md): delivery log, endpoints, signing secret. */

/** `ep_` + a ULID: an endpoint's id, and the `target` of its deliveries. */
export const EndpointId = /* @__PURE__ */ z.onDemand(() =>
  z.string().check(z.regex(/^ep_[0-9A-HJKMNP-TV-Z]{26}$/)),
);

/** A delivery id as the API makes them (`evt_<task id>_<status>[_<progress>]`). */
export const DeliveryId = /* @__PURE__ */ z.onDemand(() =>
  z.string().check(z.regex(/^evt_[0-9A-HJKMNP-TV-Z]{26}_[A-Z_]+(?:_\d{1,3})?$/)),
);

/**
 * Where a delivery goes: the task's webhookUrl, the event bus, or one of the owner's account
 * endpoints, named by its id.
 */
export const DeliveryTarget = /* @__PURE__ */ z.onDemand(() =>
  z.union([z.enum(["webhook", "bus"]), z.built(EndpointId)]),
);
export type DeliveryTarget = z.infer<typeof DeliveryTarget>;

/** pending → delivered (2xx) | dead (every attempt failed) | stopped (the receiver said 410). */
export const DeliveryStatus = /* @__PURE__ */ z.onDemand(() =>
  z.enum(["pending", "delivered", "dead", "stopped"]),
);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

const count = () => z.number().check(z.int(), z.nonnegative());

export const DeliveryAttempt = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    at: z.string(),
    /** The receiver's HTTP status; null when there was no answer (timeout, refused, blocked). */
    statusCode: z.nullable(z.number().check(z.int())),
    latencyMs: count(),
    /** Why the attempt failed, when it did. */
    error: z.nullable(z.string()),
    /** The first 1 KB of the receiver's answer. */
    response: z.nullable(z.string()),
    /** Asked for with `POST .../retry`. */
    manual: z.boolean(),
  }),
);
export type DeliveryAttempt = z.infer<typeof DeliveryAttempt>;

export const Delivery = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    /** The event's id: the `webhook-id` header and the body's `id`. */
    id: z.string(),
    taskId: z.string(),
    owner: z.string(),
    target: z.built(DeliveryTarget),
    type: z.built(TaskEventType),
    /** The webhookUrl or the endpoint's URL (null for the bus). */
    url: z.nullable(z.string()),
    status: z.built(DeliveryStatus),
    /** Attempts made, all of them; `attempts` keeps the newest MAX_LOGGED_ATTEMPTS. */
    attemptCount: count(),
    attempts: z.array(z.built(DeliveryAttempt)),
    nextAttemptAt: z.nullable(z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
  }),
);
export type Delivery = z.infer<typeof Delivery>;

/** `GET /v1/tasks/{id}/deliveries`. */
export const DeliveryList = /* @__PURE__ */ z.onDemand(() =>
  z.object({ items: z.array(z.built(Delivery)) }),
);
export type DeliveryList = z.infer<typeof DeliveryList>;

/** `?target=` of a redelivery: the task's webhookUrl (default) or an endpoint's id. */
export const RetryTarget = /* @__PURE__ */ z.onDemand(() =>
  z.union([
    z.literal("webhook"),
    z.pipe(
      z.built(EndpointId),
      z.transform((id) => id as `ep_${string}`),
    ),
  ]),
);

/** `POST /v1/webhook-endpoints`: where, and which events (default: all but task.progress). */
export const EndpointBody = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    url: z.built(WebhookUrl),
    events: z.optional(z.built(WebhookEvents)),
  }),
);
export type EndpointBody = z.infer<typeof EndpointBody>;

/** An endpoint as the API shows it. */
export const EndpointView = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
  }),
);
export type EndpointView = z.infer<typeof EndpointView>;

/** `GET /v1/webhook-endpoints`. */
export const EndpointList = /* @__PURE__ */ z.onDemand(() =>
  z.object({ items: z.array(z.built(EndpointView)) }),
);
export type EndpointList = z.infer<typeof EndpointList>;

/** `POST /v1/webhook-secret/rotate`: how long the old secret keeps signing (default a day). */
export const RotateBody = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    gracePeriodSeconds: z.optional(
      z.number().check(z.int(), z.minimum(0), z.maximum(7 * 24 * 3600)),
    ),
  }),
);
export type RotateBody = z.infer<typeof RotateBody>;

/** `GET /v1/webhook-secret`. */
export const WebhookSecret = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    /** Verifies our webhooks' signatures (Standard Webhooks: `whsec_` + base64 key). */
    secret: z.string(),
    version: z.number().check(z.int()),
    rotatedAt: z.nullable(z.string()),
    /** Until then the previous secret also signs every webhook (both signatures are sent). */
    previousValidUntil: z.nullable(z.string()),
  }),
);
export type WebhookSecret = z.infer<typeof WebhookSecret>;

import type { ROUTES } from "../routes.ts";

type Route = (typeof ROUTES)[number];
/** `"POST /v1/imagine"`: a route of functions/routes.ts. */
type RouteKey = Route extends infer R
  ? R extends { method: infer M extends string; path: infer P extends string }
    ? `${M} ${P}`
    : never
  : never;

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The body limit of every route that reads a body (a larger one is `413 payload_too_large`).
 * Images come as data URIs inside the JSON, and on AWS the whole request event must fit
 * Lambda's 6 MB synchronous payload, so every route with images takes at most 5 MiB (room left
 * for the event's headers and context). Routes without images are small; the upstream's task
 * JSON is a few KB (describe prompts and buttons included), so 256 KiB is ample for its webhook.
 */
export const BODY_LIMITS = {
  "POST /v1/imagine": 5 * MiB,
  "POST /v1/tasks/{id}/actions": 16 * KiB,
  "POST /v1/tasks/{id}/modal": 5 * MiB,
  "POST /v1/blend": 5 * MiB,
  "POST /v1/describe": 5 * MiB,
  "POST /v1/shorten": 64 * KiB,
  "POST /v1/video": 5 * MiB,
  "POST /v1/edits": 5 * MiB,
  "POST /v1/retexture": 5 * MiB,
  "POST /v1/tasks/{id}/cancel": KiB,
  "POST /hooks/midjourney": 256 * KiB,
  "POST /v1/uploads": 5 * MiB,
  "POST /v1/webhook-secret/rotate": KiB,
  "POST /v1/webhook-endpoints": 8 * KiB,
  "POST /v1/admin/keys": 4 * KiB,
  "PUT /v1/admin/owners/{owner}/limits": 4 * KiB,
} as const satisfies Partial<Record<RouteKey, number>>;

import * as z from "./z.ts";

const described = <T extends z.ZodMiniType>(schema: T, description: string): T =>
  schema.check(z.describe(description)) as T;

/** One upstream in `GET /health` (docs/upstreams.md "Several upstreams"). */
export const UpstreamState = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    id: described(z.string(), "stable id, derived from the upstream's base URL"),
    position: described(
      z.number().check(z.int(), z.minimum(1)),
      "its place in MJ_API_BASE_URL, from 1",
    ),
    state: described(
      z.enum(["up", "down", "probing", "busy", "unknown"]),
      "`down`: failing, skipped until `retryAt`; `probing`: the next submit tries it again; `busy`: its queue was full; `unknown`: the states could not be read",
    ),
    since: described(
      z.nullable(z.string()),
      "when the state last changed; null: never seen failing",
    ),
    reason: described(z.nullable(z.string()), "why it is down or busy"),
    retryAt: described(z.nullable(z.string()), "while down or busy: when it is tried again"),
  }),
);
export type UpstreamState = z.infer<typeof UpstreamState>;

/** `GET /health`. */
export const Health = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    status: z.literal("ok"),
    upstreams: z.array(z.built(UpstreamState)),
  }),
);
export type Health = z.infer<typeof Health>;

/** `POST /hooks/midjourney`: what became of the webhook (stale and ignored ones change nothing). */
export const WebhookAnswer = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({ result: z.enum(["applied", "stale", "ignored"]) }),
);
export type WebhookAnswer = z.infer<typeof WebhookAnswer>;

import {
  type EndpointBody,
  EndpointId,
  type EndpointList,
  type EndpointView,
} from "../contract/webhooks.ts";
import * as z from "../contract/z.ts";
import { InvalidStateError, NotFoundError, ValidationError } from "./errors.ts";
import { DEFAULT_WEBHOOK_EVENTS, TaskEventType } from "./events.ts";
import type { Clock } from "./ports.ts";

/**
 * Account webhook endpoints (docs/webhooks.md): URLs that get every task event of their owner,
 * whatever webhookUrl the task was submitted with. Each is an item under the owner's partition,
 * so the dispatcher reads an owner's endpoints with one Query.
 */

export { EndpointId };

/** Endpoints an owner may have at once. */
export const MAX_ENDPOINTS = 10;

export const WebhookEndpoint = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    id: z.built(EndpointId),
    url: z.string(),
    /** The events it gets (the same names and defaults as a task's webhookEvents). */
    events: z.array(z.built(TaskEventType)),
    createdAt: z.string(),
  }),
);
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

/** Storage of endpoints. Implemented in functions/store/endpoint-store.ts. */
export interface EndpointStore {
  /** An owner's endpoints (not deleted), oldest first: one Query. */
  list(owner: string): Promise<WebhookEndpoint[]>;
  /** Adds one unless the owner already has `max` (one transaction with the owner's count). */
  create(owner: string, endpoint: WebhookEndpoint, max: number): Promise<"created" | "full">;
  /** Deletes one; false when the owner has no such endpoint. */
  remove(owner: string, id: string, at: Date): Promise<boolean>;
}

export interface EndpointDeps {
  endpoints: EndpointStore;
  /** Null when `url` may be a webhook URL, else why not (functions/webhooks/url-policy.ts). */
  checkUrl(url: string): Promise<string | null>;
  newId(): string;
  clock: Clock;
}

const view = ({ id, url, events }: WebhookEndpoint): EndpointView => ({ id, url, events });

export type { EndpointView };

/** `POST /v1/webhook-endpoints`. */
export async function createEndpoint(
  deps: EndpointDeps,
  owner: string,
  body: EndpointBody,
): Promise<EndpointView> {
  const refused = await deps.checkUrl(body.url);
  if (refused) {
    throw new ValidationError([{ path: "url", message: refused }], `Invalid url: ${refused}.`);
  }
  const endpoint: WebhookEndpoint = {
    id: `ep_${deps.newId()}`,
    url: body.url,
    events: body.events ?? [...DEFAULT_WEBHOOK_EVENTS],
    createdAt: deps.clock.now().toISOString(),
  };
  if ((await deps.endpoints.create(owner, endpoint, MAX_ENDPOINTS)) === "full") {
    throw new InvalidStateError(
      `An account has at most ${MAX_ENDPOINTS} webhook endpoints; delete one before adding another.`,
    );
  }
  return view(endpoint);
}

/** `GET /v1/webhook-endpoints`. */
export async function listEndpoints(deps: EndpointDeps, owner: string): Promise<EndpointList> {
  return { items: (await deps.endpoints.list(owner)).map(view) };
}

/** `DELETE /v1/webhook-endpoints/{id}`: its later events are not made into deliveries. */
export async function deleteEndpoint(deps: EndpointDeps, owner: string, id: string) {
  const found = EndpointId.safeParse(id).success
    ? await deps.endpoints.remove(owner, id, deps.clock.now())
    : false;
  if (!found) throw new NotFoundError("No webhook endpoint with this id.");
}

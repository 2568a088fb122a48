import type { WebhookSecret } from "../contract/webhooks.ts";
import type { Delivery, DeliveryStore, StoredDelivery, WebhookSecretStore } from "./deliveries.ts";
import { InvalidStateError, NotFoundError } from "./errors.ts";
import type { Clock, TaskStore } from "./ports.ts";
import { getTask } from "./queries.ts";

/** What the webhooks function's routes need. */
export interface WebhookAdminDeps {
  store: Pick<TaskStore, "get">;
  deliveries: DeliveryStore;
  secrets: WebhookSecretStore;
  /** The `whsec_` secret of an owner's version (derived from WEBHOOK_SECRET, never stored). */
  secretOf(owner: string, version: number): string;
  clock: Clock;
}

/** A delivery as the API shows it (no payload: that is the task, at `GET /v1/tasks/{id}`). */
export function deliveryView(delivery: StoredDelivery): Delivery {
  const { payload: _p, attemptLimit: _l, due: _d, manualPending: _m, ...view } = delivery;
  return view;
}

/**
 * `GET /v1/tasks/{id}/deliveries`: the task's deliveries to URLs (its webhookUrl and the
 * owner's endpoints; never the bus), oldest event first.
 */
export async function listDeliveries(
  deps: WebhookAdminDeps,
  owner: string,
  taskId: string,
): Promise<Delivery[]> {
  await getTask(deps, owner, taskId);
  return (await deps.deliveries.list(taskId)).filter((d) => d.target !== "bus").map(deliveryView);
}

/** `POST /v1/tasks/{id}/deliveries/{deliveryId}/retry`: one more attempt, now. */
export async function retryDelivery(
  deps: WebhookAdminDeps,
  owner: string,
  taskId: string,
  deliveryId: string,
  target: "webhook" | `ep_${string}` = "webhook",
): Promise<Delivery> {
  const at = deps.clock.now();
  const delivery = await deps.deliveries.retryNow(owner, taskId, deliveryId, at, target);
  if (!delivery) throw new NotFoundError("The task has no delivery with this id.");
  return deliveryView(delivery);
}

/** `GET /v1/webhook-secret`'s answer (functions/contract/webhooks.ts). */
export type WebhookSecretView = WebhookSecret;

/** `GET /v1/webhook-secret`: the owner's current signing secret. */
export async function getWebhookSecret(
  deps: WebhookAdminDeps,
  owner: string,
): Promise<WebhookSecretView> {
  const versions = await deps.secrets.get(owner);
  const now = deps.clock.now().toISOString();
  return {
    secret: deps.secretOf(owner, versions.version),
    version: versions.version,
    rotatedAt: versions.rotatedAt,
    previousValidUntil:
      versions.previous && versions.previous.until > now ? versions.previous.until : null,
  };
}

/**
 * `POST /v1/webhook-secret/rotate`: a new secret; the old one keeps signing (a second
 * signature) for `gracePeriodSeconds`, so receivers can switch without dropping a webhook.
 */
export async function rotateWebhookSecret(
  deps: WebhookAdminDeps,
  owner: string,
  gracePeriodSeconds: number,
): Promise<WebhookSecretView> {
  const now = deps.clock.now();
  const current = await deps.secrets.get(owner);
  const rotated = await deps.secrets.rotate(
    owner,
    current,
    new Date(now.getTime() + gracePeriodSeconds * 1000),
    now,
  );
  if (rotated === "conflict") {
    throw new InvalidStateError(
      "The secret was rotated by another request just now; read it again.",
    );
  }
  return getWebhookSecret(deps, owner);
}

/** The secrets that sign an owner's webhooks now: the current one, and the previous in grace. */
export async function signingSecrets(
  deps: Pick<WebhookAdminDeps, "secrets" | "secretOf" | "clock">,
  owner: string,
): Promise<string[]> {
  const versions = await deps.secrets.get(owner);
  const now = deps.clock.now().toISOString();
  const secrets = [deps.secretOf(owner, versions.version)];
  if (versions.previous && versions.previous.until > now) {
    secrets.push(deps.secretOf(owner, versions.previous.version));
  }
  return secrets;
}

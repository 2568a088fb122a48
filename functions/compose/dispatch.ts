import { type DispatchDeps, dispatchDue, dispatchItems } from "../core/dispatch.ts";
import { signingSecrets } from "../core/webhook-admin.ts";
import { createDocumentClient, systemClock } from "../deps.ts";
import { createEventBus } from "../events/bus.ts";
import type { Resolver } from "../images/source.ts";
import { loggerFor } from "../log.ts";
import { createDeliveryStore } from "../store/delivery-store.ts";
import { createEndpointStore } from "../store/endpoint-store.ts";
import { MAX_ATTEMPTS, nextAttemptDelaySeconds } from "../webhooks/schedule.ts";
import { createWebhookSender } from "../webhooks/sender.ts";
import { deriveWebhookSecret, webhookHeaders } from "../webhooks/signing.ts";
import type { Overrides, SettingsOf } from "./settings.ts";

/**
 * Outbound webhooks and bus events (docs/webhooks.md): the dispatcher, fed by the table's stream
 * and a schedule (functions/lambda/dispatch.ts). The only bundle with the sender and the
 * EventBridge client.
 */

export interface DispatcherOverrides extends Overrides {
  /** DNS resolution of webhook hosts (tests of the address guard). */
  resolve?: Resolver;
  /** The attempt timeout (default 10 s). */
  webhookTimeoutMs?: number;
  /** How long a receiver's body may take after its headers (default 1 s). */
  webhookBodyTimeoutMs?: number;
  /** Jitter's randomness (tests pin it). */
  random?: () => number;
}

export interface Dispatcher {
  /** One run over the dispatch index (the schedule; the local stack's interval). */
  runDue(run?: { timeBudgetMs?: number }): ReturnType<typeof dispatchDue>;
  /** The items a table stream named (the stream-triggered Lambda). */
  runItems(
    keys: { pk: string; sk: string }[],
    run?: { timeBudgetMs?: number },
  ): ReturnType<typeof dispatchItems>;
}

export function composeDispatcher(
  config: SettingsOf<"dispatch">,
  overrides: DispatcherOverrides = {},
): Dispatcher {
  const log = loggerFor(config, overrides, "dispatch");
  const client = createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT });
  const deliveries = createDeliveryStore({
    client,
    tableName: config.TABLE_NAME,
    retentionDays: config.TASK_RETENTION_DAYS,
    log,
  });
  const endpoints = createEndpointStore({ client, tableName: config.TABLE_NAME, log });
  const clock = overrides.clock ?? systemClock;
  const secretOf = (owner: string, version: number) =>
    deriveWebhookSecret(config.WEBHOOK_SECRET, owner, version);
  const random = overrides.random ?? Math.random;
  const deps: DispatchDeps = {
    deliveries,
    endpoints: (owner) => endpoints.list(owner),
    async sign(owner, message) {
      const secrets = await signingSecrets({ secrets: deliveries.secrets, secretOf, clock }, owner);
      return webhookHeaders({
        msgId: message.id,
        timestampSeconds: message.timestampSeconds,
        body: message.body,
        secrets,
      });
    },
    webhooks: createWebhookSender({
      allowPrivate: config.ALLOW_PRIVATE_WEBHOOK_URLS,
      timeoutMs: overrides.webhookTimeoutMs,
      bodyTimeoutMs: overrides.webhookBodyTimeoutMs,
      resolve: overrides.resolve,
    }),
    bus: config.EVENT_BUS_NAME
      ? createEventBus({ busName: config.EVENT_BUS_NAME, endpoint: config.EVENT_BUS_ENDPOINT })
      : null,
    retryDelaySeconds: (failed, retryAfterSeconds) =>
      nextAttemptDelaySeconds(failed, { random, retryAfterSeconds }),
    maxAttempts: MAX_ATTEMPTS,
    clock,
    log,
  };
  return {
    runDue: (run = {}) => dispatchDue(deps, run),
    runItems: (keys, run = {}) => dispatchItems(deps, keys, run),
  };
}

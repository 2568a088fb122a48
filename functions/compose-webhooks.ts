import type { Overrides, SettingsOf } from "./compose.ts";
import { authenticatorFor } from "./compose-keys.ts";
import { type DispatchDeps, dispatchDue, dispatchItems } from "./core/dispatch.ts";
import type { Logger } from "./core/ports.ts";
import { signingSecrets } from "./core/webhook-admin.ts";
import { createDocumentClient, createIdFactory, systemClock } from "./deps.ts";
import { createEventBus } from "./events/bus.ts";
import { createWebhooksApp } from "./http/webhooks-app.ts";
import type { Resolver } from "./images/source.ts";
import { loggerFor } from "./log.ts";
import { createApiKeyStore } from "./store/api-key-store.ts";
import { createDeliveryStore } from "./store/delivery-store.ts";
import { createEndpointStore } from "./store/endpoint-store.ts";
import { createTaskStore } from "./store/task-store.ts";
import { MAX_ATTEMPTS, nextAttemptDelaySeconds } from "./webhooks/schedule.ts";
import { createWebhookSender } from "./webhooks/sender.ts";
import { deriveWebhookSecret, webhookHeaders } from "./webhooks/signing.ts";
import { checkWebhookHost } from "./webhooks/url-policy.ts";

/**
 * Outbound webhooks and bus events (docs/webhooks.md): the webhooks function's
 * app and the dispatcher. Kept out of compose.ts so only these bundles carry the sender and
 * the EventBridge client.
 */

function storesFor(
  config: { TABLE_NAME: string; DYNAMODB_ENDPOINT?: string; TASK_RETENTION_DAYS?: number },
  log: Logger,
) {
  const client = createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT });
  const table = { client, tableName: config.TABLE_NAME, retentionDays: config.TASK_RETENTION_DAYS };
  return {
    store: createTaskStore({ ...table, log }),
    deliveries: createDeliveryStore({ ...table, log }),
    endpoints: createEndpointStore({ client, tableName: config.TABLE_NAME, log }),
    keys: createApiKeyStore({ client, tableName: config.TABLE_NAME }),
  };
}

export function composeWebhooksApp(config: SettingsOf<"webhooks">, overrides: Overrides = {}) {
  const log = loggerFor(config, overrides, "webhooks");
  const { store, deliveries, endpoints, keys } = storesFor(config, log);
  return createWebhooksApp({
    store,
    deliveries,
    endpoints,
    checkUrl: (url) => checkWebhookHost(url, { allowPrivate: config.ALLOW_PRIVATE_WEBHOOK_URLS }),
    // endpoint ids are `ep_` + a ULID whatever ids tasks get
    newId: createIdFactory(),
    secrets: deliveries.secrets,
    secretOf: (owner, version) => deriveWebhookSecret(config.WEBHOOK_SECRET, owner, version),
    clock: overrides.clock ?? systemClock,
    log,
    authenticate: authenticatorFor(config, keys, overrides, log),
  });
}

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
  const { deliveries, endpoints } = storesFor(config, log);
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

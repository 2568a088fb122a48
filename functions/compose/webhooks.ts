import { createDocumentClient, createIdFactory, systemClock } from "../deps.ts";
import { createWebhooksApp } from "../http/webhooks-app.ts";
import { loggerFor } from "../log.ts";
import { createApiKeyStore } from "../store/api-key-store.ts";
import { createDeliveryStore } from "../store/delivery-store.ts";
import { createEndpointStore } from "../store/endpoint-store.ts";
import { createTaskReader } from "../store/task-store.ts";
import { deriveWebhookSecret } from "../webhooks/signing.ts";
import { checkWebhookHost } from "../webhooks/url-policy.ts";
import { authenticatorFor } from "./keys.ts";
import type { Overrides, SettingsOf } from "./settings.ts";

/**
 * The webhooks function (functions/lambda/webhooks.ts): delivery logs, redelivery, the signing
 * secret and account endpoints. Sending is the dispatcher's (functions/compose/dispatch.ts).
 */

function storesFor(
  config: { TABLE_NAME: string; DYNAMODB_ENDPOINT?: string; TASK_RETENTION_DAYS?: number },
  log: ReturnType<typeof loggerFor>,
) {
  const client = createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT });
  const table = { client, tableName: config.TABLE_NAME, retentionDays: config.TASK_RETENTION_DAYS };
  return {
    // the owner check before a task's deliveries: one read, not the whole task store
    store: createTaskReader({ client, tableName: config.TABLE_NAME, log }),
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

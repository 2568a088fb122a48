import { createDocumentClient, createIdFactory, systemClock } from "../deps.ts";
import { createWebhooksApp } from "../http/webhooks-app.ts";
import { loggerFor } from "../log.ts";
import { createApiKeyStore } from "../store/api-key-store.ts";
import { createTaskReader } from "../store/task-store.ts";
import { deriveWebhookSecret } from "../webhooks/signing.ts";
import { authenticatorFor } from "./keys.ts";
import type { Overrides, SettingsOf } from "./settings.ts";

/**
 * The webhooks function (functions/lambda/webhooks.ts): delivery logs, redelivery, the signing
 * secret and account endpoints. Sending is the dispatcher's (functions/compose/dispatch.ts).
 */

/** `create()` once, on the first call; every call after answers the same promise. */
function once<T>(create: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= create();
    return made;
  };
}

/**
 * The stores of the deliveries, the endpoints and the signing secret, and the endpoints' URL
 * guard, are imported by the first request that needs them (one client, made here, for all): a
 * cold start serves one of these groups of routes, and in the deployed bundle the others' code is
 * chunks it never reads (SST's `splitting`, docs/performance.md).
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
    deliveries: once(() =>
      import("../store/delivery-store.ts").then((m) => m.createDeliveryStore({ ...table, log })),
    ),
    endpoints: once(() =>
      import("../store/endpoint-store.ts").then((m) =>
        m.createEndpointStore({ client, tableName: config.TABLE_NAME, log }),
      ),
    ),
    secrets: once(() =>
      import("../store/webhook-secret-store.ts").then((m) =>
        m.createWebhookSecretStore({ client, tableName: config.TABLE_NAME }),
      ),
    ),
    keys: createApiKeyStore({ client, tableName: config.TABLE_NAME }),
  };
}

const loadUrlPolicy = once(() => import("../webhooks/url-policy.ts"));

export function composeWebhooksApp(config: SettingsOf<"webhooks">, overrides: Overrides = {}) {
  const log = loggerFor(config, overrides, "webhooks");
  const { store, deliveries, endpoints, secrets, keys } = storesFor(config, log);
  return createWebhooksApp({
    store,
    deliveries,
    endpoints,
    checkUrl: async (url) =>
      (await loadUrlPolicy()).checkWebhookHost(url, {
        allowPrivate: config.ALLOW_PRIVATE_WEBHOOK_URLS,
      }),
    // endpoint ids are `ep_` + a ULID whatever ids tasks get
    newId: createIdFactory(),
    secrets,
    secretOf: (owner, version) => deriveWebhookSecret(config.WEBHOOK_SECRET, owner, version),
    clock: overrides.clock ?? systemClock,
    log,
    authenticate: authenticatorFor(config, keys, overrides, log),
  });
}

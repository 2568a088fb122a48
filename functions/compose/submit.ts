import { createDocumentClient, createIdFactory, systemClock } from "../deps.ts";
import { createSubmitApp } from "../http/submit-app.ts";
import { loggerFor } from "../log.ts";
import { CALLBACK_PATH } from "../routes.ts";
import { createApiKeyStore } from "../store/api-key-store.ts";
import { createIdempotencyStore } from "../store/idempotency-store.ts";
import { createSubmitTaskStore } from "../store/task-store.ts";
import { createUpstreamHealthStore } from "../store/upstream-health-store.ts";
import { checkWebhookHost } from "../webhooks/url-policy.ts";
import { authenticatorFor } from "./keys.ts";
import type { Overrides, SettingsOf } from "./settings.ts";
import { upstreamFor } from "./upstream.ts";

/** What submitting needs, over HTTP (the submit app) or from the queue (its consumer). */
export function submitDepsFor(config: SettingsOf<"submit">, overrides: Overrides, fn: string) {
  const log = loggerFor(config, overrides, fn);
  const client = createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT });
  const table = { client, tableName: config.TABLE_NAME, retentionDays: config.TASK_RETENTION_DAYS };
  // the upstreams' recorded states (GET /health): the same client, no other
  const upstreamHealth = createUpstreamHealthStore({ client, tableName: config.TABLE_NAME });
  return {
    store: createSubmitTaskStore({ ...table, log }),
    idempotency: createIdempotencyStore(table),
    keys: createApiKeyStore({ client, tableName: config.TABLE_NAME }),
    upstreamHealth,
    // a retry is "still running" while the first request can still be waiting on the upstream
    idempotencyLockSeconds: Math.ceil(config.UPSTREAM_TIMEOUT_MS / 1000) + 30,
    upstream: upstreamFor(config, overrides, log, upstreamHealth),
    clock: overrides.clock ?? systemClock,
    newId: overrides.newId ?? createIdFactory(),
    log,
    callbackSecret: config.CALLBACK_SECRET,
    // PUBLIC_URL + "/hooks/midjourney", keeping any path PUBLIC_URL has (a proxy, a stage)
    callbackUrl: `${config.PUBLIC_URL.replace(/\/+$/, "")}${CALLBACK_PATH}`,
    checkWebhookUrl: (url: string) =>
      checkWebhookHost(url, { allowPrivate: config.ALLOW_PRIVATE_WEBHOOK_URLS }),
    scheduleYoungPolls: overrides.scheduleYoungPolls,
  };
}

/** The submit function: new tasks, actions, modals, cancel, seed (functions/lambda/submit.ts). */
export function composeSubmitApp(config: SettingsOf<"submit">, overrides: Overrides = {}) {
  const deps = submitDepsFor(config, overrides, "submit");
  return createSubmitApp({
    ...deps,
    authenticate: authenticatorFor(config, deps.keys, overrides, deps.log),
  });
}

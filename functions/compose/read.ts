import { createDocumentClient, systemClock } from "../deps.ts";
import { createReadApp } from "../http/read-app.ts";
import { loggerFor } from "../log.ts";
import { createApiKeyStore } from "../store/api-key-store.ts";
import { createQuotaStore } from "../store/quota-store.ts";
import { createTaskQueries } from "../store/task-store.ts";
import { createUpstreamHealthStore } from "../store/upstream-health-store.ts";
import { upstreamIds } from "../upstream/failover.ts";
import { createImageStore } from "./images.ts";
import { authenticatorFor } from "./keys.ts";
import type { Overrides, SettingsOf } from "./settings.ts";

/** The read function: tasks, lists, image links, uploads, usage, health (functions/lambda/read.ts). */
export function composeReadApp(config: SettingsOf<"read">, overrides: Overrides = {}) {
  const log = loggerFor(config, overrides, "read");
  const client = createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT });
  const clock = overrides.clock ?? systemClock;
  return createReadApp({
    // the task store's reads only: the read function writes no task
    store: createTaskQueries({ client, tableName: config.TABLE_NAME, log }),
    log,
    authenticate: authenticatorFor(
      config,
      createApiKeyStore({ client, tableName: config.TABLE_NAME }),
      overrides,
      log,
    ),
    publicUrl: config.PUBLIC_URL,
    quota: createQuotaStore({ client, tableName: config.TABLE_NAME }),
    retentionDays: config.TASK_RETENTION_DAYS,
    clock,
    images: overrides.images ?? createImageStore(config, { clock, signsLinks: true }),
    // ids only: read never sees the upstreams' keys
    upstreams: {
      ids: upstreamIds(config.MJ_API_BASE_URL.split(",")),
      health: createUpstreamHealthStore({ client, tableName: config.TABLE_NAME }),
    },
    events: { intervalMs: config.EVENTS_INTERVAL_MS, maxSeconds: config.EVENTS_MAX_SECONDS },
  });
}

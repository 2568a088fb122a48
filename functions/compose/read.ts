import { createReadApp } from "../http/read-app.ts";
import { createQuotaStore } from "../store/quota-store.ts";
import { createUpstreamHealthStore } from "../store/upstream-health-store.ts";
import { upstreamIds } from "../upstream/failover.ts";
import type { Overrides, SettingsOf } from "./settings.ts";
import { taskViewDepsFor } from "./task-views.ts";

/** The read function: tasks, lists, image links, uploads, usage, health (functions/lambda/read.ts). */
export function composeReadApp(config: SettingsOf<"read">, overrides: Overrides = {}) {
  const { client, ...deps } = taskViewDepsFor(config, overrides, "read");
  return createReadApp({
    ...deps,
    quota: createQuotaStore({ client, tableName: config.TABLE_NAME }),
    retentionDays: config.TASK_RETENTION_DAYS,
    // ids only: read never sees the upstreams' keys
    upstreams: {
      ids: upstreamIds(config.MJ_API_BASE_URL.split(",")),
      health: createUpstreamHealthStore({ client, tableName: config.TABLE_NAME }),
    },
  });
}

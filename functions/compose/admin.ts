import { createDocumentClient, systemClock } from "../deps.ts";
import { createAdminApp } from "../http/admin-app.ts";
import { loggerFor } from "../log.ts";
import { createApiKeyStore } from "../store/api-key-store.ts";
import { createQuotaStore } from "../store/quota-store.ts";
import type { Overrides, SettingsOf } from "./settings.ts";

/** The admin function's app: owners' API keys, with ADMIN_KEY (docs: keys). */
export function composeAdminApp(config: SettingsOf<"admin">, overrides: Overrides = {}) {
  const client = createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT });
  return createAdminApp({
    keys: createApiKeyStore({ client, tableName: config.TABLE_NAME }),
    clock: overrides.clock ?? systemClock,
    log: loggerFor(config, overrides, "admin"),
    adminKey: config.ADMIN_KEY,
    quota: createQuotaStore({ client, tableName: config.TABLE_NAME }),
  });
}

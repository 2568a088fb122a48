import { createDocumentClient, systemClock } from "../deps.ts";
import { createStreamApp } from "../http/stream-app.ts";
import { loggerFor } from "../log.ts";
import { createApiKeyStore } from "../store/api-key-store.ts";
import { createTaskQueries } from "../store/task-store.ts";
import { createImageStore } from "./images.ts";
import { authenticatorFor } from "./keys.ts";
import type { Overrides, SettingsOf } from "./settings.ts";

/** The live task stream alone (functions/lambda/stream.ts: a response-streaming function URL). */
export function composeStreamApp(config: SettingsOf<"stream">, overrides: Overrides = {}) {
  const log = loggerFor(config, overrides, "stream");
  const client = createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT });
  const clock = overrides.clock ?? systemClock;
  return createStreamApp({
    // the task store's reads only: a stream writes nothing
    store: createTaskQueries({ client, tableName: config.TABLE_NAME, log }),
    log,
    authenticate: authenticatorFor(
      config,
      createApiKeyStore({ client, tableName: config.TABLE_NAME }),
      overrides,
      log,
    ),
    publicUrl: config.PUBLIC_URL,
    clock,
    images: overrides.images ?? createImageStore(config, { clock, signsLinks: true }),
    events: { intervalMs: config.EVENTS_INTERVAL_MS, maxSeconds: config.EVENTS_MAX_SECONDS },
  });
}

import { createDocumentClient, systemClock } from "../deps.ts";
import { loggerFor } from "../log.ts";
import { createApiKeyStore } from "../store/api-key-store.ts";
import { createTaskQueries } from "../store/task-store.ts";
import { createImageStore } from "./images.ts";
import { authenticatorFor } from "./keys.ts";
import type { Overrides, SettingsOf } from "./settings.ts";

/**
 * What serving tasks to their owners needs, for the read function and the live stream alike:
 * the task store's reads only (neither writes a task), the owners' keys, signed image links and
 * the stream's pacing. `client` is theirs to share with the stores only one of them has.
 */
export function taskViewDepsFor(
  config: SettingsOf<"stream">,
  overrides: Overrides,
  fn: "read" | "stream",
) {
  const log = loggerFor(config, overrides, fn);
  const client = createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT });
  const clock = overrides.clock ?? systemClock;
  return {
    client,
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
  };
}

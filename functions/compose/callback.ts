import { createDocumentClient, systemClock } from "../deps.ts";
import { createCallbackApp } from "../http/callback-app.ts";
import { loggerFor } from "../log.ts";
import { createTaskApplier } from "../store/task-advance.ts";
import { parseUpstreamTask } from "../upstream/parse.ts";
import type { Overrides, SettingsOf } from "./settings.ts";

/** The callback function: the upstream's webhooks (functions/lambda/callback.ts). */
export function composeCallbackApp(config: SettingsOf<"callback">, overrides: Overrides = {}) {
  const log = loggerFor(config, overrides, "callback");
  return createCallbackApp({
    // the one write of the store a webhook makes, without the rest of it (store/task-advance.ts)
    store: createTaskApplier({
      // one retry only: a webhook must answer fast, and a lost one is the reconciler's to recover
      client: createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT, maxAttempts: 2 }),
      tableName: config.TABLE_NAME,
      log,
    }),
    clock: overrides.clock ?? systemClock,
    log,
    callbackSecret: config.CALLBACK_SECRET,
    parseUpstreamTask,
  });
}

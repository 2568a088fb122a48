import { handle } from "hono/aws-lambda";
import { loadConfig } from "../../functions/config.ts";
import { createDocumentClient, systemClock } from "../../functions/deps.ts";
import { createCallbackApp } from "../../functions/http/callback-app.ts";
import { createLogger } from "../../functions/log.ts";
import { readSettings } from "../../functions/platform.ts";
import { createTaskStore } from "../../functions/store/task-store.ts";

/**
 * Ablation: functions/lambda/callback.ts composed without functions/compose.ts, from the modules the
 * callback uses and nothing else (the same calls composeCallbackApp makes). compose.ts imports
 * every function's app, and zod schemas built at module level (submit's ImagineBody, read's
 * ListQuery, the idempotency records) cannot be tree-shaken, so every bundle builds them all.
 */
const config = loadConfig(readSettings(), ["TABLE_NAME", "DYNAMODB_ENDPOINT", "CALLBACK_SECRET"]);

export const handler = handle(
  createCallbackApp({
    store: createTaskStore({
      client: createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT, maxAttempts: 2 }),
      tableName: config.TABLE_NAME,
    }),
    clock: systemClock,
    log: createLogger({ base: { fn: "callback" } }),
    callbackSecret: config.CALLBACK_SECRET,
  }),
);

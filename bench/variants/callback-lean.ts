import { handle } from "hono/aws-lambda";
import { loadConfig } from "../../functions/config.ts";
import { createDocumentClient, systemClock } from "../../functions/deps.ts";
import { createCallbackApp } from "../../functions/http/callback-app.ts";
import { createLogger } from "../../functions/log.ts";
import { readSettings } from "../../functions/platform.ts";
import { createStoreWithoutReadBack } from "./store-without-read-back.ts";

/**
 * Ablation: callback-own-imports.ts, and the webhook's UpdateItem without reading the item back
 * (store-without-read-back.ts): the two changes recommended for functions/, together.
 */
const config = loadConfig(readSettings(), ["TABLE_NAME", "DYNAMODB_ENDPOINT", "CALLBACK_SECRET"]);

export const handler = handle(
  createCallbackApp({
    store: createStoreWithoutReadBack({
      client: createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT, maxAttempts: 2 }),
      tableName: config.TABLE_NAME,
    }),
    clock: systemClock,
    log: createLogger({ base: { fn: "callback" } }),
    callbackSecret: config.CALLBACK_SECRET,
  }),
);

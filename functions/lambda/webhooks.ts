import { handle } from "hono/aws-lambda";
import { FUNCTION_SETTINGS } from "../compose/settings.ts";
import { composeWebhooksApp } from "../compose/webhooks.ts";
import { loadConfig } from "../config.ts";
import { readSettings } from "../platform.ts";

/** Lambda entry of the webhooks function: delivery logs, redelivery, the signing secret. */
export const handler = handle(
  composeWebhooksApp(loadConfig(readSettings(), FUNCTION_SETTINGS.webhooks)),
);

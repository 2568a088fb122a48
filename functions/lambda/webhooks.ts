import { handle } from "hono/aws-lambda";
import { FUNCTION_SETTINGS } from "../compose/settings.ts";
import { composeWebhooksApp } from "../compose/webhooks.ts";
import { loadConfig } from "../config.ts";
import { readSettings } from "../platform.ts";
import { perInvocation } from "./invocation.ts";

/** Lambda entry of the webhooks function: delivery logs, redelivery, the signing secret. */
export const handler = perInvocation(
  handle(composeWebhooksApp(loadConfig(readSettings(), FUNCTION_SETTINGS.webhooks))),
);

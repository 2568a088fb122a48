import { handle } from "hono/aws-lambda";
import { WEBHOOKS_SETTINGS } from "../compose/settings.ts";
import { composeWebhooksApp } from "../compose/webhooks.ts";
import { loadSettings } from "../config.ts";
import { readSettings } from "../platform.ts";
import { perInvocation } from "./invocation.ts";

/** Lambda entry of the webhooks function: delivery logs, redelivery, the signing secret. */
export const handler = perInvocation(
  handle(composeWebhooksApp(loadSettings(readSettings(), WEBHOOKS_SETTINGS))),
);

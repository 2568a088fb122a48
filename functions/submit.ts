import { handle } from "hono/aws-lambda";
import { composeSubmitApp, FUNCTION_SETTINGS } from "./compose.ts";
import { loadConfig } from "./config.ts";
import { readSettings } from "./platform.ts";

/** Lambda entry of the submit function: config → deps → app, once per warm container. */
export const handler = handle(
  composeSubmitApp(loadConfig(readSettings(), FUNCTION_SETTINGS.submit)),
);

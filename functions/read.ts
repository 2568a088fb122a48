import { handle } from "hono/aws-lambda";
import { composeReadApp, FUNCTION_SETTINGS } from "./compose.ts";
import { loadConfig } from "./config.ts";
import { readSettings } from "./platform.ts";

/** Lambda entry of the read function: config → deps → app, once per warm container. */
export const handler = handle(composeReadApp(loadConfig(readSettings(), FUNCTION_SETTINGS.read)));

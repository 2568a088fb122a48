import { handle } from "hono/aws-lambda";
import { composeCallbackApp } from "../compose/callback.ts";
import { CALLBACK_SETTINGS } from "../compose/settings.ts";
import { loadSettings } from "../config.ts";
import { readSettings } from "../platform.ts";
import { perInvocation } from "./invocation.ts";

/** Lambda entry of the callback function: config → deps → app, once per warm container. */
export const handler = perInvocation(
  handle(composeCallbackApp(loadSettings(readSettings(), CALLBACK_SETTINGS))),
);

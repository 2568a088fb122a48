import { handle } from "hono/aws-lambda";
import { composeReadApp } from "../compose/read.ts";
import { READ_SETTINGS } from "../compose/settings.ts";
import { loadSettings } from "../config.ts";
import { readSettings } from "../platform.ts";
import { perInvocation } from "./invocation.ts";

/** Lambda entry of the read function: config → deps → app, once per warm container. */
export const handler = perInvocation(
  handle(composeReadApp(loadSettings(readSettings(), READ_SETTINGS))),
);

import { handle } from "hono/aws-lambda";
import { composeAdminApp } from "../compose/admin.ts";
import { ADMIN_SETTINGS } from "../compose/settings.ts";
import { loadSettings } from "../config.ts";
import { readSettings } from "../platform.ts";
import { perInvocation } from "./invocation.ts";

/** Lambda entry of the admin function: owners' API keys, with ADMIN_KEY. */
export const handler = perInvocation(
  handle(composeAdminApp(loadSettings(readSettings(), ADMIN_SETTINGS))),
);

import { handle } from "hono/aws-lambda";
import { composeCallbackApp } from "../../functions/compose/callback.ts";
import { FUNCTION_SETTINGS } from "../../functions/compose/settings.ts";
import { loadConfig } from "../../functions/config.ts";

/**
 * Cold-start ablation: functions/lambda/callback.ts without functions/platform.ts (`sst/resource` and
 * the decryption of resource.enc): settings straight from the environment.
 */
export const handler = handle(
  composeCallbackApp(loadConfig(process.env, FUNCTION_SETTINGS.callback)),
);

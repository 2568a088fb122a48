import { handle } from "hono/aws-lambda";
import { composeCallbackApp, FUNCTION_SETTINGS } from "../../functions/compose.ts";
import { loadConfig } from "../../functions/config.ts";

/**
 * Cold-start ablation: functions/callback.ts without functions/platform.ts (`sst/resource` and
 * the decryption of resource.enc): settings straight from the environment.
 */
export const handler = handle(
  composeCallbackApp(loadConfig(process.env, FUNCTION_SETTINGS.callback)),
);

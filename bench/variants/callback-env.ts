import { handle } from "hono/aws-lambda";
import { composeCallbackApp } from "../../functions/compose/callback.ts";
import { CALLBACK_SETTINGS } from "../../functions/compose/settings.ts";
import { loadSettings } from "../../functions/config.ts";

/**
 * Cold-start ablation: functions/lambda/callback.ts without functions/platform.ts (`sst/resource` and
 * the decryption of resource.enc): settings straight from the environment.
 */
export const handler = handle(composeCallbackApp(loadSettings(process.env, CALLBACK_SETTINGS)));

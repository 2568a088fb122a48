import { handle } from "hono/aws-lambda";
import { composeSubmitApp, FUNCTION_SETTINGS } from "./compose.ts";
import { youngPollSchedulerFor } from "./compose-young-polls.ts";
import { loadConfig } from "./config.ts";
import { readSettings } from "./platform.ts";

const config = loadConfig(readSettings(), FUNCTION_SETTINGS.submit);

/**
 * Lambda entry of the submit function: config → deps → app, once per warm container; a new
 * task's young polls go to the young-polls queue.
 */
export const handler = handle(
  composeSubmitApp(config, { scheduleYoungPolls: youngPollSchedulerFor(config) }),
);

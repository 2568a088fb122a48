import { handle } from "hono/aws-lambda";
import { scheduleYoungPollsFor } from "../compose/schedule-young-polls.ts";
import { FUNCTION_SETTINGS } from "../compose/settings.ts";
import { composeSubmitApp } from "../compose/submit.ts";
import { loadConfig } from "../config.ts";
import { readSettings } from "../platform.ts";
import { perInvocation } from "./invocation.ts";

const config = loadConfig(readSettings(), FUNCTION_SETTINGS.submit);

/**
 * Lambda entry of the submit function: config → deps → app, once per warm container; a new
 * task's young polls go to the young-polls queue.
 */
export const handler = perInvocation(
  handle(composeSubmitApp(config, { scheduleYoungPolls: scheduleYoungPollsFor(config) })),
);

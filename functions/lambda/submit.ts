import { handle } from "hono/aws-lambda";
import { scheduleYoungPollsFor } from "../compose/schedule-young-polls.ts";
import { SUBMIT_SETTINGS } from "../compose/settings.ts";
import { composeSubmitApp } from "../compose/submit.ts";
import { loadSettings } from "../config.ts";
import { readSettings } from "../platform.ts";
import { perInvocation } from "./invocation.ts";

const config = loadSettings(readSettings(), SUBMIT_SETTINGS);

/**
 * Lambda entry of the submit function: config → deps → app, once per warm container; a new
 * task's young polls go to the young-polls queue.
 */
export const handler = perInvocation(
  handle(composeSubmitApp(config, { scheduleYoungPolls: scheduleYoungPollsFor(config) })),
);

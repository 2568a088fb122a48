import { YOUNG_POLLS_SETTINGS } from "../compose/settings.ts";
import { composeYoungPollConsumer } from "../compose/young-polls.ts";
import { loadSettings } from "../config.ts";
import { readSettings } from "../platform.ts";
import type { QueueRecord } from "../queue/consumer.ts";
import { perInvocation } from "./invocation.ts";

const consume = composeYoungPollConsumer(loadSettings(readSettings(), YOUNG_POLLS_SETTINGS));

/**
 * Lambda entry of the young-polls queue's consumer (docs/architecture.md): each message names a
 * task submitted 3, 10, 20 or 40 s ago; the batch's tasks are polled together.
 */
export const handler = perInvocation(
  async (event: { Records?: QueueRecord[] }, _context?: { awsRequestId?: string }) =>
    consume(event.Records ?? []),
);

import { composeQueueConsumer } from "../compose/queue.ts";
import { scheduleYoungPollsFor } from "../compose/schedule-young-polls.ts";
import { QUEUE_SETTINGS } from "../compose/settings.ts";
import { loadSettings } from "../config.ts";
import { readSettings } from "../platform.ts";
import type { QueueRecord } from "../queue/consumer.ts";
import { perInvocation } from "./invocation.ts";

const config = loadSettings(readSettings(), QUEUE_SETTINGS);
const consume = composeQueueConsumer(config, { scheduleYoungPolls: scheduleYoungPollsFor(config) });

/**
 * Lambda entry of the imagine queue's consumer (docs/queue-and-bus.md): submit's code
 * (the same submit deps and submitImagine), fed by SQS batches and answering Lambda's partial
 * batch response. Its own entry file, so the HTTP submit bundle does not carry the SQS client.
 */
export const handler = perInvocation(
  async (event: { Records?: QueueRecord[] }, _context?: { awsRequestId?: string }) =>
    consume(event.Records ?? []),
);

import { LINKS } from "../functions/platform.ts";
import { TABLE_ACCESS, tableGrant } from "./access.ts";
import { api } from "./api.ts";
import { QUEUE_MAX_CONCURRENCY, RESERVED_CONCURRENCY } from "./limits.ts";
import { FUNCTION_DEFAULTS, LOG_ENVIRONMENT, UPSTREAM_TIMEOUT_MS } from "./runtime.ts";
import {
  apiKeys,
  callbackSecret,
  mjApiAuth,
  mjApiBaseUrl,
  mjApiKey,
  mjApiKind,
} from "./secrets.ts";
import { TASK_RETENTION_DAYS, table } from "./storage.ts";
import { youngPolls } from "./young-polls.ts";

/**
 * Queue-fed submissions (docs/queue-and-bus.md): pipelines send imagine requests as
 * SQS messages instead of calling the API. Malformed messages are moved here by the consumer
 * itself, with the reason as a message attribute; messages that keep failing for other reasons
 * (the store down) arrive after 5 receives through the queue's redrive. Kept 14 days.
 */
export const imagineDeadLetters = new sst.aws.Queue(LINKS.IMAGINE_DLQ_URL.resource, {
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 3600 } },
});

/**
 * The queue itself. The visibility timeout is six times the consumer's timeout (AWS's advice
 * for Lambda consumers), so a message is not handed out again while a batch still works on it.
 */
export const imagineQueue = new sst.aws.Queue(LINKS.IMAGINE_QUEUE_URL.resource, {
  visibilityTimeout: "6 minutes",
  dlq: { queue: imagineDeadLetters.arn, retry: 5 },
});

/**
 * The consumer: submit's code in its own entry (functions/lambda/queue.ts), with partial batch responses so
 * one bad message never fails the others. It re-sends a message the upstream was too busy for
 * (with a delay) and moves malformed ones to the dead letters, so it links both queues.
 */
imagineQueue.subscribe(
  {
    ...FUNCTION_DEFAULTS,
    handler: "functions/lambda/queue.handler",
    description: "paperboat: starts Midjourney jobs from the imagine queue",
    // a batch of 10, 4 at a time, each bounded by UPSTREAM_TIMEOUT_MS and a few writes
    timeout: "60 seconds",
    link: [
      table,
      mjApiBaseUrl,
      mjApiKey,
      mjApiAuth,
      mjApiKind,
      callbackSecret,
      apiKeys,
      api,
      imagineQueue,
      imagineDeadLetters,
      youngPolls,
    ],
    // submit's table calls; re-sending a busy message and moving a malformed one are SendMessage
    // (SST's subscriber adds the receive, delete and visibility calls on the queue itself), and
    // a started task's young polls (a SendMessageBatch is authorised as SendMessage)
    permissions: [
      ...tableGrant(table, TABLE_ACCESS.submit),
      {
        actions: ["sqs:SendMessage"],
        resources: [imagineQueue.arn, imagineDeadLetters.arn, youngPolls.arn],
      },
    ],
    concurrency: { reserved: RESERVED_CONCURRENCY.queue },
    environment: {
      ...LOG_ENVIRONMENT,
      UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      ALLOW_PRIVATE_WEBHOOK_URLS: "false",
      TASK_RETENTION_DAYS: String(TASK_RETENTION_DAYS),
    },
  },
  {
    batch: { size: 10, partialResponses: true },
    transform: {
      eventSourceMapping: { scalingConfig: { maximumConcurrency: QUEUE_MAX_CONCURRENCY } },
    },
  },
);

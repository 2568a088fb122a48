import { LINKS } from "../functions/platform.ts";
import { TABLE_ACCESS, tableGrant } from "./access.ts";
import { RESERVED_CONCURRENCY, YOUNG_POLLS_MAX_CONCURRENCY } from "./limits.ts";
import { FUNCTION_DEFAULTS, LOG_ENVIRONMENT, UPSTREAM_TIMEOUT_MS } from "./runtime.ts";
import { mjApiAuth, mjApiBaseUrl, mjApiKey, mjApiKind } from "./secrets.ts";
import { table } from "./storage.ts";

/**
 * Young polls (docs/architecture.md): a new task is polled 3, 10, 20 and 40 s after its submit.
 * The least machinery that does it: submit sends four SQS messages with those DelaySeconds in
 * one SendMessageBatch, and this queue's consumer polls the tasks they name. No state and
 * nothing to clean up (EventBridge Scheduler's one-time schedules would need a schedule per
 * poll, a role for the scheduler, and deleting them; a function looping every second would run
 * all the time). A lost message skips one poll, which the minute's reconcile makes up, so
 * nothing is redriven: messages live 5 minutes and the consumer never fails a record.
 */
export const youngPolls = new sst.aws.Queue(LINKS.YOUNG_POLLS_QUEUE_URL.resource, {
  visibilityTimeout: "3 minutes",
  transform: { queue: { messageRetentionSeconds: 300 } },
});

youngPolls.subscribe(
  {
    ...FUNCTION_DEFAULTS,
    handler: "functions/lambda/young-polls.handler",
    description: "paperboat: polls new tasks 3, 10, 20 and 40 s after their submit",
    // a batch's tasks read one by one, then one list call per mode (UPSTREAM_TIMEOUT_MS, retried)
    timeout: "30 seconds",
    link: [table, mjApiBaseUrl, mjApiKey, mjApiAuth, mjApiKind],
    // get (each task by id), apply (the update); SST's subscriber adds the queue's own calls
    permissions: tableGrant(table, TABLE_ACCESS.youngPolls),
    concurrency: { reserved: RESERVED_CONCURRENCY.youngPolls },
    environment: { ...LOG_ENVIRONMENT, UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) },
  },
  {
    batch: { size: 10 },
    transform: {
      eventSourceMapping: { scalingConfig: { maximumConcurrency: YOUNG_POLLS_MAX_CONCURRENCY } },
    },
  },
);

import { LINKS } from "../functions/platform.ts";
import { DISPATCH_STREAM_FILTER } from "../functions/store/table.ts";
import { TABLE_ACCESS, tableGrant } from "./access.ts";
import { RESERVED_CONCURRENCY } from "./limits.ts";
import { FUNCTION_DEFAULTS, LOG_ENVIRONMENT } from "./runtime.ts";
import { webhookSecret } from "./secrets.ts";
import { TASK_RETENTION_DAYS, table } from "./storage.ts";

/**
 * Task events for other functions: every terminal transition (and a task entering MODAL) is
 * published here with source "paperboat", detail-type `task.succeeded` / `task.failed` /
 * `task.modal` and the task as detail (docs/webhooks.md). Subscribe with
 * `bus.subscribe(...)` in another stack, or an EventBridge rule on this bus.
 */
export const bus = new sst.aws.Bus(LINKS.EVENT_BUS_NAME.resource);

/**
 * The dispatcher: turns the outbox that a status change wrote into deliveries (the client's
 * webhookUrl, the bus) and makes their attempts. Two triggers, one code path:
 * - the table's stream, filtered to the writes that leave dispatch work (an outbox, a delivery
 *   due): a first delivery goes out within about a second of the status change, without the
 *   callback waiting on any receiver;
 * - a one-minute schedule over the dispatch index: retries that come due (10 s … 8 h apart),
 *   and anything the stream missed (its handler never fails a batch, so a bad batch cannot block
 *   the shard; whatever it left undone stays due in the index).
 * A schedule alone would delay every first delivery by up to a minute; a stream alone cannot
 * wake up for a retry due in eight hours.
 *
 * Receivers are on the internet: the function sends to public addresses only
 * (ALLOW_PRIVATE_WEBHOOK_URLS stays false), checked at every attempt against DNS rebinding.
 * It is not in a VPC, so it cannot reach private resources anyway.
 */
const dispatcher = {
  ...FUNCTION_DEFAULTS,
  description: "paperboat: delivers task events (webhooks to clients, the event bus)",
  // an attempt takes at most the 10 s webhook timeout; a run stops starting new work 15 s early
  timeout: "55 seconds",
  link: [table, webhookSecret, bus],
  permissions: [
    ...tableGrant(table, TABLE_ACCESS.dispatch),
    { actions: ["events:PutEvents"], resources: [bus.arn] },
  ],
  environment: {
    ...LOG_ENVIRONMENT,
    ALLOW_PRIVATE_WEBHOOK_URLS: "false",
    TASK_RETENTION_DAYS: String(TASK_RETENTION_DAYS),
  },
} satisfies Omit<sst.aws.FunctionArgs, "handler">;

table.subscribe(
  "DispatchStream",
  {
    ...dispatcher,
    handler: "functions/lambda/dispatch.stream",
    concurrency: { reserved: RESERVED_CONCURRENCY.dispatchStream },
  },
  { filters: [DISPATCH_STREAM_FILTER] },
);

export const dispatchSchedule = new sst.aws.CronV2("Dispatcher", {
  schedule: "rate(1 minute)",
  event: { job: "dispatch" },
  retries: 0,
  function: {
    ...dispatcher,
    handler: "functions/lambda/dispatch.schedule",
    concurrency: { reserved: RESERVED_CONCURRENCY.dispatchSchedule },
  },
});

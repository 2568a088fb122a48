import { FUNCTION_DEFAULTS, UPSTREAM_TIMEOUT_MS } from "./runtime.ts";
import { mjApiBaseUrl, mjApiKey } from "./secrets.ts";
import { table } from "./storage.ts";

/** EventBridge Scheduler's finest rate is one minute; that is RECONCILE_INTERVAL_SECONDS. */
export const RECONCILE_INTERVAL_SECONDS = 60;

/**
 * The safety net for lost webhooks: every minute, unfinished tasks are checked against the
 * upstream (list-by-condition in batches). EventBridge Scheduler delivers the `event` below
 * verbatim as the Lambda event. No retries: the next run is a minute away and does the same work.
 * The timeout stays under the interval so runs do not pile up (overlaps would be safe, every write
 * is conditional, but would poll the upstream twice).
 */
export const reconciler = new sst.aws.CronV2("Reconciler", {
  schedule: `rate(${RECONCILE_INTERVAL_SECONDS / 60} minute)`,
  event: { job: "reconcile" },
  retries: 0,
  function: {
    ...FUNCTION_DEFAULTS,
    handler: "functions/reconcile.handler",
    description: "paperboat: reconciles unfinished tasks with the upstream",
    timeout: "50 seconds",
    link: [table, mjApiBaseUrl, mjApiKey],
    environment: { UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) },
  },
});

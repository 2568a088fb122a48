import { bucketGrant, TABLE_ACCESS, tableGrant } from "./access.ts";
import { RESERVED_CONCURRENCY } from "./limits.ts";
import { FUNCTION_DEFAULTS, LOG_ENVIRONMENT, UPSTREAM_TIMEOUT_MS } from "./runtime.ts";
import { mjApiAuth, mjApiBaseUrl, mjApiKey } from "./secrets.ts";
import { images, table } from "./storage.ts";

/** EventBridge Scheduler's finest rate is one minute; that is RECONCILE_INTERVAL_SECONDS. */
export const RECONCILE_INTERVAL_SECONDS = 60;

/**
 * The safety net for lost webhooks: every minute, unfinished tasks are checked against the
 * upstream (list-by-condition in batches). EventBridge Scheduler delivers the `event` below
 * verbatim as the Lambda event. No retries: the next run is a minute away and does the same work.
 * The timeout stays under the interval so runs do not pile up (overlaps would be safe, every write
 * is conditional, but would poll the upstream twice).
 *
 * Each run then copies the images of tasks that reached SUCCESS into the Images bucket
 * (functions/compose/copier.ts): the only function that downloads from the internet (never
 * from private, loopback or link-local addresses: ALLOW_PRIVATE_IMAGE_SOURCES stays false) and
 * the only one that needs sharp. sharp is a native module: SST leaves it out of the bundle and
 * `npm install`s it into the function package for the function's architecture
 * (`--os=linux --cpu=arm64 --libc=glibc`, so npm picks @img/sharp-linux-arm64 and its libvips,
 * at the version pinned in package.json); `install` says so explicitly.
 */
export const reconciler = new sst.aws.CronV2("Reconciler", {
  schedule: `rate(${RECONCILE_INTERVAL_SECONDS / 60} minute)`,
  event: { job: "reconcile" },
  retries: 0,
  function: {
    ...FUNCTION_DEFAULTS,
    handler: "functions/lambda/reconcile.handler",
    description: "paperboat: reconciles unfinished tasks with the upstream",
    timeout: "50 seconds",
    link: [table, mjApiBaseUrl, mjApiKey, mjApiAuth, images],
    // it writes image copies, never reads them back
    permissions: [...tableGrant(table, TABLE_ACCESS.reconcile), bucketGrant(images, ["PutObject"])],
    // one run at a time, whatever the scheduler does
    concurrency: { reserved: RESERVED_CONCURRENCY.reconcile },
    environment: {
      ...LOG_ENVIRONMENT,
      UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      ALLOW_PRIVATE_IMAGE_SOURCES: "false",
    },
    nodejs: { ...FUNCTION_DEFAULTS.nodejs, install: ["sharp"] },
  },
});

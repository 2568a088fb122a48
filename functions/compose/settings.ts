import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  ADMIN_KEY,
  ALLOW_PRIVATE_IMAGE_SOURCES,
  ALLOW_PRIVATE_WEBHOOK_URLS,
  API_KEYS,
  CALLBACK_SECRET,
  type Config,
  DYNAMODB_ENDPOINT,
  EVENT_BUS_ENDPOINT,
  EVENT_BUS_NAME,
  EVENTS_INTERVAL_MS,
  EVENTS_MAX_SECONDS,
  IMAGE_BUCKET,
  IMAGE_COPY_MAX_ATTEMPTS,
  IMAGE_COPY_RETRY_SECONDS,
  IMAGE_DIR,
  IMAGE_FETCH_TIMEOUT_MS,
  IMAGE_MAX_BYTES,
  IMAGE_S3_ENDPOINT,
  IMAGE_URL_SECRET,
  IMAGE_URL_TTL_SECONDS,
  IMAGINE_DLQ_URL,
  IMAGINE_QUEUE_URL,
  LOG_LEVEL,
  MJ_API_AUTH,
  MJ_API_BASE_URL,
  MJ_API_KEY,
  MJ_API_KIND,
  MODAL_DEADLINE_SECONDS,
  PUBLIC_URL,
  type SettingList,
  SQS_ENDPOINT,
  TABLE_NAME,
  TASK_DEADLINE_SECONDS,
  TASK_RETENTION_DAYS,
  UPSTREAM_TIMEOUT_MS,
  WEBHOOK_SECRET,
  YOUNG_POLLS_QUEUE_URL,
} from "../config.ts";
import type { Clock, ImageStore, Logger } from "../core/ports.ts";
import type { BreakerOptions } from "../upstream/failover.ts";

/**
 * What every composition module shares: the settings each function reads (FUNCTION_SETTINGS,
 * checked by test/infra/wiring.test.ts) and what tests and the local stack may swap. Types and
 * settings lists only: an entry that loads its own list (`loadSettings(readSettings(),
 * CALLBACK_SETTINGS)`) carries those settings' schemas and nothing else of this module.
 */

export const SUBMIT_SETTINGS = {
  TABLE_NAME,
  DYNAMODB_ENDPOINT,
  MJ_API_BASE_URL,
  MJ_API_KEY,
  MJ_API_AUTH,
  MJ_API_KIND,
  PUBLIC_URL,
  CALLBACK_SECRET,
  API_KEYS,
  UPSTREAM_TIMEOUT_MS,
  ALLOW_PRIVATE_WEBHOOK_URLS,
  LOG_LEVEL,
  TASK_RETENTION_DAYS,
  // a new task's young polls (functions/compose/schedule-young-polls.ts)
  YOUNG_POLLS_QUEUE_URL,
  SQS_ENDPOINT,
};

/** The queue consumer: submit's code, fed by SQS instead of HTTP (functions/lambda/queue.ts). */
// (a pure call, not a spread: esbuild keeps an unused spread, and with it submit's settings)
export const QUEUE_SETTINGS = /* @__PURE__ */ Object.assign({}, SUBMIT_SETTINGS, {
  IMAGINE_QUEUE_URL,
  IMAGINE_DLQ_URL,
});

/** The young-polls queue's consumer: polls the tasks its messages name (functions/lambda/young-polls.ts). */
export const YOUNG_POLLS_SETTINGS = {
  TABLE_NAME,
  DYNAMODB_ENDPOINT,
  MJ_API_BASE_URL,
  MJ_API_KEY,
  MJ_API_AUTH,
  MJ_API_KIND,
  UPSTREAM_TIMEOUT_MS,
  LOG_LEVEL,
};

/** The upstream's webhooks (functions/lambda/callback.ts). */
export const CALLBACK_SETTINGS = { TABLE_NAME, DYNAMODB_ENDPOINT, CALLBACK_SECRET, LOG_LEVEL };

export const READ_SETTINGS = {
  TABLE_NAME,
  DYNAMODB_ENDPOINT,
  API_KEYS,
  // GET /health lists the upstreams (their ids, never their keys)
  MJ_API_BASE_URL,
  // the base of the signed links to local copies (never the request's Host)
  PUBLIC_URL,
  // durable image copies: the store, to sign their links
  IMAGE_BUCKET,
  IMAGE_S3_ENDPOINT,
  IMAGE_DIR,
  IMAGE_URL_SECRET,
  IMAGE_URL_TTL_SECONDS,
  LOG_LEVEL,
  // how long an upload's link lives (POST /v1/uploads)
  TASK_RETENTION_DAYS,
  // GET /v1/tasks/{id}/events (behind API Gateway: one read per request)
  EVENTS_INTERVAL_MS,
  EVENTS_MAX_SECONDS,
};

/** The live task stream behind a Lambda function URL (functions/lambda/stream.ts). */
export const STREAM_SETTINGS = {
  TABLE_NAME,
  DYNAMODB_ENDPOINT,
  API_KEYS,
  PUBLIC_URL,
  IMAGE_BUCKET,
  IMAGE_S3_ENDPOINT,
  IMAGE_DIR,
  IMAGE_URL_SECRET,
  IMAGE_URL_TTL_SECONDS,
  EVENTS_INTERVAL_MS,
  EVENTS_MAX_SECONDS,
  LOG_LEVEL,
};

export const DOCS_SETTINGS = { LOG_LEVEL };

/** Delivery logs, redelivery and the signing secret (functions/lambda/webhooks.ts). */
export const WEBHOOKS_SETTINGS = {
  TABLE_NAME,
  DYNAMODB_ENDPOINT,
  API_KEYS,
  WEBHOOK_SECRET,
  // account endpoints' URLs are checked as webhookUrls are
  ALLOW_PRIVATE_WEBHOOK_URLS,
  LOG_LEVEL,
};

/** Owners' API keys, with the operator's ADMIN_KEY (functions/lambda/admin.ts). */
export const ADMIN_SETTINGS = { TABLE_NAME, DYNAMODB_ENDPOINT, ADMIN_KEY, LOG_LEVEL };

/** Outbound webhooks and bus events (functions/lambda/dispatch.ts). */
export const DISPATCH_SETTINGS = {
  TABLE_NAME,
  DYNAMODB_ENDPOINT,
  WEBHOOK_SECRET,
  ALLOW_PRIVATE_WEBHOOK_URLS,
  EVENT_BUS_NAME,
  EVENT_BUS_ENDPOINT,
  LOG_LEVEL,
  // deliveries expire with their task
  TASK_RETENTION_DAYS,
};

export const RECONCILE_SETTINGS = {
  TABLE_NAME,
  DYNAMODB_ENDPOINT,
  MJ_API_BASE_URL,
  MJ_API_KEY,
  MJ_API_AUTH,
  TASK_DEADLINE_SECONDS,
  MODAL_DEADLINE_SECONDS,
  UPSTREAM_TIMEOUT_MS,
  // the same run copies finished tasks' images (functions/compose/copier.ts)
  IMAGE_BUCKET,
  IMAGE_S3_ENDPOINT,
  IMAGE_DIR,
  IMAGE_MAX_BYTES,
  IMAGE_FETCH_TIMEOUT_MS,
  IMAGE_COPY_MAX_ATTEMPTS,
  IMAGE_COPY_RETRY_SECONDS,
  ALLOW_PRIVATE_IMAGE_SOURCES,
  LOG_LEVEL,
};

/**
 * The settings each function needs, and no more (read never sees the upstream key): each
 * function's entry loads its own list, so its bundle carries those settings' schemas only.
 */
export const FUNCTION_SETTINGS = {
  submit: SUBMIT_SETTINGS,
  queue: QUEUE_SETTINGS,
  youngPolls: YOUNG_POLLS_SETTINGS,
  callback: CALLBACK_SETTINGS,
  read: READ_SETTINGS,
  stream: STREAM_SETTINGS,
  docs: DOCS_SETTINGS,
  webhooks: WEBHOOKS_SETTINGS,
  admin: ADMIN_SETTINGS,
  dispatch: DISPATCH_SETTINGS,
  reconcile: RECONCILE_SETTINGS,
} satisfies Record<string, SettingList>;

export type SettingsOf<F extends keyof typeof FUNCTION_SETTINGS> = Pick<
  Config,
  keyof (typeof FUNCTION_SETTINGS)[F] & keyof Config
>;

/** The settings of durable image copies (docs/images.md). */
export type ImageSettingKey = `IMAGE_${string}` | "ALLOW_PRIVATE_IMAGE_SOURCES";

/** What tests and the local stack may swap; the Lambda entries take the defaults. */
export interface Overrides {
  log?: Logger;
  clock?: Clock;
  newId?: () => string;
  fetch?: typeof fetch;
  /** The image store (durable copies); by default the one the settings name. */
  images?: ImageStore;
  /** Sends a new task's young polls (AWS: functions/compose/schedule-young-polls.ts); absent: none. */
  scheduleYoungPolls?: (taskId: string) => Promise<void>;
  /** The upstreams' circuit breaker (functions/upstream/failover.ts); absent: its defaults. */
  breaker?: BreakerOptions;
  /**
   * The DynamoDB client; by default each composition makes its own. An entry that composes two
   * parts (the reconciler and its image copier) passes one, so they share its connections and a
   * cold start makes one client, not two.
   */
  client?: DynamoDBDocumentClient;
}

import { createImageStore } from "./compose-images.ts";
import { authenticatorFor } from "./compose-keys.ts";
import { type Config, upstreamSettingsOf } from "./config.ts";
import type { Clock, ImageStore, Logger } from "./core/ports.ts";
import {
  pollTasks,
  pollYoung,
  type ReconcileReport,
  reconcile,
  type YoungPollReport,
} from "./core/reconcile.ts";
import type { UpstreamHealthStore } from "./core/upstream-port.ts";
import { createDocumentClient, createIdFactory, systemClock } from "./deps.ts";
import { createCallbackApp } from "./http/callback-app.ts";
import { createReadApp } from "./http/read-app.ts";
import { createStreamApp } from "./http/stream-app.ts";
import { createSubmitApp } from "./http/submit-app.ts";
import { loggerFor } from "./log.ts";
import type { QueueRecord } from "./queue/consumer.ts";
import { consumeYoungPolls } from "./queue/young-polls.ts";
import { CALLBACK_PATH } from "./routes.ts";
import { createApiKeyStore } from "./store/api-key-store.ts";
import { createIdempotencyStore } from "./store/idempotency-store.ts";
import { createQuotaStore } from "./store/quota-store.ts";
import { createTaskStore } from "./store/task-store.ts";
import { createUpstreamHealthStore } from "./store/upstream-health-store.ts";
import { createUpstreamClient } from "./upstream/client.ts";
import { type BreakerOptions, createFailoverUpstream, upstreamIds } from "./upstream/failover.ts";
import { parseUpstreamTask } from "./upstream/parse.ts";
import { checkWebhookHost } from "./webhooks/url-policy.ts";

const SUBMIT_SETTINGS = [
  "TABLE_NAME",
  "DYNAMODB_ENDPOINT",
  "MJ_API_BASE_URL",
  "MJ_API_KEY",
  "MJ_API_AUTH",
  "MJ_API_KIND",
  "PUBLIC_URL",
  "CALLBACK_SECRET",
  "API_KEYS",
  "UPSTREAM_TIMEOUT_MS",
  "ALLOW_PRIVATE_WEBHOOK_URLS",
  "LOG_LEVEL",
  "TASK_RETENTION_DAYS",
  // a new task's young polls (functions/compose-young-polls.ts)
  "YOUNG_POLLS_QUEUE_URL",
  "SQS_ENDPOINT",
] as const;

/** The settings each function needs, and no more (read never sees the upstream key). */
export const FUNCTION_SETTINGS = {
  submit: SUBMIT_SETTINGS,
  /** The queue consumer: submit's code, fed by SQS instead of HTTP (functions/queue.ts). */
  queue: [...SUBMIT_SETTINGS, "IMAGINE_QUEUE_URL", "IMAGINE_DLQ_URL"],
  /** The young-polls queue's consumer: polls the tasks its messages name (functions/young-polls.ts). */
  youngPolls: [
    "TABLE_NAME",
    "DYNAMODB_ENDPOINT",
    "MJ_API_BASE_URL",
    "MJ_API_KEY",
    "MJ_API_AUTH",
    "MJ_API_KIND",
    "UPSTREAM_TIMEOUT_MS",
    "LOG_LEVEL",
  ],
  callback: ["TABLE_NAME", "DYNAMODB_ENDPOINT", "CALLBACK_SECRET", "LOG_LEVEL"],
  read: [
    "TABLE_NAME",
    "DYNAMODB_ENDPOINT",
    "API_KEYS",
    // GET /health lists the upstreams (their ids, never their keys)
    "MJ_API_BASE_URL",
    // the base of the signed links to local copies (never the request's Host)
    "PUBLIC_URL",
    // durable image copies: the store, to sign their links
    "IMAGE_BUCKET",
    "IMAGE_S3_ENDPOINT",
    "IMAGE_DIR",
    "IMAGE_URL_SECRET",
    "IMAGE_URL_TTL_SECONDS",
    "LOG_LEVEL",
    // how long an upload's link lives (POST /v1/uploads)
    "TASK_RETENTION_DAYS",
    // GET /v1/tasks/{id}/events (behind API Gateway: one read per request)
    "EVENTS_INTERVAL_MS",
    "EVENTS_MAX_SECONDS",
  ],
  /** The live task stream behind a Lambda function URL (functions/stream.ts). */
  stream: [
    "TABLE_NAME",
    "DYNAMODB_ENDPOINT",
    "API_KEYS",
    "PUBLIC_URL",
    "IMAGE_BUCKET",
    "IMAGE_S3_ENDPOINT",
    "IMAGE_DIR",
    "IMAGE_URL_SECRET",
    "IMAGE_URL_TTL_SECONDS",
    "EVENTS_INTERVAL_MS",
    "EVENTS_MAX_SECONDS",
    "LOG_LEVEL",
  ],
  docs: ["LOG_LEVEL"],
  /** Delivery logs, redelivery and the signing secret (functions/webhooks.ts). */
  webhooks: [
    "TABLE_NAME",
    "DYNAMODB_ENDPOINT",
    "API_KEYS",
    "WEBHOOK_SECRET",
    // account endpoints' URLs are checked as webhookUrls are
    "ALLOW_PRIVATE_WEBHOOK_URLS",
    "LOG_LEVEL",
  ],
  /** Owners' API keys, with the operator's ADMIN_KEY (functions/admin.ts). */
  admin: ["TABLE_NAME", "DYNAMODB_ENDPOINT", "ADMIN_KEY", "LOG_LEVEL"],
  /** Outbound webhooks and bus events (functions/dispatch.ts). */
  dispatch: [
    "TABLE_NAME",
    "DYNAMODB_ENDPOINT",
    "WEBHOOK_SECRET",
    "ALLOW_PRIVATE_WEBHOOK_URLS",
    "EVENT_BUS_NAME",
    "EVENT_BUS_ENDPOINT",
    "LOG_LEVEL",
    // deliveries expire with their task
    "TASK_RETENTION_DAYS",
  ],
  reconcile: [
    "TABLE_NAME",
    "DYNAMODB_ENDPOINT",
    "MJ_API_BASE_URL",
    "MJ_API_KEY",
    "MJ_API_AUTH",
    "TASK_DEADLINE_SECONDS",
    "MODAL_DEADLINE_SECONDS",
    "UPSTREAM_TIMEOUT_MS",
    // the same run copies finished tasks' images (functions/compose-copier.ts)
    "IMAGE_BUCKET",
    "IMAGE_S3_ENDPOINT",
    "IMAGE_DIR",
    "IMAGE_MAX_BYTES",
    "IMAGE_FETCH_TIMEOUT_MS",
    "IMAGE_COPY_MAX_ATTEMPTS",
    "IMAGE_COPY_RETRY_SECONDS",
    "ALLOW_PRIVATE_IMAGE_SOURCES",
    "LOG_LEVEL",
  ],
} as const satisfies Record<string, readonly (keyof Config)[]>;

export type SettingsOf<F extends keyof typeof FUNCTION_SETTINGS> = Pick<
  Config,
  (typeof FUNCTION_SETTINGS)[F][number]
>;

/** The settings of durable image copies (docs/images.md). */
type ImageSettingKey = `IMAGE_${string}` | "ALLOW_PRIVATE_IMAGE_SOURCES";

/** What tests and the local stack may swap; the Lambda entries take the defaults. */
export interface Overrides {
  log?: Logger;
  clock?: Clock;
  newId?: () => string;
  fetch?: typeof fetch;
  /** The image store (durable copies); by default the one the settings name. */
  images?: ImageStore;
  /** Sends a new task's young polls (AWS: functions/compose-young-polls.ts); absent: none. */
  scheduleYoungPolls?: (taskId: string) => Promise<void>;
  /** The upstreams' circuit breaker (functions/upstream/failover.ts); absent: its defaults. */
  breaker?: BreakerOptions;
}

function storesFor(
  config: { TABLE_NAME: string; DYNAMODB_ENDPOINT?: string; TASK_RETENTION_DAYS?: number },
  log: Logger,
  maxAttempts?: number,
) {
  const client = createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT, maxAttempts });
  const table = { client, tableName: config.TABLE_NAME, retentionDays: config.TASK_RETENTION_DAYS };
  return {
    store: createTaskStore({ ...table, log }),
    idempotency: createIdempotencyStore(table),
    keys: createApiKeyStore({ client, tableName: config.TABLE_NAME }),
    // the upstreams' recorded states (GET /health): the same client, no other
    upstreamHealth: createUpstreamHealthStore({ client, tableName: config.TABLE_NAME }),
  };
}

function storeFor(
  config: { TABLE_NAME: string; DYNAMODB_ENDPOINT?: string },
  log: Logger,
  maxAttempts?: number,
) {
  return storesFor(config, log, maxAttempts).store;
}

/**
 * The upstream port over every upstream the settings list (docs/upstreams.md "Several
 * upstreams"): one client per base URL behind the failover router. With several, each change of
 * an upstream's state is recorded for `GET /health` (`health`); with one there is nowhere to
 * fail over to, and nothing is recorded.
 */
function upstreamFor(
  config: Pick<Config, "MJ_API_BASE_URL" | "MJ_API_KEY" | "UPSTREAM_TIMEOUT_MS"> &
    Partial<Pick<Config, "MJ_API_AUTH" | "MJ_API_KIND">>,
  overrides: Overrides,
  log: Logger,
  health?: UpstreamHealthStore,
) {
  const settings = upstreamSettingsOf(config);
  const ids = upstreamIds(settings.map((s) => s.baseUrl));
  return createFailoverUpstream(
    settings.map((upstream, i) => ({
      id: ids[i] as string,
      client: createUpstreamClient({
        baseUrl: upstream.baseUrl,
        apiKey: upstream.apiKey,
        auth: upstream.auth,
        kind: upstream.kind,
        timeoutMs: config.UPSTREAM_TIMEOUT_MS,
        fetch: overrides.fetch,
      }),
    })),
    {
      clock: overrides.clock ?? systemClock,
      log,
      // the failed attempts may take half an upstream timeout: one more still fits the function
      moveOnWithinMs: Math.ceil(config.UPSTREAM_TIMEOUT_MS / 2),
      onChange: settings.length > 1 && health ? (state) => health.record(state) : undefined,
      ...overrides.breaker,
    },
  );
}

/** What submitting needs, over HTTP (the submit app) or from the queue (its consumer). */
export function submitDepsFor(config: SettingsOf<"submit">, overrides: Overrides, fn: string) {
  const log = loggerFor(config, overrides, fn);
  const stores = storesFor(config, log);
  return {
    ...stores,
    // a retry is "still running" while the first request can still be waiting on the upstream
    idempotencyLockSeconds: Math.ceil(config.UPSTREAM_TIMEOUT_MS / 1000) + 30,
    upstream: upstreamFor(config, overrides, log, stores.upstreamHealth),
    clock: overrides.clock ?? systemClock,
    newId: overrides.newId ?? createIdFactory(),
    log,
    callbackSecret: config.CALLBACK_SECRET,
    // PUBLIC_URL + "/hooks/midjourney", keeping any path PUBLIC_URL has (a proxy, a stage)
    callbackUrl: `${config.PUBLIC_URL.replace(/\/+$/, "")}${CALLBACK_PATH}`,
    checkWebhookUrl: (url: string) =>
      checkWebhookHost(url, { allowPrivate: config.ALLOW_PRIVATE_WEBHOOK_URLS }),
    scheduleYoungPolls: overrides.scheduleYoungPolls,
  };
}

export function composeSubmitApp(config: SettingsOf<"submit">, overrides: Overrides = {}) {
  const deps = submitDepsFor(config, overrides, "submit");
  return createSubmitApp({
    ...deps,
    authenticate: authenticatorFor(config, deps.keys, overrides, deps.log),
  });
}

export function composeCallbackApp(config: SettingsOf<"callback">, overrides: Overrides = {}) {
  const log = loggerFor(config, overrides, "callback");
  return createCallbackApp({
    // one retry only: a webhook must answer fast, and a lost one is the reconciler's to recover
    store: storeFor(config, log, 2),
    clock: overrides.clock ?? systemClock,
    log,
    callbackSecret: config.CALLBACK_SECRET,
    parseUpstreamTask,
  });
}

export function composeReadApp(config: SettingsOf<"read">, overrides: Overrides = {}) {
  const log = loggerFor(config, overrides, "read");
  const { store, keys, upstreamHealth } = storesFor(config, log);
  return createReadApp({
    store,
    log,
    authenticate: authenticatorFor(config, keys, overrides, log),
    publicUrl: config.PUBLIC_URL,
    quota: createQuotaStore({
      client: createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT }),
      tableName: config.TABLE_NAME,
    }),
    retentionDays: config.TASK_RETENTION_DAYS,
    clock: overrides.clock ?? systemClock,
    images:
      overrides.images ??
      createImageStore(config, { clock: overrides.clock ?? systemClock, signsLinks: true }),
    // ids only: read never sees the upstreams' keys
    upstreams: {
      ids: upstreamIds(config.MJ_API_BASE_URL.split(",")),
      health: upstreamHealth,
    },
    events: { intervalMs: config.EVENTS_INTERVAL_MS, maxSeconds: config.EVENTS_MAX_SECONDS },
  });
}

/** The live task stream alone (functions/stream.ts: a response-streaming function URL). */
export function composeStreamApp(config: SettingsOf<"stream">, overrides: Overrides = {}) {
  const log = loggerFor(config, overrides, "stream");
  const { store, keys } = storesFor(config, log);
  return createStreamApp({
    store,
    log,
    authenticate: authenticatorFor(config, keys, overrides, log),
    publicUrl: config.PUBLIC_URL,
    clock: overrides.clock ?? systemClock,
    images:
      overrides.images ??
      createImageStore(config, { clock: overrides.clock ?? systemClock, signsLinks: true }),
    events: { intervalMs: config.EVENTS_INTERVAL_MS, maxSeconds: config.EVENTS_MAX_SECONDS },
  });
}

/** The reconciler's settings; the upstream's auth style and the modal deadline have defaults. */
type ReconcilerConfig = Omit<
  SettingsOf<"reconcile">,
  ImageSettingKey | "MJ_API_AUTH" | "MODAL_DEADLINE_SECONDS"
> &
  Partial<Pick<Config, "MJ_API_AUTH" | "MODAL_DEADLINE_SECONDS">>;

/** The reconciler as one callable run (a scheduled Lambda, or an interval locally). */
export function composeReconciler(
  config: ReconcilerConfig,
  overrides: Overrides = {},
): (run?: { timeBudgetMs?: number; batchSize?: number }) => Promise<ReconcileReport> {
  const log = loggerFor(config, overrides, "reconcile");
  const deps = {
    store: storeFor(config, log),
    upstream: upstreamFor(config, overrides, log),
    clock: overrides.clock ?? systemClock,
    log,
  };
  return (run = {}) =>
    reconcile(deps, {
      deadlineSeconds: config.TASK_DEADLINE_SECONDS,
      modalDeadlineSeconds: config.MODAL_DEADLINE_SECONDS,
      ...run,
    });
}

/**
 * The young-polls queue's consumer (AWS): polls the tasks its delayed messages name
 * (functions/queue/young-polls.ts, core/reconcile.ts pollTasks).
 */
export function composeYoungPollConsumer(
  config: SettingsOf<"youngPolls">,
  overrides: Overrides = {},
): (records: QueueRecord[]) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const log = loggerFor(config, overrides, "young-polls");
  const deps = {
    store: storeFor(config, log),
    upstream: upstreamFor(config, overrides, log),
    clock: overrides.clock ?? systemClock,
    log,
  };
  return (records) => consumeYoungPolls({ pollTasks: (ids) => pollTasks(deps, ids), log }, records);
}

/**
 * The polls soon after a submit (core/reconcile.ts pollYoung) as one callable tick; it
 * remembers when it last ran, so each task is asked about once per point of its schedule.
 */
export function composeYoungPoller(
  config: ReconcilerConfig,
  overrides: Overrides = {},
): () => Promise<YoungPollReport> {
  const clock = overrides.clock ?? systemClock;
  const log = loggerFor(config, overrides, "reconcile");
  const deps = {
    store: storeFor(config, log),
    upstream: upstreamFor(config, overrides, log),
    clock,
    log,
  };
  let since = new Date(clock.now().getTime() - 10_000);
  return async () => {
    const now = clock.now();
    const report = await pollYoung(deps, { since });
    since = now;
    return report;
  };
}

import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { composeAdminApp } from "../functions/compose/admin.ts";
import { composeCallbackApp } from "../functions/compose/callback.ts";
import { composeImageCopier } from "../functions/compose/copier.ts";
import { composeDispatcher, type DispatcherOverrides } from "../functions/compose/dispatch.ts";
import { composeDocsApp } from "../functions/compose/docs.ts";
import { composeQueueConsumer } from "../functions/compose/queue.ts";
import { composeReadApp } from "../functions/compose/read.ts";
import { composeReconciler, composeYoungPoller } from "../functions/compose/reconcile.ts";
import type { Overrides } from "../functions/compose/settings.ts";
import { composeSubmitApp } from "../functions/compose/submit.ts";
import { composeWebhooksApp } from "../functions/compose/webhooks.ts";
import type { DispatchReport } from "../functions/core/dispatch.ts";
import type { ImageCopyReport } from "../functions/core/image-copy.ts";
import type { Logger } from "../functions/core/ports.ts";
import type { ReconcileReport, YoungPollReport } from "../functions/core/reconcile.ts";
import { createDocumentClient } from "../functions/deps.ts";
import { packagedAssetsDir } from "../functions/http/docs-app.ts";
import { errorBody } from "../functions/http/errors.ts";
import type { Resolver } from "../functions/images/source.ts";
import { silentLogger } from "../functions/log.ts";
import { createSqsClient } from "../functions/queue/sqs-actions.ts";
import { ROUTES } from "../functions/routes.ts";
import { type LocalEventBridge, startLocalEventBridge } from "./aws/eventbridge.ts";
import { type LocalSqs, pollQueue, startLocalSqs } from "./aws/sqs.ts";
import { ensureTable, startDynamoDbLocal } from "./dynamodb.ts";
import {
  PROFILE_AUTH,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from "./simulator/index.ts";

export interface StackOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  tableName: string;
  /** An existing DynamoDB-compatible endpoint; otherwise DynamoDB Local is started. */
  dynamodbEndpoint?: string;
  /** With no dynamodbEndpoint: keep DynamoDB Local's data here (else in memory). */
  dynamodbDataDir?: string;
  /**
   * A real upstream; otherwise the simulator is started with `simulator` options. Its fields
   * are the settings' text, so comma-separated lists name several upstreams.
   */
  upstream?: { baseUrl: string; apiKey: string; auth?: string; kind?: string };
  /**
   * More upstreams listed ahead of that one in MJ_API_BASE_URL (its key, auth style and kind
   * serve them too): a closed port for one that is down, a second simulator, ...
   */
  upstreamsBefore?: string[];
  simulator?: Partial<SimulatorOptions>;
  /** Base URL the upstream calls back; defaults to this server's own URL. */
  publicUrl?: string;
  callbackSecret: string;
  apiKeys: { owner: string; key: string }[];
  /** The operator's key for `/v1/admin/*`; random when not given (npm start keeps one). */
  adminKey?: string;
  /** 0 disables the interval (tests call reconcileOnce). */
  reconcileIntervalSeconds: number;
  /** The polls soon after a submit run this often (npm start: 1000); 0 (default): pollYoungOnce() only. */
  youngPollIntervalMs?: number;
  taskDeadlineSeconds?: number;
  /** TASK_RETENTION_DAYS (default 90; 0 keeps tasks). Local image copies are not expired. */
  taskRetentionDays?: number;
  /** MODAL_DEADLINE_SECONDS (default a day) */
  modalDeadlineSeconds?: number;
  upstreamTimeoutMs?: number;
  log?: Logger;
  overrides?: Overrides;
  /** Durable image copies (docs/images.md). */
  images?: LocalImageOptions;
  /** Outbound webhooks and bus events (docs/webhooks.md). */
  webhooks?: LocalWebhookOptions;
  /**
   * The imagine queue (docs/queue-and-bus.md): a local SQS stand-in, polled like
   * Lambda's event source mapping. Absent: no queue.
   */
  queue?: { waitTimeSeconds?: number; visibilityTimeoutSeconds?: number };
  /** `GET /v1/tasks/{id}/events`: EVENTS_INTERVAL_MS (default 1000), EVENTS_MAX_SECONDS (840). */
  events?: { intervalMs?: number; maxSeconds?: number };
}

export interface LocalQueue {
  sqs: LocalSqs;
  /** The SDK's `endpoint` for the stand-in. */
  endpoint: string;
  url: string;
  deadLetterUrl: string;
}

export interface LocalWebhookOptions {
  /** Derives every owner's signing secret; random when not given (npm start keeps one). */
  secret?: string;
  /** http to loopback and private receivers allowed: default true (the local stack). */
  allowPrivate?: boolean;
  /** Run the dispatcher this often (npm start: 500 ms); 0 (default): only dispatchOnce(). */
  dispatchIntervalMs?: number;
  /**
   * The event bus: a name, and an EventBridge-compatible endpoint; without an endpoint a local
   * one is started (its recorded events: `stack.eventBus`). Absent: no bus.
   */
  bus?: { name: string; endpoint?: string };
  /** Dispatcher overrides: DNS of receivers, the attempt timeout, jitter. */
  dispatcher?: Omit<DispatcherOverrides, keyof Overrides>;
}

export interface LocalImageOptions {
  /** Keep the copies here (npm start: DATA_DIR/images); else in a temporary folder, removed at stop. */
  dir?: string;
  /** Or in this bucket of an S3-compatible server (the S3 store, through the whole stack). */
  s3?: { bucket: string; endpoint?: string };
  /** Signs the links to the folder's files; random when not given. */
  urlSecret?: string;
  urlTtlSeconds?: number;
  /** Loopback and private sources allowed: default true, the simulator is on 127.0.0.1. */
  allowPrivateSources?: boolean;
  maxBytes?: number;
  fetchTimeoutMs?: number;
  maxAttempts?: number;
  retrySeconds?: number;
  /** Run the copier this often (npm start: every 2 s); 0 (default): only copyImagesOnce(). */
  copyIntervalMs?: number;
  /** DNS resolution of image sources (tests of the address guard). */
  resolve?: Resolver;
}

export interface Stack {
  url: string;
  tableName: string;
  apiKeys: { owner: string; key: string }[];
  /** The operator's key for `/v1/admin/*`. */
  adminKey: string;
  dynamodbEndpoint: string;
  upstreamUrl: string;
  simulator: Simulator | null;
  reconcileOnce(): Promise<ReconcileReport>;
  /** One tick of the polls soon after a submit (3, 10, 20, 40 s). */
  pollYoungOnce(): Promise<YoungPollReport>;
  /** One run of the image copier (what the reconciler Lambda does after reconciling). */
  copyImagesOnce(): Promise<ImageCopyReport>;
  /** Where the copies are kept on disk (null with an S3 store). */
  imageDir: string | null;
  /** One run of the dispatcher: outboxes become deliveries, due deliveries are attempted. */
  dispatchOnce(): Promise<DispatchReport>;
  /** The local EventBridge, when the stack started one. */
  eventBus: LocalEventBridge | null;
  /** The secret every owner's webhook signing secret is derived from. */
  webhookSecret: string;
  /** The imagine queue, when the stack runs one. */
  queue: LocalQueue | null;
  stop(): Promise<void>;
}

/**
 * The whole service on one machine: the three function apps behind one HTTP server that routes
 * exactly as API Gateway does (functions/routes.ts), DynamoDB Local, the upstream simulator and
 * the reconciler on an interval. `npm start` and the end-to-end tests both run this.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? silentLogger;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    let dynamodbEndpoint = options.dynamodbEndpoint;
    if (!dynamodbEndpoint) {
      const db = await startDynamoDbLocal({ dataDir: options.dynamodbDataDir });
      stops.push(db.stop);
      dynamodbEndpoint = db.endpoint;
    }
    await ensureTable(createDocumentClient({ endpoint: dynamodbEndpoint }), options.tableName);

    let simulator: Simulator | null = null;
    let upstream = options.upstream;
    if (!upstream) {
      const apiKey = options.simulator?.apiKey ?? "sim-local-key";
      simulator = await startSimulator({ ...options.simulator, apiKey });
      stops.push(() => (simulator as Simulator).stop());
      upstream = {
        baseUrl: simulator.url,
        apiKey,
        auth: PROFILE_AUTH[simulator.profile],
        kind: simulator.profile === "novicezk" ? "novicezk" : "proxy",
      };
    }

    const host = options.host ?? "127.0.0.1";
    const root = new Hono();
    let publicUrl = options.publicUrl ?? "";
    const server = serve({ fetch: root.fetch, hostname: host, port: options.port ?? 0 });
    await new Promise<void>((ok, fail) => {
      server.once("listening", ok);
      server.once("error", fail);
    });
    stops.push(
      () =>
        new Promise<void>((ok) => {
          server.close(() => ok());
          (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const url = `http://${host}:${port}`;
    publicUrl ||= url;

    const imageOptions = options.images ?? {};
    let imageDir: string | null = null;
    if (!imageOptions.s3) {
      imageDir = imageOptions.dir ?? null;
      if (!imageDir) {
        const temporary = await mkdtemp(join(tmpdir(), "paperboat-images-"));
        stops.push(() => rm(temporary, { recursive: true, force: true }));
        imageDir = temporary;
      }
    }
    const webhookOptions = options.webhooks ?? {};
    const webhookSecret = webhookOptions.secret ?? randomBytes(32).toString("base64url");
    let eventBus: LocalEventBridge | null = null;
    let busEndpoint = webhookOptions.bus?.endpoint;
    if (webhookOptions.bus && !busEndpoint) {
      const started = await startLocalEventBridge();
      stops.push(() => started.stop());
      eventBus = started;
      busEndpoint = started.endpoint;
    }
    let queue: LocalQueue | null = null;
    if (options.queue) {
      const sqs = await startLocalSqs();
      stops.push(() => sqs.stop());
      const deadLetterUrl = sqs.createQueue("paperboat-imagine-dlq");
      const visibility = options.queue.visibilityTimeoutSeconds ?? 30;
      const url = sqs.createQueue("paperboat-imagine", {
        deadLetterQueue: deadLetterUrl,
        maxReceiveCount: 5,
        visibilityTimeoutSeconds: visibility,
      });
      queue = { sqs, endpoint: sqs.endpoint, url, deadLetterUrl };
    }
    const adminKey = options.adminKey ?? `pba_${randomBytes(32).toString("base64url")}`;
    const common = {
      TABLE_NAME: options.tableName,
      DYNAMODB_ENDPOINT: dynamodbEndpoint,
      MJ_API_BASE_URL: [...(options.upstreamsBefore ?? []), upstream.baseUrl].join(","),
      MJ_API_KEY: upstream.apiKey,
      MJ_API_AUTH: upstream.auth ?? "bearer",
      MJ_API_KIND: upstream.kind ?? "proxy",
      PUBLIC_URL: publicUrl,
      CALLBACK_SECRET: options.callbackSecret,
      API_KEYS: options.apiKeys,
      ADMIN_KEY: adminKey,
      UPSTREAM_TIMEOUT_MS: options.upstreamTimeoutMs ?? 10_000,
      TASK_DEADLINE_SECONDS: options.taskDeadlineSeconds ?? 3600,
      TASK_RETENTION_DAYS: options.taskRetentionDays ?? 90,
      MODAL_DEADLINE_SECONDS: options.modalDeadlineSeconds ?? 86_400,
      IMAGE_BUCKET: imageOptions.s3?.bucket,
      IMAGE_S3_ENDPOINT: imageOptions.s3?.endpoint,
      IMAGE_DIR: imageDir ?? undefined,
      IMAGE_URL_SECRET: imageOptions.urlSecret ?? randomBytes(32).toString("base64url"),
      IMAGE_URL_TTL_SECONDS: imageOptions.urlTtlSeconds ?? 3600,
      IMAGE_MAX_BYTES: imageOptions.maxBytes ?? 20 * 1024 * 1024,
      IMAGE_FETCH_TIMEOUT_MS: imageOptions.fetchTimeoutMs ?? 15_000,
      IMAGE_COPY_MAX_ATTEMPTS: imageOptions.maxAttempts ?? 6,
      IMAGE_COPY_RETRY_SECONDS: imageOptions.retrySeconds ?? 60,
      ALLOW_PRIVATE_IMAGE_SOURCES: imageOptions.allowPrivateSources ?? true,
      WEBHOOK_SECRET: webhookSecret,
      ALLOW_PRIVATE_WEBHOOK_URLS: webhookOptions.allowPrivate ?? true,
      EVENT_BUS_NAME: webhookOptions.bus?.name,
      EVENT_BUS_ENDPOINT: busEndpoint,
      IMAGINE_QUEUE_URL: queue?.url,
      IMAGINE_DLQ_URL: queue?.deadLetterUrl,
      SQS_ENDPOINT: queue?.endpoint,
      EVENTS_INTERVAL_MS: options.events?.intervalMs ?? 1000,
      EVENTS_MAX_SECONDS: options.events?.maxSeconds ?? 840,
    };
    const overrides: Overrides = { log, ...options.overrides };
    const apps = {
      submit: composeSubmitApp(common, overrides),
      callback: composeCallbackApp(common, overrides),
      read: composeReadApp(common, overrides),
      docs: composeDocsApp(
        [packagedAssetsDir()].filter((d): d is string => d !== null),
        overrides,
      ),
      webhooks: composeWebhooksApp(common, overrides),
      admin: composeAdminApp(common, overrides),
    };
    for (const route of ROUTES) {
      const path = route.path.replace(/\{(\w+)\}/g, ":$1");
      root.on(route.method, path, (c) => apps[route.fn].fetch(c.req.raw));
    }
    root.notFound((c) =>
      c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}.`), 404),
    );

    const runReconcile = composeReconciler(common, overrides);
    let running: Promise<ReconcileReport> | null = null;
    const reconcileOnce = () => {
      running ??= runReconcile().finally(() => {
        running = null;
      });
      return running;
    };
    if (options.reconcileIntervalSeconds > 0) {
      const timer = setInterval(() => {
        reconcileOnce().catch((error: Error) =>
          log.error("reconcile failed", { error: error.name, message: error.message }),
        );
      }, options.reconcileIntervalSeconds * 1000);
      stops.push(async () => {
        clearInterval(timer);
        await running?.catch(() => {});
      });
    }

    const pollYoungOnce = composeYoungPoller(common, overrides);
    if ((options.youngPollIntervalMs ?? 0) > 0) {
      let polling: Promise<unknown> | null = null;
      const timer = setInterval(() => {
        polling ??= pollYoungOnce()
          .catch((error: Error) =>
            log.error("young poll failed", { error: error.name, message: error.message }),
          )
          .finally(() => {
            polling = null;
          });
      }, options.youngPollIntervalMs);
      stops.push(async () => {
        clearInterval(timer);
        await polling;
      });
    }

    const runCopier = composeImageCopier(common, { ...overrides, resolve: imageOptions.resolve });
    let copying: Promise<ImageCopyReport> | null = null;
    const copyImagesOnce = () => {
      copying ??= runCopier().finally(() => {
        copying = null;
      });
      return copying;
    };
    if ((imageOptions.copyIntervalMs ?? 0) > 0) {
      // locally the copier also runs every few seconds, so a SUCCESS shows its durable copies
      // at once (on AWS it runs with the reconciler, every minute)
      const timer = setInterval(() => {
        copyImagesOnce().catch((error: Error) =>
          log.error("image copy failed", { error: error.name, message: error.message }),
        );
      }, imageOptions.copyIntervalMs);
      stops.push(async () => {
        clearInterval(timer);
        await copying?.catch(() => {});
      });
    }

    if (queue) {
      const consume = composeQueueConsumer(common, overrides);
      const poller = pollQueue({
        client: createSqsClient({ endpoint: queue.endpoint }),
        queueUrl: queue.url,
        waitTimeSeconds: options.queue?.waitTimeSeconds ?? 1,
        visibilityTimeoutSeconds: options.queue?.visibilityTimeoutSeconds ?? 30,
        handle: consume,
        onError: (error) =>
          log.error("queue poll failed", { error: error.name, message: error.message }),
      });
      // stopped before the queue itself (stops run in reverse)
      stops.push(() => poller.stop());
    }

    const dispatcher = composeDispatcher(common, { ...overrides, ...webhookOptions.dispatcher });
    let dispatching: Promise<DispatchReport> | null = null;
    const dispatchOnce = () => {
      dispatching ??= dispatcher.runDue().finally(() => {
        dispatching = null;
      });
      return dispatching;
    };
    if ((webhookOptions.dispatchIntervalMs ?? 0) > 0) {
      // locally the dispatcher polls its index; on AWS the table's stream triggers it at once
      const timer = setInterval(() => {
        dispatchOnce().catch((error: Error) =>
          log.error("dispatch failed", { error: error.name, message: error.message }),
        );
      }, webhookOptions.dispatchIntervalMs);
      stops.push(async () => {
        clearInterval(timer);
        await dispatching?.catch(() => {});
      });
    }

    return {
      url,
      tableName: options.tableName,
      apiKeys: options.apiKeys,
      adminKey,
      dynamodbEndpoint,
      upstreamUrl: upstream.baseUrl,
      simulator,
      reconcileOnce,
      pollYoungOnce,
      copyImagesOnce,
      imageDir,
      dispatchOnce,
      eventBus,
      webhookSecret,
      queue,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

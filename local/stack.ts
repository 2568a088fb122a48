import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import {
  composeCallbackApp,
  composeReadApp,
  composeReconciler,
  composeSubmitApp,
  type Overrides,
} from "../functions/compose.ts";
import type { Logger } from "../functions/core/ports.ts";
import type { ReconcileReport } from "../functions/core/reconcile.ts";
import { createDocumentClient } from "../functions/deps.ts";
import { errorBody } from "../functions/http/errors.ts";
import { silentLogger } from "../functions/log.ts";
import { ROUTES } from "../functions/routes.ts";
import { ensureTable, startDynamoDbLocal } from "./dynamodb.ts";
import { type Simulator, type SimulatorOptions, startSimulator } from "./simulator/index.ts";

export interface StackOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  tableName: string;
  /** An existing DynamoDB-compatible endpoint; otherwise DynamoDB Local is started. */
  dynamodbEndpoint?: string;
  /** With no dynamodbEndpoint: keep DynamoDB Local's data here (else in memory). */
  dynamodbDataDir?: string;
  /** A real upstream; otherwise the simulator is started with `simulator` options. */
  upstream?: { baseUrl: string; apiKey: string };
  simulator?: Partial<SimulatorOptions>;
  /** Base URL the upstream calls back; defaults to this server's own URL. */
  publicUrl?: string;
  callbackSecret: string;
  apiKeys: { owner: string; key: string }[];
  /** 0 disables the interval (tests call reconcileOnce). */
  reconcileIntervalSeconds: number;
  taskDeadlineSeconds?: number;
  upstreamTimeoutMs?: number;
  log?: Logger;
  overrides?: Overrides;
}

export interface Stack {
  url: string;
  tableName: string;
  apiKeys: { owner: string; key: string }[];
  dynamodbEndpoint: string;
  upstreamUrl: string;
  simulator: Simulator | null;
  reconcileOnce(): Promise<ReconcileReport>;
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
      upstream = { baseUrl: simulator.url, apiKey };
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

    const common = {
      TABLE_NAME: options.tableName,
      DYNAMODB_ENDPOINT: dynamodbEndpoint,
      MJ_API_BASE_URL: upstream.baseUrl,
      MJ_API_KEY: upstream.apiKey,
      PUBLIC_URL: publicUrl,
      CALLBACK_SECRET: options.callbackSecret,
      API_KEYS: options.apiKeys,
      UPSTREAM_TIMEOUT_MS: options.upstreamTimeoutMs ?? 10_000,
      TASK_DEADLINE_SECONDS: options.taskDeadlineSeconds ?? 3600,
    };
    const overrides: Overrides = { log, ...options.overrides };
    const apps = {
      submit: composeSubmitApp(common, overrides),
      callback: composeCallbackApp(common, overrides),
      read: composeReadApp(common, overrides),
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

    return {
      url,
      tableName: options.tableName,
      apiKeys: options.apiKeys,
      dynamodbEndpoint,
      upstreamUrl: upstream.baseUrl,
      simulator,
      reconcileOnce,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

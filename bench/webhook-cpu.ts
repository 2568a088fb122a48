import { openSync, writeSync } from "node:fs";
import { Readable } from "node:stream";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { Hono } from "hono";
import { updateFromUpstream } from "../functions/core/from-upstream.ts";
import type { Logger } from "../functions/core/ports.ts";
import { verifyStateToken } from "../functions/core/state-token.ts";
import { createDocumentClient, createIdFactory, systemClock } from "../functions/deps.ts";
import { createCallbackApp } from "../functions/http/callback-app.ts";
import { createLogger, silentLogger } from "../functions/log.ts";
import { buildAdvance, createTaskStore, taskToItem } from "../functions/store/task-store.ts";
import { UpstreamTask } from "../functions/upstream/schemas.ts";
import { table } from "./lib/markdown.ts";
import { median } from "./lib/stats.ts";
import { benchTask, upstreamId, webhookBody } from "./lib/tasks.ts";
import { createReferenceApp } from "./reference/app.ts";
import { createReferenceClient } from "./reference/client.ts";

/**
 * Answers every DynamoDB call from memory, as DynamoDB would for an UpdateItem that applies:
 * the whole item when ALL_NEW was asked for, `{}` otherwise. Installed as the SDK's request
 * handler, so serialisation, signing, middleware and parsing all run; only the network and the
 * server are gone. Bench only, to price the app's own CPU per webhook without I/O noise.
 */
function answerFromMemory(client: DynamoDBDocumentClient, item: Record<string, unknown>) {
  const decoder = new TextDecoder();
  const allNew = JSON.stringify({ Attributes: marshall(item, { removeUndefinedValues: true }) });
  const handler = {
    handle: async (request: { body?: string | Uint8Array }) => {
      // the SDK's JSON body is a Uint8Array whose string methods warn: decode its bytes instead
      const sent = typeof request.body === "string" ? request.body : decoder.decode(request.body);
      return {
        response: {
          statusCode: 200,
          headers: { "content-type": "application/x-amz-json-1.0" },
          body: Readable.from([Buffer.from(sent.includes("ALL_NEW") ? allNew : "{}")]),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
  (client.config as unknown as { requestHandler: unknown }).requestHandler = handler;
  return client;
}

export interface WebhookCpuFigures {
  /** µs of CPU per webhook, app + SDK, no I/O, by app */
  perApp: { name: string; label: string; micros: number }[];
  /** µs per call of each piece of the callback's work */
  pieces: { name: string; micros: number }[];
}

/**
 * Where the callback's CPU goes per webhook, without I/O: the production callback app and its
 * ablations, and the reference app, each driven in this process through `app.fetch` with the
 * same webhook, their DynamoDB client answered from memory (answerFromMemory). Apps take turns
 * in rounds; the figure is the median round. Then each piece of the callback's work, timed alone.
 */
export async function measureWebhookCpu(options: { rounds?: number; requests?: number } = {}) {
  const rounds = options.rounds ?? 9;
  const requests = options.requests ?? 1000;
  const secret = "bench-webhook-cpu-secret-0123456789";
  const endpoint = "http://127.0.0.1:9";
  const id = createIdFactory()();
  const task = benchTask({
    id,
    owner: "bench",
    status: "IN_PROGRESS",
    progress: 14,
    upstreamTaskId: upstreamId(1),
  });
  const item = taskToItem(task);
  const devNull = openSync("/dev/null", "w");
  // the production logger, writing to /dev/null instead of this process's stdout
  const log: Logger = createLogger({
    base: { fn: "callback" },
    sink: (line) => writeSync(devNull, `${line}\n`),
  });
  const client = () => answerFromMemory(createDocumentClient({ endpoint, maxAttempts: 2 }), item);
  const apps: { name: string; label: string; app: Hono }[] = [
    {
      name: "reference",
      label: "reference: Hono + 1 UpdateItem",
      app: createReferenceApp({
        client: answerFromMemory(createReferenceClient(endpoint), item),
        tableName: "t",
      }) as unknown as Hono,
    },
    {
      name: "callback",
      label: "callback (production composition)",
      app: createCallbackApp({
        store: createTaskStore({ client: client(), tableName: "t" }),
        clock: systemClock,
        log,
        callbackSecret: secret,
      }) as unknown as Hono,
    },
    {
      name: "no log line",
      label: "callback without its log line",
      app: createCallbackApp({
        store: createTaskStore({ client: client(), tableName: "t" }),
        clock: systemClock,
        log: silentLogger,
        callbackSecret: secret,
      }) as unknown as Hono,
    },
  ];
  const body = webhookBody({
    secret,
    taskId: id,
    upstreamTaskId: upstreamId(1),
    status: "IN_PROGRESS",
    progress: 15,
  });
  const drive = async (app: Hono, n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const response = await app.fetch(
        new Request("http://127.0.0.1/hooks/midjourney", {
          method: "POST",
          body,
          headers: { "content-type": "application/json", "content-length": String(body.length) },
        }),
      );
      const text = await response.text();
      if (!text.includes("applied")) throw new Error(`webhook cpu: ${response.status} ${text}`);
    }
    return ((performance.now() - t0) * 1000) / n;
  };
  for (const { app } of apps) await drive(app, requests * 2);
  const samples = new Map(apps.map((a) => [a.name, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? apps : [...apps].reverse();
    for (const { name, app } of order) samples.get(name)?.push(await drive(app, requests));
  }

  const parsedBody = JSON.parse(body);
  const upstream = UpstreamTask.parse(parsedBody);
  const time = (fn: () => unknown, n = 5000) => {
    for (let i = 0; i < n; i++) fn();
    const runs: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) fn();
      runs.push(((performance.now() - t0) * 1000) / n);
    }
    return median(runs);
  };
  const pieces = [
    { name: "JSON.parse of the body (~700 B)", micros: time(() => JSON.parse(body)) },
    {
      name: "verifyStateToken (HMAC-SHA256, constant-time compare)",
      micros: time(() => verifyStateToken(secret, parsedBody.state)),
    },
    {
      name: "UpstreamTask.safeParse (zod)",
      micros: time(() => UpstreamTask.safeParse(parsedBody)),
    },
    {
      name: "updateFromUpstream + buildAdvance",
      micros: time(() =>
        buildAdvance(id, updateFromUpstream(upstream, new Date()) as never, new Date(), false),
      ),
    },
    {
      name: "the log line (JSON.stringify + write)",
      micros: time(() =>
        log.info("webhook", {
          taskId: id,
          upstreamTaskId: "1",
          status: "IN_PROGRESS",
          progress: 15,
          result: "applied",
        }),
      ),
    },
  ];
  return {
    perApp: apps.map((a) => ({
      name: a.name,
      label: a.label,
      micros: median(samples.get(a.name) ?? []),
    })),
    pieces,
  } satisfies WebhookCpuFigures;
}

export function webhookCpuMarkdown(f: WebhookCpuFigures): string {
  const reference = f.perApp.find((a) => a.name === "reference")?.micros ?? Number.NaN;
  const callback = f.perApp.find((a) => a.name === "callback")?.micros ?? Number.NaN;
  return [
    table(
      [
        "app (in process, DynamoDB answered from memory)",
        "µs CPU per webhook",
        "vs reference",
        "vs callback",
      ],
      f.perApp.map((a) => [
        a.label,
        a.micros.toFixed(0),
        `${(a.micros / reference).toFixed(2)}×`,
        a.name === "reference"
          ? ""
          : `${a.micros - callback >= 0 ? "+" : ""}${(a.micros - callback).toFixed(0)} µs`,
      ]),
    ),
    "",
    table(
      ["piece of the callback's work, timed alone", "µs per call"],
      f.pieces.map((p) => [p.name, p.micros.toFixed(1)]),
    ),
  ].join("\n");
}

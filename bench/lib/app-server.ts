import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { composeCallbackApp } from "../../functions/compose/callback.ts";
import { createReferenceApp } from "../reference/app.ts";
import { createReferenceClient } from "../reference/client.ts";

/** The apps this server runs: the production callback app, and the reference. */
export type AppMode = "callback" | "reference";

function createApp(mode: string, env: NodeJS.ProcessEnv) {
  const tableName = env.TABLE_NAME ?? "";
  const endpoint = env.DYNAMODB_ENDPOINT ?? "";
  switch (mode) {
    case "callback":
      return composeCallbackApp({
        TABLE_NAME: tableName,
        DYNAMODB_ENDPOINT: endpoint,
        CALLBACK_SECRET: env.CALLBACK_SECRET ?? "",
      });
    case "reference":
      return createReferenceApp({ client: createReferenceClient(endpoint), tableName });
    default:
      throw new Error(`app-server: unknown mode ${mode}`);
  }
}

/**
 * One app of the warm webhook figures in a Node process of its own, bundled the way SST bundles
 * a function (bench/lib/servers.ts builds and starts it). `callback` is the production callback
 * app exactly as the Lambda entry composes it (real logger to stdout, two attempts per DynamoDB
 * call); `reference` is bench/reference/app.ts. Served by @hono/node-server on 127.0.0.1. Over
 * IPC: the port once listening, and the process's CPU time when asked.
 */
export function main(): void {
  const app = createApp(process.argv[2] ?? "", process.env);
  const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) =>
    process.send?.({ type: "listening", port: info.port }),
  );
  process.on("message", (message: { type: string }) => {
    if (message.type === "cpu") process.send?.({ type: "cpu", usage: process.cpuUsage() });
  });
  process.on("disconnect", () => {
    server.close();
    process.exit(0);
  });
}

if (process.send) main();

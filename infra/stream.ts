import { bucketGrant, TABLE_ACCESS, tableGrant } from "./access.ts";
import { api } from "./api.ts";
import { RESERVED_CONCURRENCY } from "./limits.ts";
import { FUNCTION_DEFAULTS, LOG_ENVIRONMENT } from "./runtime.ts";
import { apiKeys } from "./secrets.ts";
import { images, table } from "./storage.ts";

/**
 * The live task stream, `GET /v1/tasks/{id}/events` (docs/deploy.md "Live progress"): a Lambda
 * with response streaming behind its own function URL, because API Gateway's HTTP API buffers
 * every answer and so cannot carry a stream. The least machinery that streams: no CloudFront,
 * no WebSocket API, no connection table. The URL is public (`authorization: "none"`); the app
 * checks the API key itself, as every `/v1` route does. One stream holds one instance for its
 * lifetime (EVENTS_MAX_SECONDS, under Lambda's 15 minutes), billed for that duration; the
 * client then resumes with Last-Event-ID. Behind API Gateway the same route answers from read,
 * one read per request (EVENTS_MAX_SECONDS 0 there).
 */
export const stream = new sst.aws.Function("Stream", {
  ...FUNCTION_DEFAULTS,
  description: "paperboat: live task progress (GET /v1/tasks/{id}/events, server-sent events)",
  handler: "functions/lambda/stream.handler",
  url: { authorization: "none", cors: false },
  streaming: true,
  // a stream ends itself at EVENTS_MAX_SECONDS; the timeout only catches one that does not
  timeout: "15 minutes",
  // images: the task shows its copies' signed links, as GET does; api: PUBLIC_URL
  link: [table, apiKeys, images, api],
  permissions: [...tableGrant(table, TABLE_ACCESS.stream), bucketGrant(images, ["GetObject"])],
  concurrency: { reserved: RESERVED_CONCURRENCY.stream },
  environment: { ...LOG_ENVIRONMENT, EVENTS_INTERVAL_MS: "1000", EVENTS_MAX_SECONDS: "840" },
});

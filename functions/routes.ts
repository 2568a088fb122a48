/**
 * Every HTTP route of the contract (docs/api.md), and which function serves it.
 * infra/api.ts wires exactly these; the local server mounts the same apps; tests check both.
 */
export const FUNCTIONS = {
  submit: { handlerFile: "functions/lambda/submit.ts", export: "handler" },
  callback: { handlerFile: "functions/lambda/callback.ts", export: "handler" },
  read: { handlerFile: "functions/lambda/read.ts", export: "handler" },
  // the API reference and the gallery page: static pages, in their own function, so no other
  // bundle carries the document, Swagger UI or the page
  docs: { handlerFile: "functions/lambda/docs.ts", export: "handler" },
  // delivery logs, redelivery and the signing secret: the only HTTP function with WEBHOOK_SECRET
  webhooks: { handlerFile: "functions/lambda/webhooks.ts", export: "handler" },
  // owners' API keys: the only function holding ADMIN_KEY
  admin: { handlerFile: "functions/lambda/admin.ts", export: "handler" },
} as const;

export type FunctionName = keyof typeof FUNCTIONS;

export const ROUTES = [
  { method: "POST", path: "/v1/imagine", fn: "submit" },
  { method: "POST", path: "/v1/tasks/{id}/actions", fn: "submit" },
  { method: "POST", path: "/v1/tasks/{id}/modal", fn: "submit" },
  { method: "POST", path: "/v1/blend", fn: "submit" },
  { method: "POST", path: "/v1/describe", fn: "submit" },
  { method: "POST", path: "/v1/shorten", fn: "submit" },
  { method: "POST", path: "/v1/video", fn: "submit" },
  { method: "POST", path: "/v1/edits", fn: "submit" },
  { method: "POST", path: "/v1/retexture", fn: "submit" },
  // cancel asks the upstream to stop the job: submit, which holds the upstream key
  { method: "POST", path: "/v1/tasks/{id}/cancel", fn: "submit" },
  // the seed asks the upstream, so it runs where the upstream key is: submit
  { method: "GET", path: "/v1/tasks/{id}/seed", fn: "submit" },
  { method: "POST", path: "/hooks/midjourney", fn: "callback" },
  { method: "GET", path: "/v1/tasks/{id}", fn: "read" },
  // live progress: behind API Gateway read answers one read per request; the live stream is
  // the stream function's own URL (infra/stream.ts), which API Gateway cannot carry
  { method: "GET", path: "/v1/tasks/{id}/events", fn: "read" },
  { method: "GET", path: "/v1/tasks", fn: "read" },
  // durable image copies: the owner's key → 302 to a signed link; the signed link itself
  // (no key: an <img src> cannot send one; the local disk store's links point here)
  { method: "GET", path: "/v1/tasks/{id}/images/{name}", fn: "read" },
  { method: "GET", path: "/images/{id}/{name}", fn: "read" },
  // owners' uploads: read holds the image store (s3:PutObject on uploads/ only), so submit's
  // bundle stays without the image store; the link itself needs no key (the upstream fetches it)
  { method: "POST", path: "/v1/uploads", fn: "read" },
  { method: "GET", path: "/uploads/{name}", fn: "read" },
  { method: "GET", path: "/health", fn: "read" },
  // the owner's usage counters (docs/operating.md)
  { method: "GET", path: "/v1/usage", fn: "read" },
  // our webhooks to clients (docs/webhooks.md)
  { method: "GET", path: "/v1/tasks/{id}/deliveries", fn: "webhooks" },
  { method: "POST", path: "/v1/tasks/{id}/deliveries/{deliveryId}/retry", fn: "webhooks" },
  { method: "GET", path: "/v1/webhook-secret", fn: "webhooks" },
  { method: "POST", path: "/v1/webhook-secret/rotate", fn: "webhooks" },
  // account endpoints: every task event of the owner (docs/webhooks.md)
  { method: "POST", path: "/v1/webhook-endpoints", fn: "webhooks" },
  { method: "GET", path: "/v1/webhook-endpoints", fn: "webhooks" },
  { method: "DELETE", path: "/v1/webhook-endpoints/{id}", fn: "webhooks" },
  // the operator's (ADMIN_KEY): owners' API keys kept in the table
  { method: "POST", path: "/v1/admin/keys", fn: "admin" },
  { method: "GET", path: "/v1/admin/keys", fn: "admin" },
  { method: "DELETE", path: "/v1/admin/keys/{id}", fn: "admin" },
  // owners' limits and any owner's usage
  { method: "PUT", path: "/v1/admin/owners/{owner}/limits", fn: "admin" },
  { method: "GET", path: "/v1/admin/usage", fn: "admin" },
  { method: "GET", path: "/openapi.json", fn: "docs" },
  { method: "GET", path: "/docs", fn: "docs" },
  { method: "GET", path: "/docs/{file}", fn: "docs" },
  // the gallery page and its two assets (functions/http/gallery.ts), no API key: static files,
  // served with the reference's, so the read function's bundle carries none of them
  { method: "GET", path: "/", fn: "docs" },
  { method: "GET", path: "/gallery.js", fn: "docs" },
  { method: "GET", path: "/gallery.css", fn: "docs" },
] as const satisfies readonly { method: string; path: string; fn: FunctionName }[];

export const CALLBACK_PATH = "/hooks/midjourney";

/**
 * The Swagger UI files (from the swagger-ui-dist package) that the docs function serves at
 * `/docs/{file}`, and the folder of its Lambda package that infra copies them to.
 */
export const DOCS_ASSET_FILES = [
  "swagger-ui-bundle.js",
  "swagger-ui.css",
  "favicon-32x32.png",
  "favicon-16x16.png",
] as const;
export const DOCS_ASSET_DIR = "swagger-ui";

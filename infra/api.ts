import { UPLOAD_KEY_PREFIX } from "../functions/core/image-keys.ts";
import { LINKS } from "../functions/platform.ts";
import {
  CALLBACK_PATH,
  DOCS_ASSET_DIR,
  DOCS_ASSET_FILES,
  FUNCTIONS,
  type FunctionName,
  ROUTES,
} from "../functions/routes.ts";
import { bucketGrant, TABLE_ACCESS, tableGrant } from "./access.ts";
import { API_THROTTLE, RESERVED_CONCURRENCY } from "./limits.ts";
import {
  FUNCTION_DEFAULTS,
  handlerOf,
  LOG_ENVIRONMENT,
  LOG_RETENTION,
  UPSTREAM_TIMEOUT_MS,
} from "./runtime.ts";
import {
  adminKey,
  apiKeys,
  callbackSecret,
  mjApiAuth,
  mjApiBaseUrl,
  mjApiKey,
  mjApiKind,
  webhookSecret,
} from "./secrets.ts";
import { images, TASK_RETENTION_DAYS, table } from "./storage.ts";
import { youngPolls } from "./young-polls.ts";

/**
 * The HTTP API: API Gateway HTTP API (ApiGatewayV2) rather than Function URLs behind
 * sst.aws.Router, because
 * - the contract routes on method AND parameterised path: `POST /v1/tasks/{id}/actions` is
 *   submit's while `GET /v1/tasks/{id}` is read's. Router (CloudFront) matches path prefixes only,
 *   so it would need one function for all of /v1/tasks or dispatch inside the code;
 * - functions/routes.ts already speaks API Gateway's `{id}` syntax, so every route of the
 *   contract is declared here one-to-one, and anything else reaches no function but `$default`;
 * - it deploys in seconds (a CloudFront distribution takes minutes) and needs no Function URLs
 *   open to the internet; its 30 s integration limit covers submit's 20 s timeout.
 * CORS is off: API keys are server-side credentials, so browsers have no business calling this.
 * Every route is throttled (infra/limits.ts): past the rate, API Gateway answers 429 itself.
 */
export const api = new sst.aws.ApiGatewayV2(LINKS.PUBLIC_URL.resource, {
  cors: false,
  accessLog: { retention: LOG_RETENTION },
  transform: {
    stage: {
      defaultRouteSettings: {
        throttlingRateLimit: API_THROTTLE.rateLimit,
        throttlingBurstLimit: API_THROTTLE.burstLimit,
      },
    },
  },
});

/**
 * What each HTTP function may see, and how long it may take. Links are least privilege: read
 * never sees the upstream key or the callback secret; callback holds no upstream key, so even a
 * forged webhook cannot start upstream jobs. submit links the API itself for PUBLIC_URL, the base
 * of the callback URL it sends upstream. Links carry values only; `permissions` grant exactly the
 * calls each function makes (infra/access.ts).
 */
const HTTP_FUNCTIONS = {
  submit: {
    description: "paperboat: starts Midjourney jobs (POST /v1/...)",
    // One upstream call bounded by UPSTREAM_TIMEOUT_MS, plus two DynamoDB writes.
    timeout: "20 seconds",
    // youngPolls: a started task's four delayed polls (infra/young-polls.ts)
    link: [
      table,
      mjApiBaseUrl,
      mjApiKey,
      mjApiAuth,
      mjApiKind,
      callbackSecret,
      apiKeys,
      api,
      youngPolls,
    ],
    permissions: [
      ...tableGrant(table, TABLE_ACCESS.submit),
      { actions: ["sqs:SendMessage"], resources: [youngPolls.arn] },
    ],
    concurrency: { reserved: RESERVED_CONCURRENCY.submit },
    // webhookUrls must be https to public addresses (docs/webhooks.md)
    environment: {
      UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      ALLOW_PRIVATE_WEBHOOK_URLS: "false",
      TASK_RETENTION_DAYS: String(TASK_RETENTION_DAYS),
    },
  },
  callback: {
    description: "paperboat: the upstream's webhook (POST /hooks/midjourney)",
    // One conditional write: answer fast so the upstream does not time out and retry.
    timeout: "5 seconds",
    link: [table, callbackSecret],
    permissions: tableGrant(table, TABLE_ACCESS.callback),
    concurrency: { reserved: RESERVED_CONCURRENCY.callback },
    environment: {},
  },
  read: {
    description: "paperboat: task reads and health (GET /v1/tasks..., /health)",
    timeout: "5 seconds",
    // images: to presign the links to a task's durable image copies; api: PUBLIC_URL
    // mjApiBaseUrl: GET /health lists the upstreams (by id; their keys stay with submit)
    link: [table, apiKeys, images, api, mjApiBaseUrl],
    // GetObject: presigned links and uploads' bytes; PutObject on uploads/ only (POST /v1/uploads
    // is read's, so submit's bundle carries no image store)
    permissions: [
      ...tableGrant(table, TABLE_ACCESS.read),
      bucketGrant(images, ["GetObject"]),
      bucketGrant(images, ["PutObject"], UPLOAD_KEY_PREFIX),
    ],
    concurrency: { reserved: RESERVED_CONCURRENCY.read },
    // an upload's link lives as long as the owner's tasks; GET /v1/tasks/{id}/events answers
    // one read per request here (API Gateway buffers; the live stream is infra/stream.ts), and
    // asks clients to come back after 1.5 s, the gallery's and the client's polling pace
    environment: {
      TASK_RETENTION_DAYS: String(TASK_RETENTION_DAYS),
      EVENTS_MAX_SECONDS: "0",
      EVENTS_INTERVAL_MS: "1500",
    },
  },
  docs: {
    description: "paperboat: the API reference (GET /openapi.json, /docs) and the gallery (GET /)",
    timeout: "5 seconds",
    // no links: the document and the gallery page are in the bundle, and it serves Swagger UI's
    // files copied beside it
    link: [],
    permissions: [],
    concurrency: { reserved: RESERVED_CONCURRENCY.docs },
    environment: {},
    copyFiles: DOCS_ASSET_FILES.map((file) => ({
      from: `node_modules/swagger-ui-dist/${file}`,
      to: `${DOCS_ASSET_DIR}/${file}`,
    })),
  },
  webhooks: {
    description: "paperboat: webhook delivery logs, redelivery and the signing secret",
    timeout: "5 seconds",
    // the only HTTP function holding WEBHOOK_SECRET (it shows owners their derived secret)
    link: [table, apiKeys, webhookSecret],
    permissions: tableGrant(table, TABLE_ACCESS.webhooks),
    concurrency: { reserved: RESERVED_CONCURRENCY.webhooks },
    // account endpoints' URLs: https to public addresses, as webhookUrls (docs/webhooks.md)
    environment: { ALLOW_PRIVATE_WEBHOOK_URLS: "false" },
  },
  admin: {
    description: "paperboat: owners' API keys, for the operator (/v1/admin/*)",
    timeout: "5 seconds",
    // the only function holding ADMIN_KEY; it writes keys into the table
    link: [table, adminKey],
    permissions: tableGrant(table, TABLE_ACCESS.admin),
    concurrency: { reserved: RESERVED_CONCURRENCY.admin },
    environment: {},
  },
} satisfies Record<
  FunctionName,
  Pick<
    sst.aws.FunctionArgs,
    "description" | "timeout" | "link" | "permissions" | "concurrency" | "environment" | "copyFiles"
  >
>;

function componentName(name: FunctionName): string {
  return `${name[0]?.toUpperCase()}${name.slice(1)}`;
}

export const functions = Object.fromEntries(
  (Object.keys(FUNCTIONS) as FunctionName[]).map((name) => [
    name,
    new sst.aws.Function(componentName(name), {
      ...FUNCTION_DEFAULTS,
      handler: handlerOf(FUNCTIONS[name]),
      ...HTTP_FUNCTIONS[name],
      environment: { ...LOG_ENVIRONMENT, ...HTTP_FUNCTIONS[name].environment },
    }),
  ]),
) as Record<FunctionName, sst.aws.Function>;

// One function per concern, shared by its routes (passing the ARN, not a handler string, which
// would create one Lambda per route).
for (const route of ROUTES) {
  api.route(`${route.method} ${route.path}`, functions[route.fn].arn);
}
// Unknown paths and methods get the contract's JSON 404 from the read app instead of API
// Gateway's own `{"message":"Not Found"}`.
api.route("$default", functions.read.arn);

/** What to configure at the upstream as the webhook URL (CometAPI's notifyHook). */
export const callbackUrl = $interpolate`${api.url}${CALLBACK_PATH}`;

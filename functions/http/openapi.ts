import packageJson from "../../package.json" with { type: "json" };
import {
  AdminUsageQuery,
  ApiKeyList,
  CreatedKey,
  CreateKeyBody,
  KeyListQuery,
  LimitsBody,
  OwnerLimits,
} from "../contract/admin.ts";
import { ErrorBody, errorBodyOf } from "../contract/error-body.ts";
import { codesOfStatus, type ErrorCode } from "../contract/errors.ts";
import { BODY_LIMITS } from "../contract/limits.ts";
import { ListQuery, UsageAnswer, UsageQuery } from "../contract/read.ts";
import { Health, WebhookAnswer } from "../contract/service.ts";
import {
  AccountFilter,
  ActionBody,
  BlendBody,
  DescribeBody,
  EditBody,
  ImagineBody,
  ModalBody,
  RetextureBody,
  ShortenBody,
  VideoBody,
} from "../contract/submit.ts";
import { Seed, Task, TaskEvent, TaskPage, TaskWithChildren } from "../contract/task.ts";
import { UploadBody, UploadResponse } from "../contract/uploads.ts";
import {
  Delivery,
  DeliveryList,
  EndpointBody,
  EndpointList,
  EndpointView,
  RotateBody,
  WebhookSecret,
} from "../contract/webhooks.ts";
import * as z from "../contract/z.ts";
import { CALLBACK_PATH, ROUTES } from "../routes.ts";
import { UpstreamTask } from "../upstream/schemas.ts";
import { DOCS_CONTENT_TYPES } from "./docs-app.ts";

/**
 * The OpenAPI 3.1 document of the API, built from the wire contract (functions/contract/): the
 * schemas the apps validate requests with (their input side) and the answers' schemas. It is
 * generated at build time into functions/http/openapi.json (`npm run openapi`), which the docs
 * function serves; test/http/openapi.test.ts checks that the file is up to date, that every
 * route of functions/routes.ts is in it, and that real answers validate against it. Nothing
 * here runs in a Lambda.
 */

type Route = (typeof ROUTES)[number];
/** `"POST /v1/imagine"`: one key per route, so a new route cannot go undocumented. */
export type RouteKey = KeyOf<Route>;
type KeyOf<R> = R extends { method: infer M extends string; path: infer P extends string }
  ? `${M} ${P}`
  : never;

type ErrorStatus = 400 | 401 | 404 | 409 | 413 | 422 | 429 | 502 | 503;

interface QueryDoc {
  schema: z.ZodMiniObject;
  descriptions: Record<string, string>;
}

/** A contract query schema with a description for each of its parameters (and no other). */
function queryDoc<S extends z.ZodMiniObject>(
  schema: S,
  descriptions: Record<keyof S["shape"] & string, string>,
): QueryDoc {
  return { schema, descriptions };
}

interface OperationSpec {
  operationId: string;
  summary: string;
  description?: string;
  tag: "tasks" | "jobs" | "webhooks" | "service" | "pages" | "admin";
  /** Needs `Authorization: Bearer <api key>` (true), or the operator's ADMIN_KEY ("admin"). */
  auth: boolean | "admin";
  /**
   * A registered request schema (by component name) and an example the real API accepts:
   * Swagger UI's "Try it out" starts from it (without one it fills every field with "string",
   * which the API rightly refuses). The body limit is the contract's (BODY_LIMITS).
   */
  body?: { schema: keyof typeof REQUESTS; example: Record<string, unknown> };
  /** Served (gallery assets, the reference's own files) but not part of the API: left out. */
  internal?: true;
  idempotent?: boolean;
  /** The query the handler validates with a contract schema, each parameter described. */
  contractQuery?: QueryDoc;
  /** Query parameters read without a contract schema (a signed link's): required ... */
  query?: Record<string, string>;
  /** ... and optional ones. */
  optionalQuery?: Record<string, string>;
  /** Request headers that may be left out. */
  optionalHeaders?: Record<string, string>;
  path?: Record<string, string>;
  ok: {
    status: 200 | 201 | 202 | 204 | 302;
    description: string;
    schema?: keyof typeof ANSWERS;
    content?: object;
    headers?: Record<string, string>;
  };
  errors: ErrorStatus[];
}

const REQUESTS = {
  CreateKeyRequest: CreateKeyBody,
  LimitsRequest: LimitsBody,
  RotateSecretRequest: RotateBody,
  CreateEndpointRequest: EndpointBody,
  ImagineRequest: ImagineBody,
  ActionRequest: ActionBody,
  ModalRequest: ModalBody,
  BlendRequest: BlendBody,
  DescribeRequest: DescribeBody,
  ShortenRequest: ShortenBody,
  VideoRequest: VideoBody,
  EditRequest: EditBody,
  RetextureRequest: RetextureBody,
  UploadRequest: UploadBody,
  UpstreamTask,
};

const UPSTREAM_ERRORS = [422, 429, 502] as const;

const ERROR_NAMES: Record<ErrorStatus, string> = {
  400: "BadRequestError",
  401: "UnauthorizedError",
  404: "NotFoundError",
  409: "ConflictError",
  413: "PayloadTooLargeError",
  422: "UpstreamRejectedError",
  429: "UpstreamBusyError",
  502: "UpstreamUnavailableError",
  503: "StoreUnavailableError",
};

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: "`invalid_json`: the body is not JSON; `validation_failed`: it (or the query, or the `Idempotency-Key`) does not fit the schema, and `details` list the fields",
  401: "`unauthorized`: missing, unknown or revoked API key (on `/v1/admin/*`: anything but `ADMIN_KEY`; on the webhook: a `state` that does not verify)",
  404: "`not_found`: no such task, or another owner's",
  409: "`invalid_state`: the task is not in a state that allows this; `idempotency_conflict`: the `Idempotency-Key` was used with another body, or its first request is still running",
  413: "`payload_too_large`: the body is over the route's limit",
  422: "`upstream_rejected`: the upstream refused the job (banned prompt, invalid parameters); `task` is the task as recorded (`FAILURE`). `upstream_unsupported`: the upstream (its `MJ_API_KIND`) has no route for this job; nothing was recorded",
  429: "`upstream_busy`: the upstream queue is full and nothing was started; `quota_exceeded`: the owner's limit (tasks unfinished at once, or jobs per UTC day) is reached and nothing was recorded; retry after `Retry-After` seconds",
  502: "`upstream_unavailable`: the upstream could not be reached or answered garbage; `task`, when present, is the task as recorded",
  503: "`store_unavailable`: storage failed or throttled and nothing was written; retry after `Retry-After` seconds",
};

const ANSWERS = {
  CreatedKey,
  ApiKeyList,
  OwnerLimits,
  Usage: UsageAnswer,
  TaskEvent,
  Delivery,
  DeliveryList,
  WebhookSecret,
  WebhookEndpoint: EndpointView,
  WebhookEndpointList: EndpointList,
  Task,
  TaskWithChildren,
  TaskPage,
  Seed,
  Health,
  Upload: UploadResponse,
  WebhookAnswer,
  Error: ErrorBody,
  ...(Object.fromEntries(
    (Object.entries(ERROR_NAMES) as unknown as [string, string][]).map(([status, name]) => [
      name,
      errorBodyOf(
        codesOfStatus(Number(status)) as [ErrorCode],
        (UPSTREAM_ERRORS as readonly number[]).includes(Number(status)),
      ),
    ]),
  ) as Record<string, z.ZodMiniType>),
};

const SUBMIT_ERRORS: ErrorStatus[] = [400, 401, 409, 413, 422, 429, 502, 503];
const TASK_ID = {
  id: "the task's id (a ULID); an unknown or malformed one, or another owner's, is 404",
};

/** An 8×8 PNG: small enough to read, a real image for the examples that take one. */
const EXAMPLE_IMAGE =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAYAAADED76LAAAAJUlEQVR4AYXBAQEAIAyAMCSNmUxnU99AtrXPfXxIkCBBggQJEgY0tgIxGO+7HAAAAABJRU5ErkJggg==";
const EXAMPLE_PROMPT = "a paper boat floating on calm water at sunrise";

const kib = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`;

const USAGE_RANGE = {
  from: "first UTC day, YYYY-MM-DD (default: 29 days before `to`)",
  to: "last UTC day, YYYY-MM-DD (default: today)",
};

export const OPERATIONS: Record<RouteKey, OperationSpec> = {
  "POST /v1/imagine": {
    operationId: "imagine",
    summary: "Start an imagine job",
    description:
      "Records the task, then starts the upstream job. `202` with the task (`SUBMITTED`, or `MODAL`); follow it with `GET /v1/tasks/{id}`.",
    tag: "jobs",
    auth: true,
    body: {
      schema: "ImagineRequest",
      example: { prompt: EXAMPLE_PROMPT },
    },
    idempotent: true,
    ok: { status: 202, description: "the new task", schema: "Task" },
    errors: SUBMIT_ERRORS,
  },
  "POST /v1/tasks/{id}/actions": {
    operationId: "action",
    summary: "Click a button of a finished task",
    description:
      "Upscale, vary, reroll, zoom, pan, animate, pick: `customId` is one of the task's `buttons` (read it from the latest task). The task must be `SUCCESS`. `202` with the child task (`parentId` set).",
    tag: "jobs",
    auth: true,
    path: TASK_ID,
    body: {
      schema: "ActionRequest",
      // a U1 button; the hash after the last `::` is the task's own (copy it from its buttons)
      example: { customId: "MJ::JOB::upsample::1::0ddb91a0-af46-4ae9-8e8e-c271074eb6e6" },
    },
    idempotent: true,
    ok: { status: 202, description: "the new child task", schema: "Task" },
    errors: [...SUBMIT_ERRORS, 404],
  },
  "POST /v1/tasks/{id}/modal": {
    operationId: "modal",
    summary: "Complete a task waiting in MODAL",
    description:
      "Custom zoom (`--zoom <1-2>` in `prompt`), vary region (`maskBase64`), remix, describe/shorten picks. Without `prompt` the task's own is used. The same task goes on: `202` with it in `SUBMITTED`.",
    tag: "jobs",
    auth: true,
    path: TASK_ID,
    body: {
      schema: "ModalRequest",
      example: { prompt: `${EXAMPLE_PROMPT} --zoom 1.5` },
    },
    idempotent: true,
    ok: { status: 202, description: "the task, on its way again", schema: "Task" },
    errors: [...SUBMIT_ERRORS, 404],
  },
  "POST /v1/blend": {
    operationId: "blend",
    summary: "Blend 2 to 5 images into a grid",
    tag: "jobs",
    auth: true,
    body: {
      schema: "BlendRequest",
      example: { base64Array: [EXAMPLE_IMAGE, EXAMPLE_IMAGE], dimensions: "SQUARE" },
    },
    idempotent: true,
    ok: { status: 202, description: "the new task", schema: "Task" },
    errors: SUBMIT_ERRORS,
  },
  "POST /v1/describe": {
    operationId: "describe",
    summary: "Four prompts for one image",
    tag: "jobs",
    auth: true,
    body: {
      schema: "DescribeRequest",
      example: { base64: EXAMPLE_IMAGE },
    },
    idempotent: true,
    ok: { status: 202, description: "the new task", schema: "Task" },
    errors: SUBMIT_ERRORS,
  },
  "POST /v1/shorten": {
    operationId: "shorten",
    summary: "Shorter versions of a prompt",
    tag: "jobs",
    auth: true,
    body: {
      schema: "ShortenRequest",
      example: {
        prompt: `${EXAMPLE_PROMPT}, with soft golden light, gentle ripples and mist over the lake`,
      },
    },
    idempotent: true,
    ok: { status: 202, description: "the new task", schema: "Task" },
    errors: SUBMIT_ERRORS,
  },
  "POST /v1/video": {
    operationId: "video",
    summary: "Animate an image",
    tag: "jobs",
    auth: true,
    body: {
      schema: "VideoRequest",
      example: { image: EXAMPLE_IMAGE, prompt: "the boat drifts slowly", motion: "low" },
    },
    idempotent: true,
    ok: { status: 202, description: "the new task", schema: "Task" },
    errors: SUBMIT_ERRORS,
  },
  "POST /v1/edits": {
    operationId: "edit",
    summary: "Edit an image with Midjourney's editor",
    description:
      "`image` is a data URI or an https URL; `mask` (a data URI, optional) marks what to repaint. The task (`EDIT`) answers as imagine's: a grid with buttons. A host without the route (novicezk) is `422 upstream_unsupported`.",
    tag: "jobs",
    auth: true,
    body: {
      schema: "EditRequest",
      example: { image: EXAMPLE_IMAGE, prompt: "a paper boat on a calm lake at dawn" },
    },
    idempotent: true,
    ok: { status: 202, description: "the new task", schema: "Task" },
    errors: SUBMIT_ERRORS,
  },
  "POST /v1/retexture": {
    operationId: "retexture",
    summary: "Retexture an image",
    description:
      "Keeps the image's shapes and redoes its surfaces from the prompt (`RETEXTURE`, a grid with buttons). trueai has the route; new-api gateways (CometAPI) and novicezk do not.",
    tag: "jobs",
    auth: true,
    body: {
      schema: "RetextureRequest",
      example: { image: EXAMPLE_IMAGE, prompt: "made of folded newspaper" },
    },
    idempotent: true,
    ok: { status: 202, description: "the new task", schema: "Task" },
    errors: SUBMIT_ERRORS,
  },
  "POST /v1/tasks/{id}/cancel": {
    operationId: "cancel",
    summary: "Cancel an unfinished task",
    description:
      "`202` with the task in `CANCEL`; `failReason` says whether the upstream job was stopped too (an upstream with a cancel route, such as trueai, is asked) or may still run. A task in `MODAL` is cancelled here. Later webhooks and polls never change it. `409` for a finished task. No body is needed.",
    tag: "tasks",
    auth: true,
    path: TASK_ID,
    ok: { status: 202, description: "the task, cancelled", schema: "Task" },
    errors: [401, 404, 409, 413, 503],
  },
  "GET /v1/tasks/{id}/seed": {
    operationId: "seed",
    summary: "The upstream's seed of a finished task",
    description: "Asks the upstream. `409` before `SUCCESS`, `422` when the upstream has none.",
    tag: "tasks",
    auth: true,
    path: TASK_ID,
    ok: { status: 200, description: "the seed", schema: "Seed" },
    errors: [401, 404, 409, 422, 502, 503],
  },
  "POST /hooks/midjourney": {
    operationId: "midjourneyWebhook",
    summary: "The upstream's webhook",
    description:
      "Called by the upstream, not by clients. No bearer key: the signed `state` sent at submit time is the credential. Late, duplicate and out-of-order webhooks are answered `200` and change nothing.",
    tag: "webhooks",
    auth: false,
    body: {
      schema: "UpstreamTask",
      // `state` is the token we sent with the job: without the real one this is 401
      example: {
        id: "1712345678901234",
        action: "IMAGINE",
        status: "IN_PROGRESS",
        progress: "46%",
        state: "pb1.<the token sent at submit>",
      },
    },
    ok: { status: 200, description: "applied, or ignored as stale", schema: "WebhookAnswer" },
    errors: [400, 401, 413, 503],
  },
  "GET /v1/tasks/{id}": {
    operationId: "getTask",
    summary: "One task, with the ids of its children",
    tag: "tasks",
    auth: true,
    path: TASK_ID,
    ok: { status: 200, description: "the task", schema: "TaskWithChildren" },
    errors: [401, 404, 503],
  },
  "GET /v1/tasks/{id}/events": {
    operationId: "taskEvents",
    summary: "Live progress: the task's states as server-sent events",
    description:
      "`text/event-stream`: one `task` event per recorded state of the task, oldest first (`id`: the state's number, 1 for the state it was created in; `data`: the task as `GET /v1/tasks/{id}` shows it), then the stream ends after the finishing state (`SUCCESS`, `FAILURE`, `CANCEL`). States recorded between two reads are all sent, in order. Comment lines (`: keep-alive`) keep proxies open. A stream also ends after `EVENTS_MAX_SECONDS` (behind API Gateway: after one read); reconnect with `Last-Event-ID` (the last `id` received) to get exactly the states after it, none twice. On AWS the live stream is served at the stream function's URL (stack output `events`), the same path.",
    tag: "tasks",
    auth: true,
    path: TASK_ID,
    optionalHeaders: {
      "Last-Event-ID":
        "the `id` of the last event received: only later states are sent (a whole number; anything else is `400`)",
    },
    optionalQuery: {
      lastEventId: "the same as `Last-Event-ID`, for clients that cannot set headers",
    },
    ok: {
      status: 200,
      description:
        "server-sent events: `retry: <ms>`, then `event: task` / `id: <n>` / `data: <task JSON>` per state",
      content: {
        "text/event-stream": {
          schema: { type: "string" },
          example:
            'retry: 1000\n\nevent: task\ndata: {"id":"01JDB3K6Z5Q8N2X4V7W9Y1A3C5","status":"IN_PROGRESS","progress":42,...}\nid: 4\n\n',
        },
      },
    },
    errors: [400, 401, 404, 503],
  },
  "GET /v1/tasks": {
    operationId: "listTasks",
    summary: "The owner's tasks, newest first, paged",
    description:
      "Filters combine (`?parentId=…&action=ZOOM`); a narrow combination may give a short page that still has a `nextCursor`.",
    tag: "tasks",
    auth: true,
    contractQuery: queryDoc(ListQuery, {
      status: "only tasks in this status",
      action: "only tasks of this action",
      mode: "only tasks submitted at this speed (fast, relax, turbo)",
      parentId: "only the tasks started from this task's buttons",
      limit: "page size, 1 to 100 (default 20)",
      cursor: "the previous page's `nextCursor`",
    }),
    ok: { status: 200, description: "one page", schema: "TaskPage" },
    errors: [400, 401, 503],
  },
  "GET /v1/tasks/{id}/deliveries": {
    operationId: "listDeliveries",
    summary: "The task's webhook deliveries and every attempt",
    description:
      "One delivery per event and URL: the task's `webhookUrl` (`target`: `webhook`) and each of the owner's webhook endpoints (`target`: the endpoint's id). Its `id` is the `webhook-id` header; oldest first, with each attempt's status code, latency, error and the first 1 KB of the answer. `status`: `pending` (retrying on an exponential schedule for about 25 h), `delivered`, `dead` (every attempt failed) or `stopped` (the receiver answered 410).",
    tag: "webhooks",
    auth: true,
    path: TASK_ID,
    ok: { status: 200, description: "the deliveries", schema: "DeliveryList" },
    errors: [401, 404, 503],
  },
  "POST /v1/tasks/{id}/deliveries/{deliveryId}/retry": {
    operationId: "retryDelivery",
    summary: "Send a delivery again, now",
    description:
      "Makes the delivery due at once, with the same `webhook-id` and body. A delivery that had ended (`dead`, `stopped`, `delivered`) gets one more attempt; a pending one just stops waiting.",
    tag: "webhooks",
    auth: true,
    path: { ...TASK_ID, deliveryId: "a delivery's `id` (from the delivery log)" },
    optionalQuery: {
      target: "`webhook` (the default: the task's webhookUrl) or a webhook endpoint's id",
    },
    ok: { status: 202, description: "the delivery, pending", schema: "Delivery" },
    errors: [401, 404, 503],
  },
  "GET /v1/webhook-secret": {
    operationId: "getWebhookSecret",
    summary: "The secret that signs your webhooks",
    description:
      "A Standard Webhooks secret (`whsec_` + base64): verify `webhook-signature` with it (docs/webhooks.md). One per owner.",
    tag: "webhooks",
    auth: true,
    ok: { status: 200, description: "the current secret", schema: "WebhookSecret" },
    errors: [401, 503],
  },
  "POST /v1/webhook-secret/rotate": {
    operationId: "rotateWebhookSecret",
    summary: "Replace the signing secret",
    description:
      "A new secret signs from now on; the previous one keeps signing too (a second signature in `webhook-signature`) for `gracePeriodSeconds` (default 86400, at most 7 days), so receivers can switch without rejecting a webhook.",
    tag: "webhooks",
    auth: true,
    body: { schema: "RotateSecretRequest", example: { gracePeriodSeconds: 86400 } },
    ok: { status: 200, description: "the new secret", schema: "WebhookSecret" },
    errors: [400, 401, 409, 503],
  },
  "POST /v1/webhook-endpoints": {
    operationId: "createWebhookEndpoint",
    summary: "Add an account webhook endpoint",
    description:
      "Every later event of your tasks that is in `events` (default: all but `task.progress`) is POSTed to `url`, signed and retried as a task's `webhookUrl` is, with its own delivery log entry (`target`: the endpoint's id). `url` follows the webhookUrl rules (https to a public address). At most 10 per account (409 beyond). `task.progress` reaches an endpoint only for tasks whose own `webhookEvents` asked for it.",
    tag: "webhooks",
    auth: true,
    body: {
      schema: "CreateEndpointRequest",
      example: { url: "https://example.com/hooks/paperboat", events: ["task.succeeded"] },
    },
    ok: { status: 201, description: "the endpoint", schema: "WebhookEndpoint" },
    errors: [400, 401, 409, 413, 503],
  },
  "GET /v1/webhook-endpoints": {
    operationId: "listWebhookEndpoints",
    summary: "Your account webhook endpoints",
    tag: "webhooks",
    auth: true,
    ok: { status: 200, description: "the endpoints, oldest first", schema: "WebhookEndpointList" },
    errors: [401, 503],
  },
  "DELETE /v1/webhook-endpoints/{id}": {
    operationId: "deleteWebhookEndpoint",
    summary: "Delete an account webhook endpoint",
    description:
      "No later event is sent to it, and its deliveries still retrying stop (`stopped`) unsent.",
    tag: "webhooks",
    auth: true,
    path: {
      id: "the endpoint's `id` (`ep_` + a ULID); an unknown one, or another owner's, is 404",
    },
    ok: { status: 204, description: "deleted" },
    errors: [401, 404, 503],
  },
  "POST /v1/admin/keys": {
    operationId: "createKey",
    summary: "Create an API key for an owner",
    description:
      "Needs the operator's `ADMIN_KEY`; an owner's key is 401 here. The answer is the only time the key is shown: the table keeps its SHA-256. The key works at once; its `id` names it for listing and revoking.",
    tag: "admin",
    auth: "admin",
    body: {
      schema: "CreateKeyRequest",
      example: { owner: "carol", name: "carol's laptop" },
    },
    ok: { status: 201, description: "the new key, shown this once", schema: "CreatedKey" },
    errors: [400, 401, 503],
  },
  "GET /v1/admin/keys": {
    operationId: "listKeys",
    summary: "List the API keys kept in the table",
    description:
      "Needs `ADMIN_KEY`. Never shows a key. `lastUsedAt` is written at most once a minute per key, so it may lag by a minute. Keys of `API_KEYS` are not listed.",
    tag: "admin",
    auth: "admin",
    contractQuery: queryDoc(KeyListQuery, { owner: "only this owner's keys" }),
    ok: { status: 200, description: "the keys", schema: "ApiKeyList" },
    errors: [400, 401, 503],
  },
  "DELETE /v1/admin/keys/{id}": {
    operationId: "revokeKey",
    summary: "Revoke an API key",
    description:
      "Needs `ADMIN_KEY`. The key is deleted; every running function refuses it (401) within 30 seconds, the time it trusts what it last read of a key.",
    tag: "admin",
    auth: "admin",
    path: { id: "the key's `id` (`key_` + 24 hex digits); an unknown one is 404" },
    ok: { status: 204, description: "revoked" },
    errors: [401, 404, 503],
  },
  "PUT /v1/admin/owners/{owner}/limits": {
    operationId: "setLimits",
    summary: "Set an owner's limits",
    description:
      "Needs `ADMIN_KEY`. `concurrent`: tasks unfinished at once; `perDay`: jobs started per UTC day; `null` removes a limit, a field left out keeps it. A submit over a limit is answered 429 `quota_exceeded` with `Retry-After` (the concurrent limit: 30 s; the daily one: the seconds to the next UTC midnight). The check and the count ride in the transaction that creates the task, so two submits racing for the last slot never both pass.",
    tag: "admin",
    auth: "admin",
    path: { owner: "the owner, as in its keys" },
    body: { schema: "LimitsRequest", example: { concurrent: 5, perDay: 100 } },
    ok: { status: 200, description: "the owner's limits as they now stand", schema: "OwnerLimits" },
    errors: [400, 401, 404, 413, 503],
  },
  "GET /v1/admin/usage": {
    operationId: "ownerUsage",
    summary: "Any owner's usage",
    description: "Needs `ADMIN_KEY`. The answer of `GET /v1/usage`, for the owner named.",
    tag: "admin",
    auth: "admin",
    contractQuery: queryDoc(AdminUsageQuery, { owner: "the owner", ...USAGE_RANGE }),
    ok: { status: 200, description: "the owner's usage", schema: "Usage" },
    errors: [400, 401, 503],
  },
  "GET /v1/usage": {
    operationId: "usage",
    summary: "Your usage per UTC day",
    description:
      "Jobs created per UTC day, by action and by mode, and the tasks that failed (counted the day they failed), from counters kept as tasks are created and finish. Days without any are left out. A range covers at most 366 days.",
    tag: "service",
    auth: true,
    contractQuery: queryDoc(UsageQuery, USAGE_RANGE),
    ok: { status: 200, description: "days and totals", schema: "Usage" },
    errors: [400, 401, 503],
  },
  "GET /health": {
    operationId: "health",
    summary: "Liveness, and each upstream's state",
    description:
      "`upstreams` lists every upstream of MJ_API_BASE_URL in order, by a stable id derived from its base URL (never its host): `up`, `down` (failing: new jobs skip it until `retryAt`), `probing` (the next job tries it again), `busy` (its queue was full). States are what submit instances last recorded.",
    tag: "service",
    auth: false,
    ok: { status: 200, description: "the service answers", schema: "Health" },
    errors: [],
  },
  "GET /v1/tasks/{id}/images/{name}": {
    operationId: "taskImage",
    summary: "A durable copy of the task's result: a redirect to a fresh signed link",
    description:
      "`name` is one of the task's `images[].name`. Answers `302` to a link that needs no key and expires (`curl -L` follows it).",
    tag: "tasks",
    auth: true,
    path: {
      ...TASK_ID,
      name: "one of the task's `images[].name` (`grid.png`, `quadrant-2.png` ...)",
    },
    ok: {
      status: 302,
      description: "the signed link",
      headers: { Location: "the signed link to the file" },
    },
    errors: [401, 404, 503],
  },
  "GET /images/{id}/{name}": {
    operationId: "imageLink",
    summary: "A durable copy at a signed link (no key: the signature is the credential)",
    description:
      "Links come from `images[].url` of a task. A tampered, expired or unknown link is `404`.",
    tag: "tasks",
    auth: false,
    path: { id: "the task's id", name: "the file's name within the task" },
    query: { expires: "when the link expires (Unix seconds)", sig: "the link's signature" },
    ok: {
      status: 200,
      description: "the file",
      content: { "image/png": {}, "image/webp": {}, "image/jpeg": {}, "video/mp4": {} },
    },
    errors: [404],
  },
  "POST /v1/uploads": {
    operationId: "upload",
    summary: "Keep an image of yours and get a link a prompt can use",
    description:
      "`201` with `url`, an https link to our own copy that opens without a key (the upstream fetches it), and `expiresAt`, the end of the owner's retention (`TASK_RETENTION_DAYS`). Put the link in a prompt: an image prompt, `--sref <url>`, `--cref <url>`. The type comes from the bytes (PNG, JPEG, GIF, WebP); anything else is `400`.",
    tag: "jobs",
    auth: true,
    body: { schema: "UploadRequest", example: { image: EXAMPLE_IMAGE } },
    ok: { status: 201, description: "the upload's link", schema: "Upload" },
    errors: [400, 401, 413, 503],
  },
  "GET /uploads/{name}": {
    operationId: "uploadLink",
    summary: "An upload at its link (no key: the unguessable name is the credential)",
    description: "An unknown or expired link is `404`.",
    tag: "jobs",
    auth: false,
    path: { name: "the upload's name, from the `url` that `POST /v1/uploads` answered" },
    ok: {
      status: 200,
      description: "the image",
      content: { "image/png": {}, "image/jpeg": {}, "image/gif": {}, "image/webp": {} },
    },
    errors: [404],
  },
  "GET /": {
    operationId: "gallery",
    summary: "The gallery: your tasks as pictures, in a browser (the page asks for the API key)",
    tag: "pages",
    auth: false,
    ok: { status: 200, description: "an HTML page", content: { "text/html": {} } },
    errors: [],
  },
  "GET /gallery.js": {
    operationId: "galleryScript",
    internal: true,
    summary: "The gallery's script",
    tag: "pages",
    auth: false,
    ok: { status: 200, description: "JavaScript", content: { "text/javascript": {} } },
    errors: [],
  },
  "GET /gallery.css": {
    operationId: "galleryStyles",
    internal: true,
    summary: "The gallery's styles",
    tag: "pages",
    auth: false,
    ok: { status: 200, description: "CSS", content: { "text/css": {} } },
    errors: [],
  },
  "GET /openapi.json": {
    operationId: "openapi",
    summary: "This document",
    tag: "service",
    auth: false,
    ok: {
      status: 200,
      description: "the OpenAPI 3.1 document",
      content: { "application/json": { schema: { type: "object" } } },
    },
    errors: [],
  },
  "GET /docs": {
    operationId: "docs",
    summary: "The interactive API reference (Swagger UI, served by paperboat itself)",
    tag: "service",
    auth: false,
    ok: { status: 200, description: "an HTML page", content: { "text/html": {} } },
    errors: [],
  },
  "GET /docs/{file}": {
    operationId: "docsAsset",
    internal: true,
    summary: "The API reference's scripts, styles and icons",
    tag: "service",
    auth: false,
    path: { file: `one of ${Object.keys(DOCS_CONTENT_TYPES).join(", ")}` },
    ok: {
      status: 200,
      description: "the file",
      content: Object.fromEntries(
        [...new Set(Object.values(DOCS_CONTENT_TYPES))].map((type) => [type.split(";")[0], {}]),
      ),
    },
    errors: [404],
  },
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** zod → JSON Schema (2020-12, OpenAPI 3.1's dialect) without the `$schema`/`$id` noise. */
function jsonSchemaOf(schema: z.ZodMiniType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(z.built(schema), { io, target: "draft-2020-12" });
  return rest;
}

/**
 * The contract schema behind each component of the document: request bodies are described by
 * their input side, answers by their output side (test/contract/ compares them field by field).
 */
export const COMPONENTS = {
  input: { AccountFilter, ...REQUESTS } as Record<string, z.ZodMiniType>,
  output: ANSWERS as Record<string, z.ZodMiniType>,
};

/** Components: request bodies by their input side, answers by their output side. */
function componentSchemas(): Record<string, unknown> {
  const build = (
    schemas: Record<string, z.ZodMiniType>,
    io: "input" | "output",
    extra: Record<string, z.ZodMiniType> = {},
  ) => {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of Object.entries({ ...extra, ...schemas })) {
      // the built schema: the one other schemas are built from, so they refer to it by `$ref`
      registry.add(z.built(schema), { id });
    }
    const { schemas: built } = z.toJSONSchema(registry, {
      io,
      target: "draft-2020-12",
      uri: (id) => `#/components/schemas/${id}`,
    });
    return Object.fromEntries(
      Object.entries(built).map(([id, { $schema: _, $id: __, ...rest }]) => [id, rest]),
    );
  };
  return {
    ...build(REQUESTS, "input", { AccountFilter }),
    ...build(COMPONENTS.output, "output"),
  };
}

/** A query parameter's schema: what the value means when representable (limit: 1-100), else its text. */
function parameterSchema(schema: z.ZodMiniType): Record<string, unknown> {
  try {
    return jsonSchemaOf(schema, "output");
  } catch {
    return jsonSchemaOf(schema, "input");
  }
}

function operationOf(route: Route, spec: OperationSpec): Record<string, unknown> {
  const key = `${route.method} ${route.path}` as RouteKey;
  const bodyLimit = (BODY_LIMITS as Partial<Record<RouteKey, number>>)[key];
  if (spec.body && bodyLimit === undefined)
    throw new Error(`route ${key} takes a body but has no limit in functions/contract/limits.ts`);
  const parameters: unknown[] = [];
  for (const [name, description] of Object.entries(spec.path ?? {})) {
    parameters.push({ name, in: "path", required: true, description, schema: { type: "string" } });
  }
  if (spec.contractQuery) {
    // required ones first, each in the schema's order
    const fields = Object.entries(spec.contractQuery.schema.shape as Record<string, z.ZodMiniType>);
    const isOptional = (field: z.ZodMiniType) => field._zod.def.type === "optional";
    for (const [name, field] of [
      ...fields.filter(([, f]) => !isOptional(f)),
      ...fields.filter(([, f]) => isOptional(f)),
    ]) {
      const inner = isOptional(field)
        ? (field._zod.def as unknown as { innerType: z.ZodMiniType }).innerType
        : field;
      parameters.push({
        name,
        in: "query",
        required: !isOptional(field),
        description: spec.contractQuery.descriptions[name],
        schema: parameterSchema(inner),
      });
    }
  }
  for (const [name, description] of Object.entries(spec.query ?? {})) {
    parameters.push({ name, in: "query", required: true, description, schema: { type: "string" } });
  }
  for (const [name, description] of Object.entries(spec.optionalQuery ?? {})) {
    parameters.push({
      name,
      in: "query",
      required: false,
      description,
      schema: { type: "string" },
    });
  }
  for (const [name, description] of Object.entries(spec.optionalHeaders ?? {})) {
    parameters.push({
      name,
      in: "header",
      required: false,
      description,
      schema: { type: "string" },
    });
  }
  if (spec.idempotent) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description:
        "Makes a retry with the same key and body return the first answer for 24 hours, without a second upstream job. Another body with the same key, or a retry while the first request is still running, is `409 idempotency_conflict`.",
      schema: { type: "string", pattern: "^[\\x20-\\x7e]{1,255}$" },
    });
  }

  const content = spec.ok.schema
    ? { "application/json": { schema: ref(spec.ok.schema) } }
    : spec.ok.content;
  const headers = Object.entries(spec.ok.headers ?? {}).map(([name, description]) => [
    name,
    { description, schema: { type: "string" } },
  ]);
  const responses: Record<string, unknown> = {
    [spec.ok.status]: {
      description: spec.ok.description,
      ...(headers.length ? { headers: Object.fromEntries(headers) } : {}),
      ...(content ? { content } : {}),
    },
  };
  for (const status of [...new Set(spec.errors)].sort()) {
    responses[status] = { $ref: `#/components/responses/${ERROR_NAMES[status]}` };
  }
  if (spec.body) {
    // another route's 413 may differ: each operation says its own limit
    responses[413] = {
      description: `\`payload_too_large\`: the body is over this route's limit of ${kib(bodyLimit ?? 0)}`,
      content: { "application/json": { schema: ref(ERROR_NAMES[413]) } },
    };
  }

  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    ...(route.path === CALLBACK_PATH || !spec.auth ? { security: [] } : {}),
    ...(spec.auth === "admin" ? { security: [{ adminKey: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: true,
            description: `JSON, at most ${kib(bodyLimit ?? 0)}`,
            content: {
              "application/json": { schema: ref(spec.body.schema), example: spec.body.example },
            },
          },
        }
      : {}),
    responses,
  };
}

/** The whole document. Deterministic: the same schemas give byte-for-byte the same JSON. */
export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const key = `${route.method} ${route.path}` as RouteKey;
    const spec = OPERATIONS[key];
    if (!spec)
      throw new Error(`route ${key} has no OpenAPI operation in functions/http/openapi.ts`);
    if (spec.internal) continue;
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = operationOf(
      route,
      spec,
    );
  }
  const retryAfter = {
    description: "seconds to wait before retrying",
    schema: { type: "integer", minimum: 0 },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "paperboat",
      version: packageJson.version,
      // short lines and short code spans: the intro is read on phones too (docs-app.ts)
      description: [
        "Midjourney jobs as tasks.",
        "",
        "1. **Submit** a job: `POST /v1/imagine` (or blend, describe, shorten, video).",
        "2. **Follow** its task: `GET /v1/tasks/{id}` until `status` is `SUCCESS`, `FAILURE` or `CANCEL`.",
        "3. **Click** its `buttons` (upscale, vary, zoom …): `POST /v1/tasks/{id}/actions`.",
        "",
        "Every `/v1` route needs an API key: press **Authorize** and paste one (`npm start` prints it). An owner sees only its own tasks.",
        "",
        'Every error is `{"error": {"code", "message"}}`, with `details` when the input was wrong.',
      ].join("\n"),
    },
    tags: [
      { name: "jobs", description: "start (or complete) an upstream job" },
      { name: "tasks", description: "read tasks" },
      {
        name: "webhooks",
        description: "the upstream's webhook to us, and ours to you: delivery log, signing secret",
      },
      { name: "service", description: "health and this reference" },
      { name: "pages", description: "for people, in a browser" },
      { name: "admin", description: "the operator's: owners' API keys, with `ADMIN_KEY`" },
    ],
    security: [{ apiKey: [] }],
    paths,
    webhooks: {
      taskEvent: {
        post: {
          operationId: "taskEvent",
          summary: "A task's event, POSTed to its webhookUrl",
          description:
            "Sent for `task.succeeded`, `task.failed`, `task.modal` (and `task.progress` when the submit's `webhookEvents` asks for it), signed as Standard Webhooks: verify `webhook-signature` with your secret (`GET /v1/webhook-secret`) over `webhook-id.webhook-timestamp.body`. Answer 2xx within 10 s; anything else is retried for about 25 h with the same `webhook-id`; 410 stops.",
          tags: ["webhooks"],
          security: [],
          parameters: [
            ["webhook-id", "the event's id, the same on every retry"],
            ["webhook-timestamp", "seconds since the epoch, when this attempt was signed"],
            [
              "webhook-signature",
              "`v1,<base64 HMAC-SHA256>`; two, space-separated, during a secret rotation",
            ],
          ].map(([name, description]) => ({
            name,
            in: "header",
            required: true,
            description,
            schema: { type: "string" },
          })),
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref("TaskEvent") } },
          },
          responses: {
            "200": { description: "received (any 2xx)" },
            "410": { description: "gone: stop sending this task's events here" },
          },
        },
      },
    },
    components: {
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description:
            "an owner's API key (one made with `POST /v1/admin/keys`, or of `API_KEYS`, printed by `npm start`)",
        },
        adminKey: {
          type: "http",
          scheme: "bearer",
          description: "the operator's `ADMIN_KEY` (printed by `npm start`); never an owner's key",
        },
      },
      schemas: componentSchemas(),
      responses: Object.fromEntries(
        (Object.entries(ERROR_NAMES) as unknown as [string, string][]).map(([status, name]) => [
          name,
          {
            description: ERROR_DESCRIPTIONS[Number(status) as ErrorStatus],
            ...(status === "429" || status === "503"
              ? { headers: { "Retry-After": retryAfter } }
              : {}),
            content: { "application/json": { schema: ref(name) } },
          },
        ]),
      ),
    },
  };
}

/** Where the generated document lives, relative to the repository root. */
export const OPENAPI_FILE = "functions/http/openapi.json";

/** The document as the file holds it. */
export function renderOpenApiDocument(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

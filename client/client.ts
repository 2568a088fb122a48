import type {
  ApiKeyView as ApiKeyInfoSchema,
  CreatedKey as CreatedKeySchema,
  CreateKeyBody,
  LimitsBody,
  OwnerLimits as OwnerLimitsSchema,
} from "../functions/contract/admin.ts";
import type { ErrorCode } from "../functions/contract/errors.ts";
import type { TaskEventType } from "../functions/contract/events.ts";
import type {
  ListQuery,
  UsageAnswer,
  UsageQuery as UsageQuerySchema,
} from "../functions/contract/read.ts";
import type { Health } from "../functions/contract/service.ts";
import type {
  ActionBody,
  BlendBody,
  DescribeBody,
  EditBody,
  ImagineBody,
  ModalBody,
  RetextureBody,
  ShortenBody,
  VideoBody,
} from "../functions/contract/submit.ts";
import type {
  Button,
  Seed,
  Task,
  TaskEvent,
  TaskPage,
  TaskStatus,
  TaskWithChildren,
} from "../functions/contract/task.ts";
import type { UploadBody, UploadResponse } from "../functions/contract/uploads.ts";
import type {
  Delivery,
  DeliveryAttempt,
  EndpointBody,
  EndpointView,
  RotateBody,
  WebhookSecret as WebhookSecretSchema,
} from "../functions/contract/webhooks.ts";
import type * as z from "../functions/contract/z.ts";
import {
  ApiError,
  ButtonNotFoundError,
  ConnectionError,
  UnexpectedResponseError,
  WaitTimeoutError,
} from "./errors.ts";
import { readEventStream } from "./sse.ts";

/*
 * Request and answer types come from the wire contract (functions/contract/), the schemas the API
 * validates with (a request type is the schema's input side), so the client cannot drift from
 * the server. Only types are imported:
 * the client itself is plain fetch and runs anywhere fetch does.
 */
export type ImagineRequest = z.input<typeof ImagineBody>;
export type ActionRequest = z.input<typeof ActionBody>;
export type ModalRequest = z.input<typeof ModalBody>;
export type BlendRequest = z.input<typeof BlendBody>;
export type DescribeRequest = z.input<typeof DescribeBody>;
export type ShortenRequest = z.input<typeof ShortenBody>;
export type VideoRequest = z.input<typeof VideoBody>;
export type EditRequest = z.input<typeof EditBody>;
export type RetextureRequest = z.input<typeof RetextureBody>;
export type UploadRequest = z.input<typeof UploadBody>;
/** `POST /v1/uploads`' answer: a keyless link to the copy, and when it stops working. */
export type Upload = z.output<typeof UploadResponse>;
/** `GET /v1/tasks` filters; `limit` 1-100 (default 20), `cursor` a previous page's `nextCursor`. */
export type ListTasksQuery = Omit<z.input<typeof ListQuery>, "limit"> & {
  limit?: z.output<typeof ListQuery>["limit"];
};
export type {
  Button,
  Delivery,
  DeliveryAttempt,
  Health,
  Seed,
  Task,
  TaskEvent,
  TaskEventType,
  TaskPage,
  TaskStatus,
  TaskWithChildren,
};
export type WebhookSecret = z.infer<typeof WebhookSecretSchema>;
export type RotateWebhookSecretRequest = z.input<typeof RotateBody>;
export type CreateWebhookEndpointRequest = z.input<typeof EndpointBody>;
export type WebhookEndpoint = Omit<z.infer<typeof EndpointView>, "events"> & {
  events: TaskEventType[];
};
/** `POST /v1/admin/keys` (operator only). */
export type CreateKeyRequest = z.input<typeof CreateKeyBody>;
/** A key just made: `key` is shown this once. */
export type CreatedKey = z.infer<typeof CreatedKeySchema>;
/** A key as listed: never the key itself. */
export type ApiKeyInfo = z.infer<typeof ApiKeyInfoSchema>;
/** `PUT /v1/admin/owners/{owner}/limits` (operator only): null removes a limit. */
export type LimitsRequest = z.input<typeof LimitsBody>;
/** An owner's limits: tasks unfinished at once, jobs per UTC day (null: no limit). */
export type OwnerLimits = z.infer<typeof OwnerLimitsSchema>;
/** `GET /v1/usage`: jobs per UTC day by action and mode, failures, and the totals. */
export type Usage = z.infer<typeof UsageAnswer>;
/** A UTC date range, `YYYY-MM-DD`, both ends included (default: the last 30 days). */
export type UsageQuery = z.input<typeof UsageQuerySchema>;

export interface ClientOptions {
  /** where the API is, e.g. `http://127.0.0.1:3000` (a path prefix is kept) */
  baseUrl: string;
  /** one of the service's API keys; only `health()` works without one */
  apiKey?: string;
  /** the operator's ADMIN_KEY, for the `*Key(s)` methods (`/v1/admin/*`) only */
  adminKey?: string;
  /** how many times a request is sent again when the connection fails (default 2) */
  retries?: number;
  /** time limit of one HTTP request (default 30 s) */
  requestTimeoutMs?: number;
  /** another fetch (tests, proxies) */
  fetch?: typeof fetch;
  /**
   * where `GET /v1/tasks/{id}/events` streams, when not at `baseUrl`: on AWS the stream
   * function's URL (the stack's `events` output); API Gateway itself answers it one read at a time
   */
  eventsUrl?: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface SubmitOptions extends RequestOptions {
  /**
   * Makes the request safe to retry: the same key and body give the first answer again, never a
   * second upstream job. Generated for every submit unless given.
   */
  idempotencyKey?: string;
}

export interface WaitOptions extends RequestOptions {
  /** called with the task whenever its status, progress or preview changes (and once at first) */
  onProgress?: (task: TaskWithChildren) => void;
  /** give up (WaitTimeoutError) after this long; default: wait as long as it takes */
  timeoutMs?: number;
  /** time between two reads (default 1000 ms) */
  intervalMs?: number;
  /** stop early when this says so (e.g. a task waiting in `MODAL` for its owner) */
  until?: (task: TaskWithChildren) => boolean;
  /** follow the task's live stream where the server has one (default true); false: poll only */
  stream?: boolean;
}

export interface WatchOptions extends RequestOptions {
  /** only the states after this event id (a previous watch's last); default: from the first */
  lastEventId?: string;
  /** failed connections in a row before {@link ConnectionError} (default 3) */
  maxFailures?: number;
}

/** An answer that is a server-sent events stream (anything else is an error or no stream). */
const isEventStream = (response: Response) =>
  response.ok && (response.headers.get("content-type") ?? "").startsWith("text/event-stream");

const TERMINAL: readonly TaskStatus[] = ["SUCCESS", "FAILURE", "CANCEL"];

/** Whether a task is finished (`SUCCESS`, `FAILURE` or `CANCEL`): it will never change again. */
export function isFinished(task: Pick<Task, "status">): boolean {
  return TERMINAL.includes(task.status);
}

/**
 * The button a user means by `label`: `U1`, `v2`, `🔄`, `reroll`, a label such as
 * `Zoom Out 2x` (any case), or a `customId` itself.
 */
export function findButton(task: Pick<Task, "buttons">, label: string): Button | undefined {
  const wanted = label.trim().toLowerCase();
  return (
    task.buttons.find((b) => b.customId === label) ??
    task.buttons.find((b) => b.label.toLowerCase() === wanted && wanted !== "") ??
    task.buttons.find((b) => b.emoji === label.trim() && b.emoji !== "") ??
    (wanted === "reroll" ? task.buttons.find((b) => /::reroll::/i.test(b.customId)) : undefined)
  );
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** `ECONNREFUSED` → "connection refused": why a request got no answer, in words. */
function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (error as { code?: string })?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (is the server running?)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "no such host";
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return "the connection was closed before an answer came";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "the connection timed out";
    default:
      if ((error as Error)?.name === "TimeoutError") return "no answer in time";
      return cause?.message ?? (error as Error)?.message ?? String(error);
  }
}

/** `?owner=&from=&to=` of the fields given. */
function usageQuery(query: UsageQuery & { owner?: string }): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
  const qs = params.toString();
  return qs ? `?${qs}` : "";
}

function retryAfter(headers: Headers): number | null {
  const value = headers.get("retry-after");
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}

const isErrorBody = (
  json: unknown,
): json is {
  error: { code: ErrorCode; message: string; details?: { path: string; message: string }[] };
  task?: Task;
} =>
  typeof json === "object" &&
  json !== null &&
  typeof (json as { error?: { code?: unknown } }).error?.code === "string";

/**
 * A typed client of the paperboat API: one method per route, errors as {@link ApiError} with the
 * contract's `code`, an `Idempotency-Key` on every submit (so retries never start a second job),
 * and {@link Client.waitForTask} to follow a task to its end.
 *
 * ```ts
 * const pb = createClient({ baseUrl: "http://127.0.0.1:3000", apiKey: process.env.PAPERBOAT_API_KEY });
 * const task = await pb.imagine({ prompt: "a paper boat at sunrise" });
 * const done = await pb.waitForTask(task.id, { onProgress: (t) => console.log(t.progress) });
 * ```
 */
export function createClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? globalThis.fetch;
  const retries = options.retries ?? 2;
  const eventsBase = (options.eventsUrl ?? options.baseUrl).replace(/\/+$/, "");
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;

  async function request<T>(
    method: "GET" | "POST" | "PUT" | "DELETE",
    path: string,
    init: {
      body?: unknown;
      idempotencyKey?: string;
      signal?: AbortSignal;
      /** false: no key; "admin": ADMIN_KEY instead of the API key */
      auth?: boolean | "admin";
    } = {},
  ): Promise<T> {
    const url = `${base}${path}`;
    const headers: Record<string, string> = { accept: "application/json" };
    const key = init.auth === "admin" ? options.adminKey : options.apiKey;
    if (init.auth !== false && key) headers.authorization = `Bearer ${key}`;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    if (init.idempotencyKey) headers["idempotency-key"] = init.idempotencyKey;
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);

    for (let attempt = 0; ; attempt++) {
      const timeout = AbortSignal.timeout(requestTimeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      let response: Response;
      let text: string;
      try {
        response = await doFetch(url, { method, headers, body, signal });
        text = await response.text();
      } catch (error) {
        if (init.signal?.aborted) throw init.signal.reason;
        // No answer: safe to send again, a submit carries its Idempotency-Key.
        if (attempt < retries) {
          await sleep(200 * 2 ** attempt, init.signal);
          continue;
        }
        throw new ConnectionError(base, describeFailure(error), { cause: error });
      }
      let json: unknown;
      try {
        json = text === "" ? undefined : JSON.parse(text);
      } catch {
        throw new UnexpectedResponseError(response.status, url, text.slice(0, 500));
      }
      if (response.ok) {
        if (response.status === 204) return undefined as T;
        if (json === undefined) throw new UnexpectedResponseError(response.status, url, text);
        return json as T;
      }
      if (!isErrorBody(json)) {
        throw new UnexpectedResponseError(response.status, url, text.slice(0, 500));
      }
      const wait = retryAfter(response.headers);
      // Storage hiccup: nothing was written, so the same request (same key) may go again.
      if (json.error.code === "store_unavailable" && attempt < retries) {
        await sleep(Math.min(wait ?? 1, 5) * 1000, init.signal);
        continue;
      }
      throw new ApiError(
        response.status,
        json.error.code,
        json.error.message,
        json.error.details ?? [],
        json.task ?? null,
        wait,
      );
    }
  }

  const submit = (path: string, body: unknown, opts: SubmitOptions = {}) =>
    request<Task>("POST", path, {
      body,
      signal: opts.signal,
      idempotencyKey: opts.idempotencyKey ?? crypto.randomUUID(),
    });

  const taskPath = (id: string) => `/v1/tasks/${encodeURIComponent(id)}`;

  const client = {
    /** `GET /health` (no key needed). */
    health: (opts: RequestOptions = {}) =>
      request<Health>("GET", "/health", { signal: opts.signal, auth: false }),

    /** `POST /v1/imagine`: the new task (`SUBMITTED`, or `MODAL`). */
    imagine: (body: ImagineRequest, opts?: SubmitOptions) => submit("/v1/imagine", body, opts),

    /** `POST /v1/tasks/{id}/actions`: click a button of a finished task; the new child task. */
    action: (taskId: string, body: ActionRequest, opts?: SubmitOptions) =>
      submit(`${taskPath(taskId)}/actions`, body, opts),

    /** `POST /v1/tasks/{id}/modal`: complete a task waiting in `MODAL`. */
    modal: (taskId: string, body: ModalRequest = {}, opts?: SubmitOptions) =>
      submit(`${taskPath(taskId)}/modal`, body, opts),

    /** `POST /v1/blend`. */
    blend: (body: BlendRequest, opts?: SubmitOptions) => submit("/v1/blend", body, opts),

    /** `POST /v1/describe`. */
    describe: (body: DescribeRequest, opts?: SubmitOptions) => submit("/v1/describe", body, opts),

    /** `POST /v1/shorten`. */
    shorten: (body: ShortenRequest, opts?: SubmitOptions) => submit("/v1/shorten", body, opts),

    /** `POST /v1/video`. */
    video: (body: VideoRequest, opts?: SubmitOptions) => submit("/v1/video", body, opts),

    /** `POST /v1/edits`: Midjourney's editor on an image (a data URI or an https URL). */
    edit: (body: EditRequest, opts?: SubmitOptions) => submit("/v1/edits", body, opts),

    /** `POST /v1/retexture`. */
    retexture: (body: RetextureRequest, opts?: SubmitOptions) =>
      submit("/v1/retexture", body, opts),

    /**
     * `POST /v1/uploads`: keeps an image (a data URI) and answers a link a prompt can use
     * (`--sref <url>`) until `expiresAt`. Not a job: no task, no Idempotency-Key.
     */
    upload: (image: string, opts: RequestOptions = {}) =>
      request<Upload>("POST", "/v1/uploads", { body: { image }, signal: opts.signal }),

    /** `GET /v1/tasks/{id}`: the task and its children's ids. */
    getTask: (id: string, opts: RequestOptions = {}) =>
      request<TaskWithChildren>("GET", taskPath(id), { signal: opts.signal }),

    /** `GET /v1/tasks`: one page of the owner's tasks, newest first. */
    listTasks: (query: ListTasksQuery = {}, opts: RequestOptions = {}) => {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) {
        if (value !== undefined) params.set(name, String(value));
      }
      const qs = params.size ? `?${params}` : "";
      return request<TaskPage>("GET", `/v1/tasks${qs}`, { signal: opts.signal });
    },

    /** Every task matching `query`, newest first, page after page. */
    async *tasks(query: ListTasksQuery = {}, opts: RequestOptions = {}): AsyncGenerator<Task> {
      let cursor = query.cursor;
      do {
        const page = await client.listTasks({ ...query, cursor }, opts);
        yield* page.items;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },

    /** `GET /v1/tasks/{id}/deliveries`: the task's webhook deliveries and every attempt. */
    deliveries: async (taskId: string, opts: RequestOptions = {}) =>
      (
        await request<{ items: Delivery[] }>("GET", `${taskPath(taskId)}/deliveries`, {
          signal: opts.signal,
        })
      ).items,

    /**
     * `POST /v1/tasks/{id}/deliveries/{deliveryId}/retry`: send a delivery again, now; `target`
     * names an account endpoint's delivery of the event (default: the task's webhookUrl).
     */
    retryDelivery: (
      taskId: string,
      deliveryId: string,
      opts: RequestOptions & { target?: string } = {},
    ) =>
      request<Delivery>(
        "POST",
        `${taskPath(taskId)}/deliveries/${encodeURIComponent(deliveryId)}/retry${
          opts.target ? `?${new URLSearchParams({ target: opts.target })}` : ""
        }`,
        { signal: opts.signal },
      ),

    /** `POST /v1/webhook-endpoints`: every later event of your tasks in `events` goes there too. */
    addWebhookEndpoint: (body: CreateWebhookEndpointRequest, opts: RequestOptions = {}) =>
      request<WebhookEndpoint>("POST", "/v1/webhook-endpoints", { body, signal: opts.signal }),

    /** `GET /v1/webhook-endpoints`: your account webhook endpoints, oldest first. */
    webhookEndpoints: async (opts: RequestOptions = {}) =>
      (
        await request<{ items: WebhookEndpoint[] }>("GET", "/v1/webhook-endpoints", {
          signal: opts.signal,
        })
      ).items,

    /** `DELETE /v1/webhook-endpoints/{id}`: no later event goes there. */
    removeWebhookEndpoint: (id: string, opts: RequestOptions = {}) =>
      request<void>("DELETE", `/v1/webhook-endpoints/${encodeURIComponent(id)}`, {
        signal: opts.signal,
      }),

    /** `GET /v1/webhook-secret`: the `whsec_` secret that signs your webhooks. */
    webhookSecret: (opts: RequestOptions = {}) =>
      request<WebhookSecret>("GET", "/v1/webhook-secret", { signal: opts.signal }),

    /** `POST /v1/webhook-secret/rotate`: a new secret; the old one signs too for the grace period. */
    rotateWebhookSecret: (body: RotateWebhookSecretRequest = {}, opts: RequestOptions = {}) =>
      request<WebhookSecret>("POST", "/v1/webhook-secret/rotate", { body, signal: opts.signal }),

    /** `POST /v1/admin/keys` (ADMIN_KEY): a new key for an owner; its `key` is shown this once. */
    createKey: (body: CreateKeyRequest, opts: RequestOptions = {}) =>
      request<CreatedKey>("POST", "/v1/admin/keys", { body, signal: opts.signal, auth: "admin" }),

    /** `GET /v1/admin/keys` (ADMIN_KEY): the keys kept in the table, of one owner or all. */
    listKeys: async (query: { owner?: string } = {}, opts: RequestOptions = {}) => {
      const qs = query.owner ? `?${new URLSearchParams({ owner: query.owner })}` : "";
      return (
        await request<{ items: ApiKeyInfo[] }>("GET", `/v1/admin/keys${qs}`, {
          signal: opts.signal,
          auth: "admin",
        })
      ).items;
    },

    /** `DELETE /v1/admin/keys/{id}` (ADMIN_KEY): refused everywhere within 30 s. */
    revokeKey: (id: string, opts: RequestOptions = {}) =>
      request<void>("DELETE", `/v1/admin/keys/${encodeURIComponent(id)}`, {
        signal: opts.signal,
        auth: "admin",
      }),

    /** `GET /v1/usage`: your jobs per UTC day, by action and by mode, and failures. */
    usage: (query: UsageQuery = {}, opts: RequestOptions = {}) =>
      request<Usage>("GET", `/v1/usage${usageQuery(query)}`, { signal: opts.signal }),

    /** `GET /v1/admin/usage` (ADMIN_KEY): any owner's usage. */
    ownerUsage: (owner: string, query: UsageQuery = {}, opts: RequestOptions = {}) =>
      request<Usage>("GET", `/v1/admin/usage${usageQuery({ owner, ...query })}`, {
        signal: opts.signal,
        auth: "admin",
      }),

    /** `PUT /v1/admin/owners/{owner}/limits` (ADMIN_KEY): a field left out keeps its limit. */
    setLimits: (owner: string, limits: LimitsRequest, opts: RequestOptions = {}) =>
      request<OwnerLimits>("PUT", `/v1/admin/owners/${encodeURIComponent(owner)}/limits`, {
        body: limits,
        signal: opts.signal,
        auth: "admin",
      }),

    /**
     * `POST /v1/tasks/{id}/cancel`: the unfinished task, now `CANCEL`; its `failReason` says
     * whether the upstream job was stopped too. An `ApiError` `invalid_state` (409) once finished.
     */
    cancel: (id: string, opts: RequestOptions = {}) =>
      request<Task>("POST", `${taskPath(id)}/cancel`, { signal: opts.signal }),

    /** `GET /v1/tasks/{id}/seed`: the upstream's seed of a `SUCCESS` task. */
    seed: (id: string, opts: RequestOptions = {}) =>
      request<Seed>("GET", `${taskPath(id)}/seed`, { signal: opts.signal }),

    /**
     * Clicks the button a user names (`U1`, `V2`, `🔄`, `reroll`, a label or a customId) on the
     * task as it is now: {@link ButtonNotFoundError} when it has no such button.
     */
    async clickButton(
      taskId: string,
      label: string,
      body: Omit<ActionRequest, "customId"> = {},
      opts?: SubmitOptions,
    ): Promise<Task> {
      const task = await client.getTask(taskId, opts);
      const button = findButton(task, label);
      if (!button) throw new ButtonNotFoundError(task, label);
      return client.action(taskId, { ...body, customId: button.customId }, opts);
    },

    /**
     * The task's live stream (`GET /v1/tasks/{id}/events`): each recorded state once, oldest
     * first, ending after the finishing one. A dropped or ended stream is resumed with
     * `Last-Event-ID`, so no state is missed or repeated; after `maxFailures` failed
     * connections in a row it throws {@link ConnectionError}; an error answer (no such task,
     * no such route) is an {@link ApiError} or {@link UnexpectedResponseError}.
     */
    async *watchTask(id: string, opts: WatchOptions = {}): AsyncGenerator<TaskWithChildren> {
      const url = `${eventsBase}${taskPath(id)}/events`;
      const maxFailures = opts.maxFailures ?? 3;
      let lastId = opts.lastEventId ?? null;
      let retryMs = 1000;
      let failures = 0;
      const failed = async (error: unknown) => {
        if (opts.signal?.aborted) throw opts.signal.reason;
        if (++failures >= maxFailures) {
          throw new ConnectionError(eventsBase, describeFailure(error), { cause: error });
        }
      };
      for (;;) {
        const headers: Record<string, string> = { accept: "text/event-stream" };
        if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
        if (lastId !== null) headers["last-event-id"] = lastId;
        // a connection that answers nothing for requestTimeoutMs (the server sends a comment
        // every 15 s of silence) is dropped and resumed, so a dead one cannot hang the wait
        const silence = new AbortController();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const arm = () => {
          clearTimeout(timer);
          timer = setTimeout(
            () => silence.abort(new DOMException("no answer in time", "TimeoutError")),
            requestTimeoutMs,
          );
        };
        const signal = opts.signal
          ? AbortSignal.any([opts.signal, silence.signal])
          : silence.signal;
        let response: Response | null = null;
        arm();
        try {
          response = await doFetch(url, { headers, signal });
        } catch (error) {
          clearTimeout(timer);
          await failed(error);
        }
        if (response && !isEventStream(response)) {
          const text = await response.text().catch(() => "");
          clearTimeout(timer);
          if (response.status >= 500 && failures + 1 < maxFailures) {
            failures++;
          } else {
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {}
            if (!isErrorBody(json)) {
              throw new UnexpectedResponseError(response.status, url, text.slice(0, 500));
            }
            throw new ApiError(
              response.status,
              json.error.code,
              json.error.message,
              json.error.details ?? [],
              null,
              retryAfter(response.headers),
            );
          }
        } else if (response?.body) {
          try {
            const events = readEventStream(
              response.body,
              (ms) => {
                retryMs = ms;
              },
              arm,
            );
            for await (const event of events) {
              if (event.event !== "task") continue;
              const task = JSON.parse(event.data) as TaskWithChildren;
              lastId = event.id ?? lastId;
              failures = 0;
              // the consumer's own time is not the server's silence
              clearTimeout(timer);
              yield task;
              if (isFinished(task)) return;
              arm();
            }
            // an end before the finishing state: the stream's lifetime, or a one-read answer
            failures = 0;
          } catch (error) {
            await failed(error);
          } finally {
            clearTimeout(timer);
          }
        }
        await sleep(retryMs, opts.signal);
      }
    },

    /**
     * Follows the task until it is finished (`SUCCESS`, `FAILURE` or `CANCEL`, or `until` says
     * so) and returns it as it ended: a failed task is an outcome to look at, not an exception.
     * Uses the live stream ({@link Client.watchTask}) where the server has one, and reads the
     * task every `intervalMs` where it has not (an older server, a proxy, a stream that keeps
     * failing). Throws {@link WaitTimeoutError} after `timeoutMs`, and the signal's reason when
     * it aborts.
     */
    async waitForTask(id: string, opts: WaitOptions = {}): Promise<TaskWithChildren> {
      const started = Date.now();
      const interval = opts.intervalMs ?? 1000;
      let seen = "";
      let last: TaskWithChildren | null = null;
      const isDone = (task: TaskWithChildren) => {
        const now = `${task.status}/${task.progress}/${task.imageUrl ?? ""}`;
        if (now !== seen) {
          seen = now;
          opts.onProgress?.(task);
        }
        last = task;
        return isFinished(task) || opts.until?.(task) === true;
      };
      const timedOut = () => opts.timeoutMs !== undefined && Date.now() - started >= opts.timeoutMs;
      if (opts.stream !== false) {
        const signals = [
          opts.signal,
          opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs),
        ];
        const signal = AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
        try {
          for await (const task of client.watchTask(id, { signal })) {
            if (isDone(task)) return task;
          }
        } catch {
          if (opts.signal?.aborted) throw opts.signal.reason;
          if (timedOut() && opts.timeoutMs !== undefined) {
            throw new WaitTimeoutError(last ?? (await client.getTask(id)), opts.timeoutMs);
          }
          // no live stream here: poll (a real error, such as an unknown task, shows there)
        }
      }
      for (;;) {
        const task = await client.getTask(id, { signal: opts.signal });
        if (isDone(task)) return task;
        if (opts.timeoutMs !== undefined && Date.now() - started + interval > opts.timeoutMs) {
          throw new WaitTimeoutError(task, opts.timeoutMs);
        }
        await sleep(interval, opts.signal);
      }
    },
  };
  return client;
}

export type Client = ReturnType<typeof createClient>;

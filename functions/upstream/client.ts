import {
  type CancelOutcome,
  type ImageSeedOutcome,
  type SubmitKind,
  type SubmitOutcome,
  type Upstream,
  UpstreamReadError,
} from "../core/upstream-port.ts";
import { ErrorEnvelope, GatewayError, SubmitResponse, UpstreamTask } from "./schemas.ts";
import { nodeTransport, type UpstreamTransport } from "./transport.ts";

export type { CancelOutcome, ImageSeedOutcome, SubmitKind, SubmitOutcome };
export { UpstreamReadError };

/**
 * Midjourney's speed for one job (docs/api.md `mode`): sent as the path prefix `/mj-fast`,
 * `/mj-relax` or `/mj-turbo` (trueai serves every route under them; new-api takes the prefix
 * as the job's mode), for the submit and that task's polls. Absent: plain `/mj`.
 */
export const SPEEDS = ["fast", "relax", "turbo"] as const;
export type Speed = (typeof SPEEDS)[number];

/** The path every call of a job at `mode` goes under. */
export function basePath(mode?: Speed | null): string {
  return mode ? `/mj-${mode}/mj` : "/mj";
}

/**
 * One host: the upstream port (core/upstream-port.ts) for a single base URL. `at` is ignored
 * (there is no other upstream to route to); createFailoverUpstream routes over several.
 */
export interface UpstreamClient extends Upstream {
  /** Which protocol the host speaks (MJ_API_KIND). */
  readonly kind: UpstreamKind;
}

/**
 * How the key is sent (docs/upstreams.md `MJ_API_AUTH`): `bearer` for new-api gateways (CometAPI)
 * that strip `Bearer `, `mj-api-secret` for novicezk (the only header it reads), `authorization`
 * for trueai (which takes the raw `Authorization` value as the token, no `Bearer ` stripping).
 */
export const UPSTREAM_AUTH_STYLES = ["bearer", "mj-api-secret", "authorization"] as const;
export type UpstreamAuth = (typeof UPSTREAM_AUTH_STYLES)[number];

/** The credential header for an auth style. */
export function authHeaders(auth: UpstreamAuth, apiKey: string): Record<string, string> {
  switch (auth) {
    case "bearer":
      return { authorization: `Bearer ${apiKey}` };
    case "mj-api-secret":
      return { "mj-api-secret": apiKey };
    case "authorization":
      return { authorization: apiKey };
  }
}

/**
 * Which protocol the host speaks (docs/upstreams.md `MJ_API_KIND`): `proxy` for the
 * midjourney-proxy-plus family (CometAPI and other new-api gateways, trueai: buttons,
 * `/submit/action`, `/submit/modal`, shorten, video, image-seed), `novicezk` for the open-source
 * novicezk/midjourney-proxy (no buttons; U1–4, V1–4 and reroll through `/submit/change`; no
 * shorten, video, modal or image-seed).
 */
export const UPSTREAM_KINDS = ["proxy", "novicezk"] as const;
export type UpstreamKind = (typeof UPSTREAM_KINDS)[number];

/** A grid button as novicezk's `/submit/change` takes it: `{action, index}`. */
function changeOf(customId: unknown): { action: string; index: number } | null {
  const match = /^MJ::JOB::(upsample|variation|reroll)::(\d+)::/.exec(String(customId ?? ""));
  if (!match) return null;
  const action = { upsample: "UPSCALE", variation: "VARIATION", reroll: "REROLL" }[
    match[1] as "upsample" | "variation" | "reroll"
  ];
  return { action, index: Math.max(1, Number(match[2])) };
}

export interface UpstreamClientOptions {
  baseUrl: string;
  apiKey: string;
  /** default "proxy" */
  kind?: UpstreamKind;
  /** default "bearer" */
  auth?: UpstreamAuth;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Attempts for reads (fetch, list); submits are never retried blindly. */
  readAttempts?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const DEFAULT_RETRY_AFTER_SECONDS = 30;

function parseRetryAfter(header: string | null, now = Date.now()): number {
  if (!header) return DEFAULT_RETRY_AFTER_SECONDS;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(3600, Math.ceil(seconds));
  const date = Date.parse(header);
  if (Number.isFinite(date)) return Math.min(3600, Math.max(1, Math.ceil((date - now) / 1000)));
  return DEFAULT_RETRY_AFTER_SECONDS;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const UNREACHED_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * Whether a fetch failed before any connection existed (refused, no such host, no route): the
 * request was never sent. fetch wraps the socket's error in `cause` (an AggregateError when
 * every address of the host refused).
 */
function isUnreached(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 4) return false;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string" && UNREACHED_CODES.has(code)) return true;
  if (Array.isArray(errors) && errors.length > 0) {
    return errors.every((inner) => isUnreached(inner, depth + 1));
  }
  return isUnreached(cause, depth + 1);
}

/**
 * The words a busy host uses: a full queue (NZ code 23, TA code 9 "队列已满"), TA's per-user
 * limits ("并发数已达上限", "队列数已达上限": code 4 from imagine, the `{success:false}` envelope
 * elsewhere) and its empty account pool (code 3 "无可用的账号实例"). Nothing was started, and
 * the same job may go through later: busy, not refused.
 */
function isBusyText(text: string): boolean {
  return /队列已满|queue (is )?full|并发数已达上限|队列数已达上限|无可用的账号实例|no available account/i.test(
    text,
  );
}

/**
 * Client for CometAPI's `/mj/*` endpoints and any midjourney-proxy compatible server.
 * Submits map every answer the upstream family is known to give onto a SubmitOutcome (see
 * docs/upstreams.md §2); reads retry with capped exponential backoff
 * and full jitter, because a read can be repeated safely and a submit cannot.
 */
export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch: UpstreamTransport = options.fetch ?? nodeTransport;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const attempts = Math.max(1, options.readAttempts ?? 3);
  const retryBaseMs = options.retryBaseMs ?? 200;
  const retryCapMs = options.retryCapMs ?? 2_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const credentials = authHeaders(options.auth ?? "bearer", options.apiKey);
  const hostKind = options.kind ?? "proxy";

  function unsupported(
    kind: SubmitKind | "image-seed",
    body: Record<string, unknown> = {},
    mode?: Speed | null,
  ): string | null {
    if (hostKind !== "novicezk") return null;
    // its context path is /mj only: no /mj-fast, /mj-relax, /mj-turbo
    if (mode) return `novicezk has no speed prefixes (/mj-${mode})`;
    // novicezk/midjourney-proxy, controller/SubmitController.java: imagine, change,
    // simple-change, describe, blend; TaskController.java: fetch, list-by-condition
    if (kind === "action") {
      return changeOf(body.customId)
        ? null
        : "novicezk runs only U1–U4, V1–V4 and reroll (its /submit/change); this button is not among them";
    }
    if (kind === "imagine" || kind === "blend" || kind === "describe") return null;
    return `novicezk has no ${kind === "image-seed" ? "image-seed" : `/submit/${kind}`} route`;
  }

  async function call(method: "GET" | "POST", path: string, body?: unknown) {
    const response = await doFetch(`${base}${path}`, {
      method,
      headers: {
        ...credentials,
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "error",
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  }

  async function submit(
    kind: SubmitKind,
    body: Record<string, unknown>,
    mode?: Speed | null,
  ): Promise<SubmitOutcome> {
    let answer: Awaited<ReturnType<typeof call>>;
    let route: string = kind;
    let payload = body;
    if (hostKind === "novicezk" && kind === "action") {
      // no /submit/action there: the same click as `{taskId, action, index}` on /submit/change
      const change = changeOf(body.customId);
      if (!change) return { kind: "rejected", code: 4, reason: unsupported(kind, body) ?? "" };
      const { customId: _customId, enableRemix: _remix, ...rest } = body;
      route = "change";
      payload = { ...rest, ...change };
    }
    try {
      answer = await call("POST", `${basePath(mode)}/submit/${route}`, payload);
    } catch (error) {
      const timedOut = (error as { name?: string }).name === "TimeoutError";
      if (timedOut) return { kind: "unavailable", reason: `no answer within ${timeoutMs} ms` };
      // refused or unresolvable: no connection, so nothing was sent; a reset may hide a job
      const unreached = isUnreached(error);
      return {
        kind: "unavailable",
        reason: unreached
          ? "the upstream refused the connection"
          : "the upstream could not be reached",
        ...(unreached ? { nothingStarted: true } : {}),
      };
    }
    const { status, headers, text } = answer;
    const json = parseJson(text);
    if (status === 429) {
      const parsed = SubmitResponse.safeParse(json);
      return {
        kind: "busy",
        retryAfterSeconds: parseRetryAfter(headers.get("retry-after")),
        reason:
          parsed.success && parsed.data.description ? parsed.data.description : "rate limited",
      };
    }
    // a 5xx is the host's own failure before it accepted anything; a 504 is a gateway that
    // stopped waiting for the host behind it, which may have started the job meanwhile
    if (status >= 500) {
      return {
        kind: "unavailable",
        reason: `HTTP ${status}`,
        ...(status === 504 ? {} : { nothingStarted: true }),
      };
    }
    // no such route (a host without retexture, say): nothing was started there
    if ((status === 404 || status === 405) && json === undefined) {
      return {
        kind: "rejected",
        code: status,
        reason: `the upstream has no /submit/${route} route`,
      };
    }
    if (status === 401 || status === 403) {
      return {
        kind: "unavailable",
        reason: `the upstream refused our credentials (HTTP ${status})`,
        nothingStarted: true,
      };
    }
    if (text.trim() === "") return { kind: "unavailable", reason: `empty answer (HTTP ${status})` };
    if (json === undefined)
      return { kind: "unavailable", reason: `answer is not JSON (HTTP ${status})` };

    const envelope = ErrorEnvelope.safeParse(json);
    if (envelope.success) {
      const reason = envelope.data.message ?? "refused";
      return isBusyText(reason)
        ? { kind: "busy", retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS, reason }
        : { kind: "rejected", code: -1, reason };
    }
    const parsed = SubmitResponse.safeParse(json);
    if (!parsed.success) {
      const gateway = GatewayError.safeParse(json);
      if (status >= 400 && gateway.success) {
        const reason = gateway.data.description.trim();
        if (isBusyText(reason)) {
          return { kind: "busy", retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS, reason };
        }
        return {
          kind: "rejected",
          code: gateway.data.code ?? 4,
          reason: gateway.data.description.trim(),
        };
      }
      return { kind: "unavailable", reason: `answer is not a submit result (HTTP ${status})` };
    }
    const { code, description, result } = parsed.data;
    if (code !== 1 && code !== 21 && code !== 22 && isBusyText(description)) {
      return {
        kind: "busy",
        retryAfterSeconds: parseRetryAfter(headers.get("retry-after")),
        reason: description,
      };
    }
    if (status >= 400)
      return { kind: "rejected", code, reason: description.trim() || `HTTP ${status}` };
    switch (code) {
      case 1:
      case 22:
        return result
          ? { kind: "accepted", upstreamTaskId: result }
          : { kind: "unavailable", reason: "accepted without a task id" };
      case 21:
        return result
          ? { kind: "modal", upstreamTaskId: result }
          : { kind: "unavailable", reason: "modal answer without a task id" };
      case 23:
        return {
          kind: "busy",
          retryAfterSeconds: parseRetryAfter(headers.get("retry-after")),
          reason: description || "queue full",
        };
      default:
        return { kind: "rejected", code, reason: description.trim() || `code ${code}` };
    }
  }

  async function withRetries<T>(what: string, attempt: () => Promise<T | "retry">): Promise<T> {
    let last = "";
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(Math.floor(random() * Math.min(retryCapMs, retryBaseMs * 2 ** i)));
      try {
        const result = await attempt();
        if (result !== "retry") return result;
        last = "retryable answer";
      } catch (error) {
        if (error instanceof UpstreamReadError) throw error;
        last = (error as { name?: string }).name === "TimeoutError" ? "timeout" : "network error";
      }
    }
    throw new UpstreamReadError(`${what} failed after ${attempts} attempts (${last})`);
  }

  async function fetchTask(
    upstreamTaskId: string,
    mode?: Speed | null,
  ): Promise<UpstreamTask | null> {
    return withRetries("fetch", async () => {
      const { status, text } = await call(
        "GET",
        `${basePath(mode)}/task/${encodeURIComponent(upstreamTaskId)}/fetch`,
      );
      if (status === 204 || status === 404) return null;
      if (status === 429 || status >= 500) return "retry";
      if (status === 400) {
        const gateway = GatewayError.safeParse(parseJson(text));
        if (gateway.success && /task_no(t)?_found/.test(gateway.data.description)) return null;
        throw new UpstreamReadError(`fetch answered HTTP 400`);
      }
      if (text.trim() === "" || text.trim() === "null") return null;
      const task = UpstreamTask.safeParse(parseJson(text));
      return task.success ? task.data : "retry";
    });
  }

  async function listByCondition(
    upstreamTaskIds: string[],
    mode?: Speed | null,
  ): Promise<UpstreamTask[]> {
    if (upstreamTaskIds.length === 0) return [];
    return withRetries("list-by-condition", async () => {
      const { status, text } = await call("POST", `${basePath(mode)}/task/list-by-condition`, {
        ids: upstreamTaskIds,
      });
      if (status === 429 || status >= 500) return "retry";
      const json = parseJson(text);
      if (status >= 400 || !Array.isArray(json)) return "retry";
      return json.flatMap((item) => {
        const task = UpstreamTask.safeParse(item);
        return task.success ? [task.data] : [];
      });
    });
  }

  async function imageSeed(upstreamTaskId: string, mode?: Speed | null): Promise<ImageSeedOutcome> {
    return withRetries("image-seed", async () => {
      const { status, text } = await call(
        "GET",
        `${basePath(mode)}/task/${encodeURIComponent(upstreamTaskId)}/image-seed`,
      );
      if (status === 429 || status >= 500) return "retry";
      const json = parseJson(text);
      const parsed = SubmitResponse.safeParse(json);
      if (status < 400 && parsed.success && parsed.data.code === 1 && parsed.data.result) {
        return { kind: "seed", seed: parsed.data.result };
      }
      if (status === 204 || status === 404 || status === 400 || parsed.success) {
        const gateway = GatewayError.safeParse(json);
        const reason = parsed.success
          ? parsed.data.description.trim()
          : gateway.success
            ? gateway.data.description.trim()
            : "";
        return { kind: "refused", reason: reason || `no seed (HTTP ${status})` };
      }
      throw new UpstreamReadError(`image-seed answered HTTP ${status}`);
    });
  }

  async function cancel(upstreamTaskId: string, mode?: Speed | null): Promise<CancelOutcome> {
    let answer: Awaited<ReturnType<typeof call>>;
    try {
      answer = await call(
        "POST",
        `${basePath(mode)}/task/${encodeURIComponent(upstreamTaskId)}/cancel`,
      );
    } catch (error) {
      const timedOut = (error as { name?: string }).name === "TimeoutError";
      return {
        kind: "failed",
        reason: timedOut ? `no answer within ${timeoutMs} ms` : "the upstream could not be reached",
      };
    }
    const { status, headers, text } = answer;
    if (status === 404 || status === 405) return { kind: "unsupported" };
    if (status >= 200 && status < 300) {
      // trueai answers an empty 200; new-api answers every unknown path with its web page (200)
      const isPage = /html/i.test(headers.get("content-type") ?? "") || /^\s*</.test(text);
      return isPage ? { kind: "unsupported" } : { kind: "cancelled" };
    }
    // trueai refuses in words (a JSON string: "演示模式，禁止操作" for a guest); gateways in JSON
    const json = parseJson(text);
    const gateway = GatewayError.safeParse(json);
    const words = gateway.success ? gateway.data.description : typeof json === "string" ? json : "";
    const said = words.trim() ? `: ${words.trim().slice(0, 200)}` : "";
    return { kind: "failed", reason: `HTTP ${status}${said}` };
  }

  return {
    submit,
    fetchTask,
    listByCondition,
    imageSeed,
    cancel,
    kind: hostKind,
    unsupported,
  };
}

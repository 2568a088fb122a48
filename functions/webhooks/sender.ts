import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { StringDecoder } from "node:string_decoder";
import type { AttemptResult } from "../core/dispatch.ts";
import { pinnedLookup, type Resolver } from "../images/source.ts";
import { checkWebhookUrl, resolveWebhookHost } from "./url-policy.ts";

export interface WebhookSenderOptions {
  /** The whole attempt (DNS, connect, response) must finish within this; default 10 s. */
  timeoutMs?: number;
  /** The local stack only: loopback and private receivers, and http to loopback, allowed. */
  allowPrivate: boolean;
  /** DNS resolution (all addresses); tests give their own. */
  resolve?: Resolver;
  /** Which addresses are refused when `allowPrivate` is off; tests narrow it. */
  isBlocked?: (address: string) => boolean;
  /** At most this much of the response body is kept (default 1024 bytes). */
  maxResponseBytes?: number;
  /**
   * How long the body may take once the status line and headers are in (default 1 s): the
   * status is the answer, the body only a note for the delivery log. A receiver that drips its
   * body is cut off here instead of holding a delivery slot until the whole-attempt deadline.
   */
  bodyTimeoutMs?: number;
  /** Certificates trusted instead of the public roots: tests only. */
  ca?: string;
}

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** One attempt's outcome: the dispatcher's port type (functions/core/dispatch.ts). */
export type { AttemptResult };

export interface WebhookSender {
  /** One delivery attempt; never throws, every failure is a result. */
  send(request: WebhookRequest): Promise<AttemptResult>;
}

type Answer = Omit<AttemptResult, "latencyMs">;

const failed = (error: string, statusCode: number | null = null): Answer => ({
  ok: false,
  statusCode,
  responseBody: null,
  error,
  retryAfterSeconds: null,
  gone: false,
});

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in whole seconds; else null. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  const text = value?.trim() ?? "";
  if (/^\d+$/.test(text)) return Number(text);
  const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** The first `limit` bytes as text, without a character cut in half. */
function decodePrefix(bytes: Buffer, limit: number): string | null {
  let text = new StringDecoder("utf8").write(bytes.subarray(0, limit));
  // invalid bytes decode to U+FFFD (3 bytes each): shorten until the text fits again
  while (Buffer.byteLength(text) > limit) text = text.slice(0, -1);
  return text === "" ? null : text;
}

/**
 * Reads at most `limit` bytes for at most `withinMs`, then drops the connection: a huge,
 * endless or dripping body is never waited for. A deadline or reset while reading keeps what
 * arrived (the status already came).
 */
async function readPrefix(
  response: IncomingMessage,
  limit: number,
  withinMs: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const cutOff = setTimeout(() => response.destroy(), withinMs);
  try {
    if (limit > 0) {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        size += chunk.byteLength;
        if (size >= limit) break;
      }
    }
  } catch {
    // the deadline, the body's own time limit or the receiver cut the body short
  } finally {
    clearTimeout(cutOff);
  }
  response.destroy();
  return Buffer.concat(chunks);
}

/** Node's TLS codes and OpenSSL's certificate verification codes. */
const TLS_ERROR =
  /TLS|SSL|CERT|LEAF_SIGNATURE|INVALID_CA|PATH_LENGTH|INVALID_PURPOSE|HOSTNAME_MISMATCH/;

function describeStatus(status: number): string | null {
  if (status >= 200 && status < 300) return null;
  if (status >= 300 && status < 400) {
    return `redirect: the receiver answered ${status} (redirects are not followed)`;
  }
  if (status === 410) return "gone: the receiver answered 410 (deliveries stop)";
  return `http_status: the receiver answered ${status}`;
}

/**
 * One Standard Webhooks delivery attempt, defensively: the URL policy first, every address the
 * host resolves to checked (unless private receivers are allowed), the connection pinned to the
 * checked addresses so a DNS answer cannot change between the check and the connect, no
 * redirects, a cap on the response kept (1 KB, read for at most 1 s after the headers), and one
 * deadline for all of it. It logs nothing: the
 * caller logs, and the headers carry signatures.
 */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxResponseBytes = options.maxResponseBytes ?? 1024;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 1000;

  function post(
    url: URL,
    pinned: { address: string; family: number }[],
    request: WebhookRequest,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const lookup = pinnedLookup(pinned as [{ address: string; family: number }]);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((ok, fail) => {
      const req = send(url, {
        method: "POST",
        lookup,
        agent: false,
        signal,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        headers: { ...request.headers, "content-length": Buffer.byteLength(request.body) },
      });
      req.once("response", ok);
      req.once("error", fail);
      req.end(request.body);
    });
  }

  async function attempt(request: WebhookRequest, signal: AbortSignal): Promise<Answer> {
    const refused = checkWebhookUrl(request.url, options);
    if (refused !== null) return failed(`bad_url: ${refused}`);
    const url = new URL(request.url);
    const host = await resolveWebhookHost(url, { ...options, signal });
    if (!host.ok) return failed(`${host.code}: ${host.reason}`);
    const response = await post(url, host.addresses, request, signal);
    const status = response.statusCode ?? 0;
    const retryAfterSeconds = parseRetryAfter(response.headers["retry-after"], Date.now());
    const body = await readPrefix(response, maxResponseBytes, bodyTimeoutMs);
    return {
      ok: status >= 200 && status < 300,
      statusCode: status,
      responseBody: decodePrefix(body, maxResponseBytes),
      error: describeStatus(status),
      retryAfterSeconds,
      gone: status === 410,
    };
  }

  return {
    async send(request) {
      const started = performance.now();
      const deadline = AbortSignal.timeout(timeoutMs);
      let answer: Answer;
      try {
        answer = await attempt(request, deadline);
      } catch (error) {
        const err = error as NodeJS.ErrnoException;
        if (deadline.aborted) {
          answer = failed(`timeout: no answer within ${timeoutMs} ms`);
        } else if (TLS_ERROR.test(err.code ?? "")) {
          answer = failed(`tls: ${err.code}: ${err.message}`);
        } else {
          answer = failed(`unreachable: ${err.code ?? err.name}: ${err.message}`);
        }
      }
      return { ...answer, latencyMs: Math.round(performance.now() - started) };
    },
  };
}

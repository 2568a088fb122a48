import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";

/** What the upstream client asks of an HTTP request: a small part of `fetch`'s options. */
export interface UpstreamRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** "error": a 3xx answer fails the request, as `fetch` does with this setting */
  redirect?: "error";
}

/** What it reads of the answer: a small part of `fetch`'s Response. */
export interface UpstreamResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** `fetch` fits this; so does {@link nodeTransport}. */
export type UpstreamTransport = (url: string, init: UpstreamRequest) => Promise<UpstreamResponse>;

function decode(body: Buffer, encoding: string | undefined): string {
  const name = (encoding ?? "").trim().toLowerCase();
  const raw =
    name === "gzip" || name === "x-gzip"
      ? gunzipSync(body)
      : name === "deflate"
        ? inflateSync(body)
        : name === "br"
          ? brotliDecompressSync(body)
          : body;
  // as fetch's text(): UTF-8, without a byte order mark
  const text = raw.toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * The upstream client's requests over `node:http`/`node:https` (Node's default agents, which
 * keep connections alive), in `fetch`'s shape. Why not `fetch`: its first call initialises
 * undici's client (its HTTP parser is WebAssembly, compiled on first use), which costs a cold
 * start tens of ms that this function's few requests do not need; the AWS SDK's transport has
 * loaded `node:http` already (bench/RESULTS.md, section 1). What the client relies on behaves as
 * with `fetch`: an abort rejects with the signal's reason (a `TimeoutError` for
 * `AbortSignal.timeout`), a socket error keeps its `code` (ECONNREFUSED, ENOTFOUND, ...),
 * `redirect: "error"` fails on a 3xx, and a compressed body is decoded.
 */
export const nodeTransport: UpstreamTransport = (url, init) =>
  new Promise((resolve, reject) => {
    const { signal } = init;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const target = new URL(url);
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { ...init.headers };
    if (init.body !== undefined) headers["content-length"] = String(Buffer.byteLength(init.body));
    const request = send(target, { method: init.method, headers });
    const onAbort = () => request.destroy(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => signal?.removeEventListener("abort", onAbort);
    request.once("error", (error) => {
      done();
      reject(error);
    });
    request.once("response", (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      if (init.redirect === "error" && status >= 300 && status < 400) {
        response.resume();
        done();
        reject(new TypeError("fetch failed", { cause: new Error("unexpected redirect") }));
        return;
      }
      const chunks: Buffer[] = [];
      const text = new Promise<string>((ok, fail) => {
        const failed = (error: unknown) => {
          done();
          fail(signal?.aborted ? signal.reason : error);
        };
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.once("error", failed);
        // closed before its end (the socket cut mid-body): no whole text to give
        response.once("close", () => {
          if (!response.complete) failed(new TypeError("terminated"));
        });
        response.once("end", () => {
          done();
          try {
            ok(decode(Buffer.concat(chunks), response.headers["content-encoding"]));
          } catch (error) {
            fail(error);
          }
        });
      });
      // read now, so the socket is freed whether or not the caller asks for the text
      text.catch(() => {});
      resolve({
        status,
        headers: {
          get(name: string) {
            const value = response.headers[name.toLowerCase()];
            return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
          },
        },
        text: () => text,
      });
    });
    request.end(init.body);
  });

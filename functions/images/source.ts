import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { ImageCopyError } from "../core/images.ts";
import type { ImageSource, SourceFile } from "../core/ports.ts";
import { isPrivateAddress } from "./address-policy.ts";

export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface ImageSourceOptions {
  /** Larger files fail with `too_large` (checked on Content-Length and while reading). */
  maxBytes: number;
  /** The whole download, redirects included, must finish within this. */
  timeoutMs: number;
  /**
   * Allow loopback and private addresses (the local stack, whose simulator is on 127.0.0.1).
   * Off on AWS: every address a host resolves to is checked, and the connection is pinned to
   * the checked address, so a DNS answer cannot change between the check and the connect.
   */
  allowPrivate: boolean;
  /** Redirects followed, each hop checked again. */
  maxRedirects?: number;
  /** DNS resolution (all addresses); tests give their own. */
  resolve?: Resolver;
  /** Which addresses are refused when `allowPrivate` is off; tests narrow it. */
  isBlocked?: (address: string) => boolean;
}

/**
 * The system's resolver, loaded on the first lookup: node:dns is ~0.6 ms of a cold start, and
 * most of a function's requests resolve nothing.
 */
const systemResolve: Resolver = async (hostname) => {
  const { lookup } = await import("node:dns/promises");
  return lookup(hostname, { all: true, verbatim: true });
};

/**
 * A DNS lookup that answers only `pinned` (addresses already checked): a connection made with
 * it goes where the check said, whatever DNS would answer a moment later (no rebinding).
 */
export function pinnedLookup(
  pinned: readonly [{ address: string; family: number }, ...{ address: string; family: number }[]],
): LookupFunction {
  return (_hostname, opts, callback) => {
    if ((opts as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: typeof pinned) => void)(null, pinned);
    } else {
      callback(null, pinned[0].address, pinned[0].family);
    }
  };
}

/** `promise`, or a rejection as soon as `signal` aborts (DNS lookups take no signal). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((ok, fail) => {
    const onAbort = () => fail(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(ok, fail).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The type an image or video file's first bytes show, or null. */
export function sniffContentType(bytes: Uint8Array): string | null {
  const at = (i: number) => bytes[i] ?? -1;
  const ascii = (from: number, to: number) =>
    Buffer.from(bytes.subarray(from, to)).toString("latin1");
  if (at(0) === 0x89 && ascii(1, 4) === "PNG" && at(4) === 0x0d && at(5) === 0x0a) {
    return "image/png";
  }
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return "image/jpeg";
  if (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a") return "image/gif";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  if (ascii(4, 8) === "ftyp") return "video/mp4";
  if (at(0) === 0x1a && at(1) === 0x45 && at(2) === 0xdf && at(3) === 0xa3) return "video/webm";
  return null;
}

/** Declared types a source may send for each kind (some CDNs only say octet-stream). */
function acceptsDeclared(declared: string, expect: "image" | "video"): boolean {
  if (declared === "" || declared === "application/octet-stream") return true;
  if (declared === "binary/octet-stream") return true;
  return declared.startsWith(`${expect}/`);
}

/**
 * Downloads upstream results for the copier, defensively: http(s) only, no credentials in
 * the URL, every resolved address checked (unless private sources are allowed), redirects
 * followed by hand and checked again, a size cap, one deadline for the whole download, and the
 * declared Content-Type and the magic bytes must both say image (or video). Every failure is
 * an ImageCopyError with a stable code.
 */
export function createImageSource(options: ImageSourceOptions): ImageSource {
  const resolve = options.resolve ?? systemResolve;
  const isBlocked = options.isBlocked ?? isPrivateAddress;
  const maxRedirects = options.maxRedirects ?? 3;

  /** The address to connect to for `url`, after checking every address the host has. */
  async function addressFor(
    url: URL,
    signal: AbortSignal,
  ): Promise<{ address: string; family: number }> {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const literal = isIP(host);
    const addresses = literal
      ? [{ address: host, family: literal }]
      : await untilAborted(resolve(host), signal).catch((error: Error) => {
          if (signal.aborted) throw error;
          throw new ImageCopyError("unreachable", `cannot resolve ${host}: ${error.message}`);
        });
    const first = addresses[0];
    if (!first) throw new ImageCopyError("unreachable", `${host} has no address`);
    if (!options.allowPrivate) {
      const blocked = addresses.find((a) => isBlocked(a.address));
      if (blocked) {
        throw new ImageCopyError(
          "blocked_address",
          `${host} resolves to ${blocked.address}, a private, loopback or link-local address`,
        );
      }
    }
    return first;
  }

  function get(url: URL, pinned: { address: string; family: number }, signal: AbortSignal) {
    // the connection goes to the address that was checked, whatever DNS says a moment later
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((ok, fail) => {
      const req = send(url, {
        method: "GET",
        lookup: pinnedLookup([pinned]),
        agent: false,
        signal,
        headers: {
          accept: "image/*, video/*;q=0.9, */*;q=0.1",
          "accept-encoding": "identity",
          "user-agent": "paperboat-image-copier",
        },
      });
      req.once("response", ok);
      req.once("error", fail);
      req.end();
    });
  }

  async function readBody(response: IncomingMessage, limit: number): Promise<Uint8Array> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > limit) {
        response.destroy();
        throw new ImageCopyError("too_large", `the file is larger than ${limit} bytes`);
      }
      chunks.push(chunk);
    }
    return new Uint8Array(Buffer.concat(chunks));
  }

  async function download(start: string, expect: "image" | "video", signal: AbortSignal) {
    let url: URL;
    try {
      url = new URL(start);
    } catch {
      throw new ImageCopyError("bad_url", "not a URL");
    }
    for (let hop = 0; ; hop++) {
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new ImageCopyError("bad_url", `${url.protocol} URLs are not fetched`);
      }
      if (url.username || url.password) {
        throw new ImageCopyError("bad_url", "URLs with credentials are not fetched");
      }
      const response = await get(url, await addressFor(url, signal), signal);
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        if (hop >= maxRedirects) {
          throw new ImageCopyError("too_many_redirects", `more than ${maxRedirects} redirects`);
        }
        url = new URL(response.headers.location, url);
        continue;
      }
      if (status !== 200) {
        response.resume();
        throw new ImageCopyError("bad_status", `the source answered HTTP ${status}`);
      }
      const declared = (response.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
      if (!acceptsDeclared(declared.toLowerCase(), expect)) {
        response.destroy();
        throw new ImageCopyError(
          "not_an_image",
          `the source sent ${declared}, not ${expect === "image" ? "an image" : "a video"}`,
        );
      }
      const length = Number(response.headers["content-length"] ?? Number.NaN);
      if (length > options.maxBytes) {
        response.destroy();
        throw new ImageCopyError(
          "too_large",
          `the file is ${length} bytes, more than ${options.maxBytes}`,
        );
      }
      const bytes = await readBody(response, options.maxBytes);
      const sniffed = sniffContentType(bytes);
      if (!sniffed?.startsWith(`${expect}/`)) {
        throw new ImageCopyError(
          "not_an_image",
          `the file's bytes are not ${expect === "image" ? "a PNG, JPEG, GIF or WebP image" : "an MP4 or WebM video"}`,
        );
      }
      return { bytes, contentType: sniffed } satisfies SourceFile;
    }
  }

  return {
    async fetch(url, expect) {
      const deadline = AbortSignal.timeout(options.timeoutMs);
      try {
        return await download(url, expect, deadline);
      } catch (error) {
        if (deadline.aborted) {
          throw new ImageCopyError("timeout", `no complete file within ${options.timeoutMs} ms`, {
            cause: error,
          });
        }
        if (error instanceof ImageCopyError) throw error;
        const err = error as NodeJS.ErrnoException;
        throw new ImageCopyError("unreachable", `${err.code ?? err.name}: ${err.message}`, {
          cause: error,
        });
      }
    },
  };
}

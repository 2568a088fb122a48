import { isIP } from "node:net";
import { isPrivateAddress } from "../images/address-policy.ts";
import { type Resolver, untilAborted } from "../images/source.ts";

/**
 * Where a client may ask us to POST. On AWS a webhook URL is an SSRF vector into the VPC and
 * the instance metadata endpoint, so only https to public addresses is accepted; the local
 * stack (`allowPrivate`) may also use http to loopback receivers.
 */

export type { Resolver };

export const MAX_WEBHOOK_URL_LENGTH = 2000;

/**
 * The system's resolver, loaded on the first lookup: node:dns is ~0.6 ms of a cold start, and
 * most of a function's requests resolve nothing.
 */
const systemResolve: Resolver = async (hostname) => {
  const { lookup } = await import("node:dns/promises");
  return lookup(hostname, { all: true, verbatim: true });
};

/** A URL's host without IPv6 brackets or the trailing root dot. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "");
}

function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  const family = isIP(host);
  if (family === 4) return host.startsWith("127.");
  return family === 6 && host === "::1";
}

/** Null when `raw` is an acceptable webhook URL, else why not (for a 400 at submit time). */
export function checkWebhookUrl(raw: string, options: { allowPrivate: boolean }): string | null {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    return `the webhook URL is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "the webhook URL is not a URL";
  }
  if (url.username || url.password) return "the webhook URL may not contain credentials";
  const host = bareHost(url);
  if (url.protocol === "http:") {
    if (!options.allowPrivate || !isLoopbackHost(host)) return "the webhook URL must use https";
  } else if (url.protocol !== "https:") {
    return "the webhook URL must use https";
  }
  if (options.allowPrivate) return null;
  if (host === "localhost" || host.endsWith(".localhost")) {
    return "the webhook URL may not point at localhost";
  }
  if (isIP(host) && isPrivateAddress(host)) {
    return `the webhook URL's host ${host} is a private, loopback or link-local address`;
  }
  return null;
}

export type HostCheck =
  | { ok: true; addresses: { address: string; family: number }[] }
  | { ok: false; code: "blocked_address" | "unreachable"; reason: string };

/**
 * Every address `url`'s host has (an IP literal is its own), refused as a whole when any of
 * them is blocked: a name with one private address among public ones could be dialled to it.
 * Rejects with `signal.reason` when the signal aborts first.
 */
export async function resolveWebhookHost(
  url: URL,
  options: {
    allowPrivate: boolean;
    signal: AbortSignal;
    resolve?: Resolver;
    isBlocked?: (address: string) => boolean;
  },
): Promise<HostCheck> {
  const host = bareHost(url);
  const literal = isIP(host);
  let addresses: { address: string; family: number }[];
  try {
    addresses = literal
      ? [{ address: host, family: literal }]
      : await untilAborted((options.resolve ?? systemResolve)(host), options.signal);
  } catch (error) {
    if (options.signal.aborted) throw error;
    const reason = `cannot resolve ${host}: ${(error as Error).message}`;
    return { ok: false, code: "unreachable", reason };
  }
  if (addresses.length === 0) {
    return { ok: false, code: "unreachable", reason: `${host} has no address` };
  }
  if (!options.allowPrivate) {
    const isBlocked = options.isBlocked ?? isPrivateAddress;
    const blocked = addresses.find((a) => isBlocked(a.address));
    if (blocked) {
      const reason = `${host} resolves to ${blocked.address}, a private, loopback or link-local address`;
      return { ok: false, code: "blocked_address", reason };
    }
  }
  return { ok: true, addresses };
}

/**
 * The submit-time DNS check on AWS: a reason when any address of the host is blocked. A host
 * that does not resolve (or not within `timeoutMs`) is accepted, because every delivery checks
 * again and failed deliveries are retried.
 */
export async function checkWebhookHost(
  url: string,
  options: {
    allowPrivate: boolean;
    resolve?: Resolver;
    isBlocked?: (address: string) => boolean;
    timeoutMs?: number;
  },
): Promise<string | null> {
  const refused = checkWebhookUrl(url, options);
  if (refused !== null) return refused;
  if (options.allowPrivate) return null;
  const signal = AbortSignal.timeout(options.timeoutMs ?? 2000);
  const check = await resolveWebhookHost(new URL(url), { ...options, signal }).catch(() => null);
  return check && !check.ok && check.code === "blocked_address" ? check.reason : null;
}

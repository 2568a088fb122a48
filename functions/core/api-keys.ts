import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { ApiKeyView, CreateKeyBody } from "../contract/admin.ts";
import { NotFoundError } from "./errors.ts";
import type { Clock, Logger } from "./ports.ts";

/** Owners' and keys' wire shapes live in the contract (functions/contract/admin.ts). */
export { ApiKeyView, KeyId, KeyName, OwnerName } from "../contract/admin.ts";

/** What the store keeps: the view plus the key's full SHA-256 (hex). */
export type StoredApiKey = ApiKeyView & { hash: string };

/** Storage of table keys (functions/store/api-key-store.ts), named after access patterns. */
export interface ApiKeyStore {
  /** Records a new key; false if its id is taken (then the caller draws another key). */
  create(key: StoredApiKey): Promise<boolean>;
  /** One read: the key whose id this is, or null. */
  get(id: string): Promise<StoredApiKey | null>;
  /** Every key of an owner, or of all owners, oldest first per owner. */
  list(owner?: string): Promise<ApiKeyView[]>;
  /** Revokes the key for good (it is no longer read or listed); false if there was none. */
  revoke(id: string, at: Date): Promise<boolean>;
  /**
   * Sets lastUsedAt to `at` only if the key still exists and its lastUsedAt is older than
   * `staleBefore` (or unset): at most one write per key per interval across all containers,
   * and never on a revoked key.
   */
  touch(id: string, at: Date, staleBefore: Date): Promise<boolean>;
}

/** How long a warm container trusts what it learnt of a table key (bounds revocation). */
export const KEY_CACHE_SECONDS = 30;
/** lastUsedAt is written at most once per key per this interval. */
export const LAST_USED_INTERVAL_SECONDS = 60;
/** Entries kept per container; the oldest go first (random keys cannot exhaust memory). */
const KEY_CACHE_MAX_ENTRIES = 10_000;

export const sha256Hex = (value: string) => createHash("sha256").update(value).digest("hex");

/**
 * A key's id is derived from the key: `key_` + the first 24 hex digits of its SHA-256. So the
 * table item of a presented key is found with one GetItem and no index, and whoever holds a key
 * can tell which id it has; 96 bits of a hash reveal nothing of a 256-bit random key.
 */
export const keyIdOf = (hash: string) => `key_${hash.slice(0, 24)}`;

export interface ApiKeyAdminDeps {
  keys: ApiKeyStore;
  clock: Clock;
}

/**
 * Creates a key for `owner`. The answer is the only place the key ever appears: the table
 * keeps its SHA-256 only.
 */
export async function createApiKey(
  deps: ApiKeyAdminDeps,
  input: CreateKeyBody,
): Promise<ApiKeyView & { key: string }> {
  for (;;) {
    const key = `pb_${randomBytes(32).toString("base64url")}`;
    const hash = sha256Hex(key);
    const record: StoredApiKey = {
      id: keyIdOf(hash),
      owner: input.owner,
      name: input.name ?? null,
      createdAt: deps.clock.now().toISOString(),
      lastUsedAt: null,
      hash,
    };
    // a taken id (two keys sharing 96 bits of hash) is next to impossible: draw again
    if (await deps.keys.create(record)) {
      const { hash: _, ...view } = record;
      return { ...view, key };
    }
  }
}

export async function listApiKeys(deps: ApiKeyAdminDeps, owner?: string): Promise<ApiKeyView[]> {
  return deps.keys.list(owner);
}

/** Revokes a key (404 if unknown). Warm containers may accept it for KEY_CACHE_SECONDS more. */
export async function revokeApiKey(deps: ApiKeyAdminDeps, id: string): Promise<void> {
  if (!(await deps.keys.revoke(id, deps.clock.now()))) throw new NotFoundError("No such key.");
}

/** Who a presented key belongs to; `settled` is the lastUsedAt write it started, if any. */
export interface Authenticated {
  owner: string;
  settled: Promise<void> | null;
}

export type Authenticate = (presented: string) => Promise<Authenticated | null>;

interface CacheEntry {
  /** null: no such key (a negative entry). */
  owner: string | null;
  expiresAt: number;
  /** When lastUsedAt was last written or read, as far as this container knows (ms). */
  lastUsedAt: number;
}

/**
 * Authentication of API keys: the bootstrap API_KEYS first (in memory, constant-time), then
 * the table. What the table says of a key (its owner, or that there is none) is kept for
 * KEY_CACHE_SECONDS per container: a cached key costs no request, a miss one GetItem, and a
 * revoked key is refused by every warm container within KEY_CACHE_SECONDS.
 *
 * lastUsedAt is written when this container last saw it written more than
 * LAST_USED_INTERVAL_SECONDS ago, by a conditional UpdateItem that other containers' writes
 * within the interval make fail: at most one write per key per interval overall. The write runs
 * beside the request (`settled`), and its failure only is logged.
 */
export function createAuthenticator(deps: {
  bootstrap: readonly { owner: string; key: string }[];
  keys: ApiKeyStore | null;
  clock: Clock;
  log: Logger;
}): Authenticate {
  const known = deps.bootstrap.map(({ owner, key }) => ({
    owner,
    hash: Buffer.from(sha256Hex(key), "hex"),
  }));
  const cache = new Map<string, CacheEntry>();
  const pending = new Map<string, Promise<CacheEntry>>();

  async function lookUp(
    id: string,
    bytes: Buffer,
    now: number,
    previous: CacheEntry | undefined,
  ): Promise<CacheEntry> {
    const stored = await (deps.keys as ApiKeyStore).get(id);
    const matches = stored !== null && timingSafeEqual(Buffer.from(stored.hash, "hex"), bytes);
    const entry: CacheEntry = {
      owner: matches ? stored.owner : null,
      expiresAt: now + KEY_CACHE_SECONDS * 1000,
      lastUsedAt: Math.max(
        previous?.lastUsedAt ?? 0,
        matches && stored.lastUsedAt ? Date.parse(stored.lastUsedAt) : 0,
      ),
    };
    remember(bytes.toString("hex"), entry);
    return entry;
  }

  function remember(hash: string, entry: CacheEntry) {
    cache.delete(hash);
    cache.set(hash, entry);
    if (cache.size > KEY_CACHE_MAX_ENTRIES) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
  }

  function touch(id: string, entry: CacheEntry, now: number): Promise<void> | null {
    const interval = LAST_USED_INTERVAL_SECONDS * 1000;
    if (!deps.keys || now - entry.lastUsedAt < interval) return null;
    // set before the write, so this container's concurrent requests start no second one
    entry.lastUsedAt = now;
    return deps.keys.touch(id, new Date(now), new Date(now - interval)).then(
      () => undefined,
      (error: Error) =>
        deps.log.warn("key lastUsedAt not written", { keyId: id, error: error.name }),
    );
  }

  return async (presented) => {
    const hash = sha256Hex(presented);
    const bytes = Buffer.from(hash, "hex");
    let owner: string | null = null;
    for (const entry of known) {
      if (timingSafeEqual(entry.hash, bytes) && owner === null) owner = entry.owner;
    }
    if (owner !== null) return { owner, settled: null };
    if (!deps.keys) return null;

    const now = deps.clock.now().getTime();
    const id = keyIdOf(hash);
    let entry = cache.get(hash);
    if (!entry || entry.expiresAt <= now) {
      // one read per key however many requests miss at once
      let lookup = pending.get(hash);
      if (!lookup) {
        const previous = entry;
        lookup = lookUp(id, bytes, now, previous).finally(() => pending.delete(hash));
        pending.set(hash, lookup);
      }
      entry = await lookup;
    }
    if (entry.owner === null) return null;
    return { owner: entry.owner, settled: touch(id, entry, now) };
  };
}

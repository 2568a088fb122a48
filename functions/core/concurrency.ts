/** Runs `work` over `items`, at most `limit` at a time (one slow item holds up only its lane). */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
}

/** Caps on work in flight at once (the dispatcher's attempts within one run). */
export interface FairLimits {
  /** All owners and hosts together. */
  total: number;
  /** One owner's items. */
  perOwner: number;
  /** Items for one receiver host (`host:port`); items without a host count only above. */
  perHost: number;
  /** Items read ahead while the caps hold the ones read so far (bounds a run's memory). */
  maxWaiting: number;
}

/** Whose an item is and where it goes. */
export interface FairKey {
  owner: string;
  host: string | null;
}

/**
 * Runs work over items read page by page, fairly: at most `total` at once, `perOwner` per owner
 * and `perHost` per host. An item whose owner or host is at its cap waits while later items of
 * others start, and more pages are read while slots are free and nothing read can use them, so
 * one owner's slow receiver holds its own slots and never the others'. Items keep their listing
 * order among themselves.
 *
 * `skip` is asked before each start: true leaves the item undone, counted in `deferred` (the
 * caller's reason: its host timed out in this run, the run's time is up).
 */
export async function runFairly<T>(options: {
  next: () => Promise<T[] | null>;
  keyOf: (item: T) => FairKey;
  work: (item: T) => Promise<void>;
  limits: FairLimits;
  skip: (key: FairKey) => boolean;
}): Promise<{ deferred: number }> {
  const { limits } = options;
  const waiting: { item: T; key: FairKey }[] = [];
  const inFlight = new Set<Promise<void>>();
  const byOwner = new Map<string, number>();
  const byHost = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string | null, by: number) => {
    if (key !== null) map.set(key, (map.get(key) ?? 0) + by);
  };
  const fits = ({ owner, host }: FairKey) =>
    (byOwner.get(owner) ?? 0) < limits.perOwner &&
    (host === null || (byHost.get(host) ?? 0) < limits.perHost);
  let deferred = 0;

  function start() {
    for (let i = 0; i < waiting.length && inFlight.size < limits.total; ) {
      const { item, key } = waiting[i] as { item: T; key: FairKey };
      if (options.skip(key)) {
        waiting.splice(i, 1);
        deferred++;
      } else if (!fits(key)) {
        i++;
      } else {
        waiting.splice(i, 1);
        bump(byOwner, key.owner, 1);
        bump(byHost, key.host, 1);
        const running: Promise<void> = options
          .work(item)
          .catch(() => {})
          .finally(() => {
            bump(byOwner, key.owner, -1);
            bump(byHost, key.host, -1);
            inFlight.delete(running);
          });
        inFlight.add(running);
      }
    }
  }

  let more = true;
  for (;;) {
    start();
    if (more && inFlight.size < limits.total && waiting.length < limits.maxWaiting) {
      const page = await options.next();
      if (page === null) more = false;
      else for (const item of page) waiting.push({ item, key: options.keyOf(item) });
      continue;
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight);
  }
  // nothing runs, so every cap had room and start() took or skipped every item read
  return { deferred };
}

import { describe, expect, it } from "vitest";
import { type FairKey, type FairLimits, runFairly } from "../../functions/core/concurrency.ts";

/**
 * The dispatcher's fair scheduler on its own: work items whose completion the test controls,
 * so what runs at once is observed at each step, with no clock involved.
 */

interface Item extends FairKey {
  id: string;
}

const LIMITS: FairLimits = { total: 8, perOwner: 4, perHost: 2, maxWaiting: 500 };

/** Runs `pages` fairly; every started item stays in flight until the test finishes it. */
function harness(pages: Item[][], options: { skip?: (key: FairKey) => boolean } = {}) {
  const started: string[] = [];
  const running = new Map<string, () => void>();
  let reads = 0;
  let maxTotal = 0;
  const maxByHost = new Map<string, number>();
  const maxByOwner = new Map<string, number>();
  const count = (by: (item: Item) => string | null) => {
    const counts = new Map<string, number>();
    for (const id of running.keys()) {
      const item = pages.flat().find((i) => i.id === id) as Item;
      const key = by(item);
      if (key !== null) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  };
  const done = runFairly<Item>({
    next: async () => pages[reads++] ?? null,
    keyOf: (item) => ({ owner: item.owner, host: item.host }),
    work: (item) =>
      new Promise<void>((finish) => {
        started.push(item.id);
        running.set(item.id, () => {
          running.delete(item.id);
          finish();
        });
        maxTotal = Math.max(maxTotal, running.size);
        for (const [k, n] of count((i) => i.host))
          maxByHost.set(k, Math.max(n, maxByHost.get(k) ?? 0));
        for (const [k, n] of count((i) => i.owner))
          maxByOwner.set(k, Math.max(n, maxByOwner.get(k) ?? 0));
      }),
    limits: LIMITS,
    skip: options.skip ?? (() => false),
  });
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return {
    started,
    running,
    done,
    reads: () => reads,
    max: () => ({ total: maxTotal, byHost: maxByHost, byOwner: maxByOwner }),
    settle,
    /** Finishes everything in flight, again and again, until the run ends. */
    async drain() {
      let ended = false;
      void done.then(() => {
        ended = true;
      });
      while (!ended) {
        for (const finish of [...running.values()]) finish();
        await settle();
      }
      return done;
    },
  };
}

const items = (owner: string, host: string | null, n: number, from = 0): Item[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${owner}${from + i}`, owner, host }));

describe("runFairly", () => {
  it("starts another owner's item at once while one owner's host is at its share", async () => {
    const run = harness([[...items("a", "slow:443", 24), ...items("b", "fast:443", 1)]]);
    await run.settle();
    // a's host took its 2 slots; b went ahead of a's 22 others
    expect(run.started).toEqual(["a0", "a1", "b0"]);
    await run.drain();
    expect(run.started).toHaveLength(25);
    expect(run.max().byHost.get("slow:443")).toBe(2);
  });

  it("caps one owner at 4 over several hosts, and everything at 8", async () => {
    const pages = [
      [
        ...items("a", "h1", 5),
        ...items("a", "h2", 5, 5),
        ...items("a", "h3", 5, 10),
        ...["b", "c", "d", "e"].flatMap((o) => items(o, `${o}-host`, 3)),
      ],
    ];
    const run = harness(pages);
    await run.settle();
    expect(run.running.size).toBe(8);
    expect(run.started.filter((id) => id.startsWith("a"))).toHaveLength(4);
    await run.drain();
    const { total, byHost, byOwner } = run.max();
    expect(total).toBe(8);
    expect(Math.max(...byHost.values())).toBe(2);
    expect(Math.max(...byOwner.values())).toBe(4);
  });

  it("reads the next page while the items read so far cannot use the free slots", async () => {
    const run = harness([
      items("a", "slow", 25),
      items("a", "slow", 25, 25),
      items("b", "fast", 1),
    ]);
    await run.settle();
    expect(run.reads()).toBe(4); // three pages and the end
    expect(run.started).toEqual(["a0", "a1", "b0"]);
    await run.drain();
  });

  it("keeps the listing order of one owner's items to one host", async () => {
    const run = harness([items("a", "h", 10)]);
    await run.drain();
    expect(run.started).toEqual(items("a", "h", 10).map((i) => i.id));
  });

  it("leaves skipped items undone and counts them as deferred", async () => {
    const timedOut = new Set(["slow"]);
    const run = harness([[...items("a", "slow", 5), ...items("b", "fast", 2)]], {
      skip: (key) => key.host !== null && timedOut.has(key.host),
    });
    const result = await run.drain();
    expect(run.started).toEqual(["b0", "b1"]);
    expect(result).toEqual({ deferred: 5 });
  });

  it("counts items without a host against their owner and the total only", async () => {
    const run = harness([items("a", null, 6)]);
    await run.settle();
    expect(run.running.size).toBe(4);
    await run.drain();
  });
});

/** A seeded pseudo-random source: every simulator decision goes through one so runs replay. */
export interface Rng {
  /** a float in [0, 1) */
  next(): number;
}

/** mulberry32: tiny, fast and good enough for fault dice; not for anything secret. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/**
 * Derives an independent stream from a seed and a stream number, so a task's dice do not depend
 * on how its timers interleave with other tasks'.
 */
export function deriveSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function chance(rng: Rng, probability: number): boolean {
  return probability > 0 && rng.next() < probability;
}

/** an integer in [0, max) */
export function randomInt(rng: Rng, max: number): number {
  return Math.floor(rng.next() * max);
}

export function pick<T>(rng: Rng, items: readonly T[]): T | undefined {
  return items[randomInt(rng, items.length)];
}

/** Fisher-Yates; never returns the input order when there are two or more items. */
export function shuffle<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  if (out.length > 1 && out.every((item, i) => item === items[i])) out.reverse();
  return out;
}

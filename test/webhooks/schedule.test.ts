import { describe, expect, it } from "vitest";
import {
  MAX_ATTEMPTS,
  nextAttemptDelaySeconds,
  RETRY_SCHEDULE_SECONDS,
} from "../../functions/webhooks/schedule.ts";

const DAY = 24 * 60 * 60;
const retries = RETRY_SCHEDULE_SECONDS.map((base, i) => [i + 1, base] as const);

describe("the retry schedule", () => {
  it("keeps trying for at least 24 hours, even with no jitter at all", () => {
    let total = 0;
    for (let failed = 1; failed < MAX_ATTEMPTS; failed++) {
      total += nextAttemptDelaySeconds(failed, { random: () => 0 }) ?? Number.NaN;
    }
    expect(total).toBeGreaterThanOrEqual(DAY);
    expect(MAX_ATTEMPTS).toBe(RETRY_SCHEDULE_SECONDS.length + 1);
  });

  it("backs off: each delay longer than the one before, until the cap", () => {
    const cap = Math.max(...RETRY_SCHEDULE_SECONDS);
    for (let i = 1; i < RETRY_SCHEDULE_SECONDS.length; i++) {
      const [before = 0, delay = 0] = RETRY_SCHEDULE_SECONDS.slice(i - 1, i + 1);
      if (before < cap) expect(delay).toBeGreaterThan(before);
      else expect(delay).toBe(cap);
    }
    expect(RETRY_SCHEDULE_SECONDS[0]).toBeLessThanOrEqual(30);
  });

  it.each(retries)("after %i failed attempts waits %i s plus at most 20%% jitter", (n, base) => {
    expect(nextAttemptDelaySeconds(n, { random: () => 0 })).toBe(base);
    const most = nextAttemptDelaySeconds(n, { random: () => 0.999 }) ?? 0;
    expect(most).toBeGreaterThan(base);
    expect(most).toBeLessThanOrEqual(base * 1.2);
  });

  it("has no attempt left after the last one", () => {
    expect(nextAttemptDelaySeconds(MAX_ATTEMPTS, {})).toBeNull();
    expect(nextAttemptDelaySeconds(MAX_ATTEMPTS + 5, { retryAfterSeconds: 60 })).toBeNull();
  });

  it("refuses a count of attempts that makes no sense", () => {
    expect(() => nextAttemptDelaySeconds(0, {})).toThrow(RangeError);
    expect(() => nextAttemptDelaySeconds(1.5, {})).toThrow(RangeError);
  });
});

describe("Retry-After", () => {
  it.each([
    ["a longer Retry-After wins", 1, 120, 120],
    ["a shorter Retry-After does not shorten the backoff", 5, 60, 810],
    ["Retry-After is capped at 24 hours", 2, 7 * DAY, DAY],
    ["no Retry-After", 3, null, 90],
  ])("%s", (_what, failed, retryAfterSeconds, delay) => {
    expect(nextAttemptDelaySeconds(failed, { random: () => 0, retryAfterSeconds })).toBe(delay);
  });
});

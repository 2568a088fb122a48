/**
 * When a failed delivery is tried again. Exponential backoff (10 s × 3^n, capped at 8 h) keeps
 * a receiver that is down for a deploy from being hammered, and the sum of the delays (≈ 25 h)
 * keeps trying through a whole day's outage, as Standard Webhooks senders are expected to.
 */

/** Delays before retry 1, 2, ... in seconds, before jitter. */
export const RETRY_SCHEDULE_SECONDS: readonly number[] = [
  10, 30, 90, 270, 810, 2430, 7290, 21870, 28800, 28800,
];

/** The first attempt and one per scheduled retry. */
export const MAX_ATTEMPTS = 1 + RETRY_SCHEDULE_SECONDS.length;

/** The longest Retry-After honoured: a receiver cannot park a delivery for longer. */
export const MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60;

/** How much jitter may add to a delay (never subtract, so the schedule still spans 24 h). */
const JITTER = 0.2;

/**
 * Seconds to wait before the next attempt, after `failedAttempts` attempts have failed; null
 * when none is left. Jitter spreads retries of deliveries that failed together (one receiver's
 * outage); a larger Retry-After from the receiver wins, up to 24 h.
 */
export function nextAttemptDelaySeconds(
  failedAttempts: number,
  options: { random?: () => number; retryAfterSeconds?: number | null } = {},
): number | null {
  if (!Number.isSafeInteger(failedAttempts) || failedAttempts < 1) {
    throw new RangeError("failedAttempts counts the attempts made, at least 1");
  }
  const base = RETRY_SCHEDULE_SECONDS[failedAttempts - 1];
  if (base === undefined) return null;
  const random = options.random ?? Math.random;
  const jittered = Math.floor(base * (1 + JITTER * random()));
  const asked = Math.min(options.retryAfterSeconds ?? 0, MAX_RETRY_AFTER_SECONDS);
  return Math.max(jittered, asked);
}

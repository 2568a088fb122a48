import type { LimitsBody, OwnerLimits } from "../contract/admin.ts";
import type { UsageAnswer, UsageQuery } from "../contract/read.ts";
import { ValidationError } from "./errors.ts";

/**
 * An owner's limits (docs/operating.md): tasks unfinished at once, and jobs started per UTC day
 * (null: no limit); the usage counters. Their wire shapes live in functions/contract/.
 */
export type { OwnerLimits } from "../contract/admin.ts";

/** One owner's counters of one UTC day: jobs by action, by mode, and failures. */
export type UsageDay = UsageAnswer["days"][number];

export type Usage = UsageAnswer;

/** Owners' limits and usage counters. Implemented in functions/store/quota-store.ts. */
export interface QuotaStore {
  /**
   * Sets the given limits (undefined: kept, null: removed) with one write, returning them all.
   * The counters the limits are checked against live on the same item and are kept.
   */
  setLimits(owner: string, limits: LimitsBody): Promise<OwnerLimits>;
  /** The owner's days from `from` to `to` (YYYY-MM-DD, inclusive) that have counters: one Query. */
  usageDays(owner: string, from: string, to: string): Promise<UsageDay[]>;
}

/** The longest range one usage request may ask for. */
export const MAX_USAGE_DAYS = 366;

const DAY_MS = 24 * 60 * 60 * 1000;

/** The UTC date (YYYY-MM-DD) of an instant. */
export const utcDate = (at: Date | string) => new Date(at).toISOString().slice(0, 10);

/** Seconds from `now` to the next UTC midnight (at least 1): when a per-day limit opens again. */
export function secondsToUtcMidnight(now: Date): number {
  const next = Math.floor(now.getTime() / DAY_MS + 1) * DAY_MS;
  return Math.max(1, Math.ceil((next - now.getTime()) / 1000));
}

/**
 * The owner's usage from `from` to `to` (default: the 30 days up to today, UTC), days without
 * jobs left out, and the totals over the range.
 */
export async function getUsage(
  deps: { quota: QuotaStore; clock: { now(): Date } },
  owner: string,
  range: UsageQuery,
): Promise<Usage> {
  const to = range.to ?? utcDate(deps.clock.now());
  const from = range.from ?? utcDate(new Date(Date.parse(to) - 29 * DAY_MS));
  if (from > to) throw new ValidationError([{ path: "from", message: "from is after to" }]);
  if ((Date.parse(to) - Date.parse(from)) / DAY_MS >= MAX_USAGE_DAYS) {
    throw new ValidationError([
      { path: "to", message: `a range covers at most ${MAX_USAGE_DAYS} days` },
    ]);
  }
  const days = await deps.quota.usageDays(owner, from, to);
  const totals: Usage["totals"] = { jobs: {}, modes: {}, failed: 0 };
  for (const day of days) {
    for (const [action, n] of Object.entries(day.jobs))
      totals.jobs[action] = (totals.jobs[action] ?? 0) + n;
    for (const [mode, n] of Object.entries(day.modes))
      totals.modes[mode] = (totals.modes[mode] ?? 0) + n;
    totals.failed += day.failed;
  }
  return { days, totals };
}

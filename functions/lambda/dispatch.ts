import { composeDispatcher } from "../compose/dispatch.ts";
import { DISPATCH_SETTINGS } from "../compose/settings.ts";
import { loadSettings } from "../config.ts";
import { createLogger } from "../log.ts";
import { readSettings } from "../platform.ts";
import { perInvocation } from "./invocation.ts";

const config = loadSettings(readSettings(), DISPATCH_SETTINGS);
const dispatcher = composeDispatcher(config);
const log = createLogger({ base: { fn: "dispatch" }, level: config.LOG_LEVEL });

/** The part of a DynamoDB stream record this reads: the changed item's key. */
interface StreamRecord {
  dynamodb?: { Keys?: Record<string, { S?: string } | undefined> };
}

/** The keys of a stream batch's items (the stream's filter already kept only dispatch work). */
export function keysOf(records: readonly StreamRecord[]): { pk: string; sk: string }[] {
  const keys: { pk: string; sk: string }[] = [];
  for (const record of records) {
    const pk = record.dynamodb?.Keys?.pk?.S;
    const sk = record.dynamodb?.Keys?.sk?.S;
    if (pk && sk) keys.push({ pk, sk });
  }
  return keys;
}

/**
 * Lambda entry fed by the table's stream: the write that queued an event (or made a delivery
 * due) reaches this within about a second, so a first delivery does not wait for the schedule.
 * It never fails the batch: whatever it could not do stays due in the dispatch index, which
 * `schedule` works through every minute, so a failing batch never blocks the stream's shard.
 */
export const stream = perInvocation(
  async (
    event: { Records?: StreamRecord[] },
    context?: { awsRequestId?: string; getRemainingTimeInMillis?: () => number },
  ) => {
    const remaining = context?.getRemainingTimeInMillis?.() ?? 55_000;
    try {
      // as the schedule: what is left when the time is up stays due for the schedule
      return await dispatcher.runItems(keysOf(event.Records ?? []), {
        timeBudgetMs: Math.max(1000, remaining - 15_000),
      });
    } catch (error) {
      const e = error as Error;
      log.error("stream dispatch failed; the schedule retries", {
        error: e.name,
        message: e.message,
      });
      return null;
    }
  },
);

/** Lambda entry on a one-minute schedule: retries that are due, and anything the stream missed. */
export const schedule = perInvocation(
  async (
    _event: unknown,
    context?: { awsRequestId?: string; getRemainingTimeInMillis?: () => number },
  ) => {
    const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
    // an attempt started last may take the 10 s webhook timeout and two writes
    return dispatcher.runDue({ timeBudgetMs: Math.max(1000, remaining - 15_000) });
  },
);

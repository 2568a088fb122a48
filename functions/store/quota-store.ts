import { type CancellationReason, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { QuotaExceededError } from "../core/errors.ts";
import {
  type OwnerLimits,
  type QuotaStore,
  secondsToUtcMidnight,
  type UsageDay,
  utcDate,
} from "../core/quota.ts";
import type { Task } from "../core/task.ts";
import { keys } from "./keys.ts";

type Item = Record<string, unknown>;
type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** How long a submit refused for the concurrent limit is told to wait. */
export const CONCURRENT_RETRY_AFTER_SECONDS = 30;

/** The quota item's counter of jobs started on `date` (one attribute per day, the last kept). */
const dayCounter = (date: string) => `day_${date}`;
const jobsCounter = (action: string) => `jobs_${action}`;
const modeCounter = (mode: string) => `mode_${mode}`;

/**
 * The two writes that ride in the transaction creating a task (docs/operating.md, limits):
 * the owner's quota item takes a slot and counts the job of the day, on condition that neither
 * limit is reached (limits and counters are attributes of that one item, so the check and the
 * count are one conditional write: two submits racing for the last slot cannot both pass);
 * the day's usage item adds the job by action and by mode. Every owner is counted, limits or
 * not, so a limit set later starts from the true count.
 */
export function creationWrites(tableName: string, task: Task): TransactItem[] {
  const date = utcDate(task.createdAt);
  const yesterday = utcDate(new Date(Date.parse(task.createdAt) - 24 * 60 * 60 * 1000));
  const usageNames: Record<string, string> = {
    "#owner": "owner",
    "#date": "date",
    "#jobs": jobsCounter(task.action),
  };
  const adds = ["#jobs :one"];
  if (task.mode) {
    usageNames["#mode"] = modeCounter(task.mode);
    adds.push("#mode :one");
  }
  return [
    {
      Update: {
        TableName: tableName,
        Key: keys.quota(task.owner),
        UpdateExpression: "SET #owner = :owner ADD #running :one, #day :one REMOVE #yesterday",
        ConditionExpression:
          "(attribute_not_exists(#concurrent) OR (attribute_not_exists(#running) AND :zero < #concurrent) OR #running < #concurrent)" +
          " AND (attribute_not_exists(#perDay) OR (attribute_not_exists(#day) AND :zero < #perDay) OR #day < #perDay)",
        ExpressionAttributeNames: {
          "#owner": "owner",
          "#running": "running",
          "#concurrent": "concurrent",
          "#perDay": "perDay",
          "#day": dayCounter(date),
          "#yesterday": dayCounter(yesterday),
        },
        ExpressionAttributeValues: { ":owner": task.owner, ":one": 1, ":zero": 0 },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
    },
    {
      Update: {
        TableName: tableName,
        Key: keys.usageDay(task.owner, date),
        UpdateExpression: `SET #owner = :owner, #date = :date ADD ${adds.join(", ")}`,
        ExpressionAttributeNames: usageNames,
        ExpressionAttributeValues: { ":owner": task.owner, ":date": date, ":one": 1 },
      },
    },
  ];
}

/**
 * The write that gives a finished task's slot back, and counts a failure on the day's usage:
 * one transaction that also takes the task out of the RELEASE partition and drops its `slot`,
 * on condition that it still holds it. The terminal write that precedes it happens once per
 * task (the forward-only rule), and this condition makes the release itself happen once, so
 * the reconciler can do it again for a task whose release failed without ever giving a slot
 * back twice. Only tasks created holding a slot (`slot` on their item) give one back.
 */
export async function releaseSlot(
  client: DynamoDBDocumentClient,
  tableName: string,
  finished: { id: string; owner: string; status: string },
  at: Date,
): Promise<"released" | "already"> {
  const task = {
    TableName: tableName,
    Key: keys.task(finished.id),
    UpdateExpression: "REMOVE #slot, gsi3pk, gsi3sk",
    ConditionExpression: "attribute_exists(#slot)",
    ExpressionAttributeNames: { "#slot": "slot" },
  };
  const slot = {
    TableName: tableName,
    Key: keys.quota(finished.owner),
    UpdateExpression: "ADD #running :minusOne",
    ExpressionAttributeNames: { "#running": "running" },
    ExpressionAttributeValues: { ":minusOne": -1 },
  };
  const date = utcDate(at);
  const failed = {
    TableName: tableName,
    Key: keys.usageDay(finished.owner, date),
    UpdateExpression: "SET #owner = :owner, #date = :date ADD #failed :one",
    ExpressionAttributeNames: { "#owner": "owner", "#date": "date", "#failed": "failed" },
    ExpressionAttributeValues: { ":owner": finished.owner, ":date": date, ":one": 1 },
  };
  try {
    await retryConflicts(() =>
      client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: task },
            { Update: slot },
            ...(finished.status === "FAILURE" ? [{ Update: failed }] : []),
          ],
        }),
      ),
    );
    return "released";
  } catch (error) {
    const reasons = error instanceof TransactionCanceledException ? error.CancellationReasons : [];
    if (reasons?.[0]?.Code === "ConditionalCheckFailed") return "already";
    throw error;
  }
}

/**
 * Takes a finished task that holds no slot (created before limits existed) out of the RELEASE
 * partition: one conditional write, nothing counted.
 */
export async function leaveRelease(
  client: DynamoDBDocumentClient,
  tableName: string,
  id: string,
): Promise<"released" | "already"> {
  try {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.task(id),
        UpdateExpression: "REMOVE gsi3pk, gsi3sk",
        ConditionExpression: "attribute_not_exists(#slot) AND gsi3pk = :release",
        ExpressionAttributeNames: { "#slot": "slot" },
        ExpressionAttributeValues: { ":release": keys.slotRelease() },
      }),
    );
    return "already";
  } catch (error) {
    if ((error as { name?: string }).name === "ConditionalCheckFailedException") return "already";
    throw error;
  }
}

/** Runs `send` again while it only meets another transaction on the same item. */
async function retryConflicts(send: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await send();
      return;
    } catch (error) {
      const conflict =
        (error as { name?: string }).name === "TransactionConflictException" ||
        isConflictOnly(error);
      if (!conflict || attempt >= CONFLICT_RETRIES) throw error;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
    }
  }
}

/**
 * The quota error a cancelled creating transaction stands for, or null: `index` is the quota
 * item's place in the transaction, whose failed condition returns the item as it was.
 */
export function quotaErrorOf(
  reasons: CancellationReason[],
  index: number,
  task: Task,
): QuotaExceededError | null {
  const reason = reasons[index];
  if (reason?.Code !== "ConditionalCheckFailed") return null;
  const item = reason.Item ? unmarshall(reason.Item) : {};
  const running = Number(item.running ?? 0);
  const concurrentFull = typeof item.concurrent === "number" && running >= item.concurrent;
  return concurrentFull
    ? new QuotaExceededError("concurrent", CONCURRENT_RETRY_AFTER_SECONDS)
    : new QuotaExceededError("perDay", secondsToUtcMidnight(new Date(task.createdAt)));
}

/** True for a transaction cancelled only because another one held an item (retry it). */
export function isConflictOnly(error: unknown): boolean {
  if (!(error instanceof TransactionCanceledException)) return false;
  const reasons = error.CancellationReasons ?? [];
  return (
    reasons.some((r) => r.Code === "TransactionConflict") &&
    reasons.every((r) => r.Code === "None" || r.Code === "TransactionConflict" || !r.Code)
  );
}

/**
 * Sends a transaction that creates a task, again when it only met another transaction on the
 * owner's quota item (many submits of one owner at once), with a short random wait.
 */
export async function sendCreating(
  client: DynamoDBDocumentClient,
  input: TransactWriteCommandInput,
): Promise<void> {
  await retryConflicts(() => client.send(new TransactWriteCommand(input)));
}

const CONFLICT_RETRIES = 12;

const numberOr = (value: unknown) => (typeof value === "number" ? value : null);

function usageDayOf(item: Item): UsageDay {
  const day: UsageDay = { date: String(item.date), jobs: {}, modes: {}, failed: 0 };
  for (const [name, value] of Object.entries(item)) {
    if (typeof value !== "number") continue;
    if (name.startsWith("jobs_")) day.jobs[name.slice(5)] = value;
    else if (name.startsWith("mode_")) day.modes[name.slice(5)] = value;
    else if (name === "failed") day.failed = value;
  }
  return day;
}

/** Limits and usage as items of the single table (keys.quota, keys.usageDay). */
export function createQuotaStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): QuotaStore {
  const { client, tableName } = options;
  return {
    async setLimits(owner, limits) {
      const names: Record<string, string> = { "#owner": "owner" };
      const values: Record<string, unknown> = { ":owner": owner };
      const sets = ["#owner = :owner"];
      const removes: string[] = [];
      for (const field of ["concurrent", "perDay"] as const) {
        const value = limits[field];
        if (value === undefined) continue;
        names[`#${field}`] = field;
        if (value === null) removes.push(`#${field}`);
        else {
          values[`:${field}`] = value;
          sets.push(`#${field} = :${field}`);
        }
      }
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.quota(owner),
          UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      const item = Attributes ?? {};
      return { owner, concurrent: numberOr(item.concurrent), perDay: numberOr(item.perDay) };
    },

    async usageDays(owner, from, to) {
      const days: UsageDay[] = [];
      let startKey: Item | undefined;
      do {
        const result = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
            ExpressionAttributeValues: {
              ":pk": keys.usageDay(owner, from).pk,
              ":from": keys.usageDay(owner, from).sk,
              ":to": keys.usageDay(owner, to).sk,
            },
            ExclusiveStartKey: startKey,
          }),
        );
        days.push(...(result.Items ?? []).map(usageDayOf));
        startKey = result.LastEvaluatedKey;
      } while (startKey);
      return days;
    },
  };
}

export type { OwnerLimits };

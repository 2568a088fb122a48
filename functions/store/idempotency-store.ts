import { createHash } from "node:crypto";
import { type CancellationReason, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import * as z from "../contract/z.ts";
import { IdempotencyConflictError } from "../core/errors.ts";
import type {
  IdempotencyRecord,
  IdempotencyStore,
  ReserveClaimOutcome,
  ReserveOutcome,
  SubmitResult,
} from "../core/ports.ts";
import { Task } from "../core/task.ts";
import { keys } from "./keys.ts";
import { creationWrites, quotaErrorOf, sendCreating } from "./quota-store.ts";
import { TABLE } from "./table.ts";
import { appendChildToParent, buildClaimModal, taskToItem } from "./task-store.ts";

const hashKey = (key: string) => createHash("sha256").update(key).digest("base64url");

// read back only when a key is used again (a retry, a replay): built then, not at every cold start
const StoredResult = /* @__PURE__ */ z.onDemand(() =>
  z.union([
    z.object({ kind: z.literal("task"), task: z.built(Task) }),
    z.object({
      kind: z.literal("error"),
      code: z.enum(["upstream_rejected", "upstream_busy", "upstream_unavailable"]),
      reason: z.string(),
      retryAfterSeconds: z.optional(z.number()),
      task: z.built(Task),
    }),
  ]),
);

const StoredRecord = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    owner: z.string(),
    fingerprint: z.string(),
    taskId: z.string(),
    createdAt: z.string(),
    lockedUntil: z.string(),
    ttl: z.number(),
    resultJson: z.optional(z.string()),
  }),
);

function toRecord(item: Record<string, unknown>, key: string): IdempotencyRecord {
  const stored = StoredRecord.parse(item);
  return {
    owner: stored.owner,
    key,
    fingerprint: stored.fingerprint,
    taskId: stored.taskId,
    createdAt: stored.createdAt,
    lockedUntil: stored.lockedUntil,
    expiresAt: stored.ttl,
    result: stored.resultJson ? StoredResult.parse(JSON.parse(stored.resultJson)) : null,
  };
}

/** Idempotency-Keys as items of the single table, expired by DynamoDB's TTL. */
export function createIdempotencyStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** TASK_RETENTION_DAYS, for the task item created with a key (see taskToItem). */
  retentionDays?: number;
}): IdempotencyStore {
  const { client, tableName } = options;

  /** The key's record, unless an unexpired one exists (which the failed condition returns). */
  function putKey(record: IdempotencyRecord, nowSeconds: number) {
    return {
      TableName: tableName,
      Item: {
        ...keys.idempotency(record.owner, hashKey(record.key)),
        owner: record.owner,
        fingerprint: record.fingerprint,
        taskId: record.taskId,
        createdAt: record.createdAt,
        lockedUntil: record.lockedUntil,
        [TABLE.ttlAttribute]: record.expiresAt,
      },
      // TTL deletion lags by up to days: an expired record is treated as absent here
      ConditionExpression: "attribute_not_exists(pk) OR #ttl < :now",
      ExpressionAttributeNames: { "#ttl": TABLE.ttlAttribute },
      ExpressionAttributeValues: { ":now": nowSeconds },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    };
  }

  /**
   * Writes the key record and `others` in ONE transaction. The key decides first: an unexpired
   * record for it is returned, and a transaction meeting another on the same key means the first
   * request is still running (409). Any other cancellation goes back to the caller.
   */
  async function transactWithKey(
    record: IdempotencyRecord,
    now: Date,
    others: NonNullable<TransactWriteCommandInput["TransactItems"]>,
  ): Promise<
    ReserveOutcome | { outcome: "cancelled"; reasons: CancellationReason[]; error: unknown }
  > {
    try {
      // again when it only met another submit's transaction on the owner's quota item
      await sendCreating(client, {
        TransactItems: [{ Put: putKey(record, Math.floor(now.getTime() / 1000)) }, ...others],
      });
      return { outcome: "reserved" };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const keyReason = reasons[0];
      if (keyReason?.Code === "ConditionalCheckFailed" && keyReason.Item) {
        return { outcome: "exists", record: toRecord(unmarshall(keyReason.Item), record.key) };
      }
      if (keyReason?.Code === "TransactionConflict") {
        throw new IdempotencyConflictError(
          "A request with this Idempotency-Key is still running; retry in a few seconds.",
        );
      }
      return { outcome: "cancelled", reasons, error };
    }
  }

  async function reserveAndCreate(record: IdempotencyRecord, task: Task, now: Date) {
    const result = await transactWithKey(record, now, [
      {
        Put: {
          TableName: tableName,
          Item: { ...taskToItem(task, options.retentionDays), slot: true },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      },
      // the owner's slot and day count (docs/operating.md): the quota item is third
      ...creationWrites(tableName, task),
      ...(task.parentId ? [appendChildToParent(tableName, task)] : []),
    ]);
    if (result.outcome === "cancelled") {
      throw quotaErrorOf(result.reasons, 2, task) ?? result.error;
    }
    return result;
  }

  async function complete(owner: string, key: string, result: SubmitResult) {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.idempotency(owner, hashKey(key)),
        UpdateExpression: "SET resultJson = :result",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":result": JSON.stringify(result) },
      }),
    );
  }

  /** Same key record as reserveAndCreate; the second write claims the MODAL task instead. */
  async function reserveAndClaimModal(
    record: IdempotencyRecord,
    claim: { prompt?: string },
    now: Date,
  ): Promise<ReserveClaimOutcome> {
    const result = await transactWithKey(record, now, [
      {
        Update: {
          TableName: tableName,
          ...buildClaimModal(record.taskId, { owner: record.owner, prompt: claim.prompt, at: now }),
        },
      },
    ]);
    if (result.outcome !== "cancelled") return result;
    // another modal submit is claiming (or has claimed) the same task right now
    const claimReason = result.reasons[1];
    if (
      claimReason?.Code === "ConditionalCheckFailed" ||
      claimReason?.Code === "TransactionConflict"
    ) {
      return { outcome: "unclaimable" };
    }
    throw result.error;
  }

  return { reserveAndCreate, complete, reserveAndClaimModal };
}

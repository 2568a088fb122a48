import { createHash } from "node:crypto";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import * as z from "zod";
import { IdempotencyConflictError } from "../core/errors.ts";
import type {
  IdempotencyRecord,
  IdempotencyStore,
  ReserveClaimOutcome,
  SubmitResult,
} from "../core/ports.ts";
import { Task } from "../core/task.ts";
import { keys } from "./keys.ts";
import { TABLE } from "./table.ts";
import { appendChildToParent, buildClaimModal, taskToItem } from "./task-store.ts";

const hashKey = (key: string) => createHash("sha256").update(key).digest("base64url");

const StoredResult = z.union([
  z.object({ kind: z.literal("task"), task: Task }),
  z.object({
    kind: z.literal("error"),
    code: z.enum(["upstream_rejected", "upstream_busy", "upstream_unavailable"]),
    reason: z.string(),
    retryAfterSeconds: z.number().optional(),
    task: Task,
  }),
]);

const StoredRecord = z.object({
  owner: z.string(),
  fingerprint: z.string(),
  taskId: z.string(),
  createdAt: z.string(),
  lockedUntil: z.string(),
  ttl: z.number(),
  resultJson: z.string().optional(),
});

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

  async function reserveAndCreate(record: IdempotencyRecord, task: Task, now: Date) {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    try {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: putKey(record, nowSeconds),
            },
            {
              Put: {
                TableName: tableName,
                Item: taskToItem(task),
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
            ...(task.parentId ? [appendChildToParent(tableName, task)] : []),
          ],
        }),
      );
      return { outcome: "reserved" as const };
    } catch (error) {
      const reason =
        error instanceof TransactionCanceledException ? error.CancellationReasons?.[0] : undefined;
      if (reason?.Code === "ConditionalCheckFailed" && reason.Item) {
        return {
          outcome: "exists" as const,
          record: toRecord(unmarshall(reason.Item), record.key),
        };
      }
      // DynamoDB cancels a transaction that meets another one on the same key: the other is
      // the first request, still running
      if (reason?.Code === "TransactionConflict") {
        throw new IdempotencyConflictError(
          "A request with this Idempotency-Key is still running; retry in a few seconds.",
        );
      }
      throw error;
    }
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
    const nowSeconds = Math.floor(now.getTime() / 1000);
    try {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: putKey(record, nowSeconds),
            },
            {
              Update: {
                TableName: tableName,
                ...buildClaimModal(record.taskId, {
                  owner: record.owner,
                  prompt: claim.prompt,
                  at: now,
                }),
              },
            },
          ],
        }),
      );
      return { outcome: "reserved" };
    } catch (error) {
      const reasons =
        error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
      const [keyReason, claimReason] = reasons;
      // the key first: a retry of a request that already claimed the task replays its answer
      if (keyReason?.Code === "ConditionalCheckFailed" && keyReason.Item) {
        return { outcome: "exists", record: toRecord(unmarshall(keyReason.Item), record.key) };
      }
      if (keyReason?.Code === "TransactionConflict") {
        throw new IdempotencyConflictError(
          "A request with this Idempotency-Key is still running; retry in a few seconds.",
        );
      }
      // another modal submit is claiming (or has claimed) the same task right now
      if (
        claimReason?.Code === "ConditionalCheckFailed" ||
        claimReason?.Code === "TransactionConflict"
      ) {
        return { outcome: "unclaimable" };
      }
      throw error;
    }
  }

  return { reserveAndCreate, complete, reserveAndClaimModal };
}

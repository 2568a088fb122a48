import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { type EndpointStore, WebhookEndpoint } from "../core/endpoints.ts";
import type { Logger } from "../core/ports.ts";
import { keys } from "./keys.ts";
import { TABLE } from "./table.ts";

/** A deleted endpoint's item stays this long (its deliveries' log still names it), then TTL. */
const DELETED_KEPT_SECONDS = 30 * 24 * 3600;

/** A condition of the transaction failed (a conflict with another write is thrown on). */
function conditionFailed(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException) return true;
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((r) => r.Code === "ConditionalCheckFailed")
  );
}

/**
 * DynamoDB implementation of EndpointStore. An endpoint is `OWNER#<owner>` / `ENDPOINT#<id>`;
 * the owner's count (`OWNER#<owner>` / `ENDPOINTS`) is written in the same transaction as each
 * add and delete, so the cap holds under concurrent adds. Deleting marks the item (no function
 * deletes items) and the table's TTL removes it later.
 */
export function createEndpointStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  log?: Logger;
}): EndpointStore {
  const { client, tableName } = options;
  const log = options.log ?? { info() {}, warn() {}, error() {} };

  return {
    async list(owner) {
      const out: WebhookEndpoint[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const result = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues: {
              ":pk": keys.endpoint(owner, "").pk,
              ":prefix": keys.endpointPrefix(),
            },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of result.Items ?? []) {
          if (typeof item.deletedAt === "string") continue;
          const endpoint = WebhookEndpoint.safeParse(item);
          if (endpoint.success) out.push(endpoint.data);
          else log.warn("stored item skipped: not a webhook endpoint", { owner });
        }
        start = result.LastEvaluatedKey;
      } while (start);
      return out.sort((a, b) => a.id.localeCompare(b.id));
    },

    async create(owner, endpoint, max) {
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: tableName,
                  Key: keys.endpointCount(owner),
                  UpdateExpression: "ADD #count :one",
                  ConditionExpression: "attribute_not_exists(#count) OR #count < :max",
                  ExpressionAttributeNames: { "#count": "count" },
                  ExpressionAttributeValues: { ":one": 1, ":max": max },
                },
              },
              {
                Put: {
                  TableName: tableName,
                  Item: { ...keys.endpoint(owner, endpoint.id), owner, ...endpoint },
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
            ],
          }),
        );
        return "created";
      } catch (error) {
        if (conditionFailed(error)) return "full";
        throw error;
      }
    },

    async remove(owner, id, at) {
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: tableName,
                  Key: keys.endpoint(owner, id),
                  UpdateExpression: "SET deletedAt = :at, #ttl = :ttl",
                  ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(deletedAt)",
                  ExpressionAttributeNames: { "#ttl": TABLE.ttlAttribute },
                  ExpressionAttributeValues: {
                    ":at": at.toISOString(),
                    ":ttl": Math.floor(at.getTime() / 1000) + DELETED_KEPT_SECONDS,
                  },
                },
              },
              {
                Update: {
                  TableName: tableName,
                  Key: keys.endpointCount(owner),
                  UpdateExpression: "ADD #count :minus",
                  ExpressionAttributeNames: { "#count": "count" },
                  ExpressionAttributeValues: { ":minus": -1 },
                },
              },
            ],
          }),
        );
        return true;
      } catch (error) {
        if (conditionFailed(error)) return false;
        throw error;
      }
    },
  };
}

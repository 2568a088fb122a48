import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import * as z from "../contract/z.ts";
import { type ApiKeyStore, ApiKeyView, type StoredApiKey } from "../core/api-keys.ts";
import { keys } from "./keys.ts";
import { TABLE } from "./table.ts";

const StoredItem = /* @__PURE__ */ z.onDemand(() =>
  z.extend(z.built(ApiKeyView), { hash: z.string().check(z.regex(/^[0-9a-f]{64}$/)) }),
);

/** A revoked key's item stays this long (so its id is never reused), then DynamoDB's TTL deletes it. */
const REVOKED_KEPT_SECONDS = 30 * 24 * 3600;

const toView = (item: Record<string, unknown>) => ApiKeyView.parse(item);

/**
 * DynamoDB implementation of ApiKeyStore (the single table, gsi4 for listing). Revoking writes
 * `revokedAt` and leaves the listing index instead of deleting: no function deletes items, a
 * lastUsedAt write cannot bring a revoked key back, and the table's TTL removes it later.
 */
export function createApiKeyStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): ApiKeyStore {
  const { client, tableName } = options;
  const conditionFailed = (error: unknown) => error instanceof ConditionalCheckFailedException;

  return {
    async create(key: StoredApiKey) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...keys.apiKey(key.id),
              gsi4pk: keys.apiKeys(),
              gsi4sk: keys.ownerApiKey(key.owner, key.createdAt, key.id),
              id: key.id,
              owner: key.owner,
              name: key.name,
              createdAt: key.createdAt,
              lastUsedAt: null,
              hash: key.hash,
            },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
        return true;
      } catch (error) {
        if (conditionFailed(error)) return false;
        throw error;
      }
    },

    async get(id) {
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: keys.apiKey(id) }),
      );
      // a revoked key is no key
      return Item && Item.revokedAt === undefined ? StoredItem.parse(Item) : null;
    },

    async list(owner) {
      const items: ApiKeyView[] = [];
      let after: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: "gsi4",
            KeyConditionExpression: owner
              ? "gsi4pk = :keys AND begins_with(gsi4sk, :owner)"
              : "gsi4pk = :keys",
            ExpressionAttributeValues: {
              ":keys": keys.apiKeys(),
              ...(owner ? { ":owner": keys.ownerApiKeyPrefix(owner) } : {}),
            },
            ExclusiveStartKey: after,
          }),
        );
        items.push(...(page.Items ?? []).map(toView));
        after = page.LastEvaluatedKey;
      } while (after);
      return items;
    },

    async revoke(id, at) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.apiKey(id),
            UpdateExpression: "SET revokedAt = :at, #ttl = :ttl REMOVE gsi4pk, gsi4sk",
            ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(revokedAt)",
            ExpressionAttributeNames: { "#ttl": TABLE.ttlAttribute },
            ExpressionAttributeValues: {
              ":at": at.toISOString(),
              ":ttl": Math.floor(at.getTime() / 1000) + REVOKED_KEPT_SECONDS,
            },
          }),
        );
        return true;
      } catch (error) {
        if (conditionFailed(error)) return false;
        throw error;
      }
    },

    async touch(id, at, staleBefore) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.apiKey(id),
            UpdateExpression: "SET lastUsedAt = :at",
            ConditionExpression:
              "attribute_exists(pk) AND attribute_not_exists(revokedAt) AND (attribute_type(lastUsedAt, :null) OR lastUsedAt < :stale)",
            ExpressionAttributeValues: {
              ":at": at.toISOString(),
              ":stale": staleBefore.toISOString(),
              ":null": "NULL",
            },
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

import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { type ApiKeyStore, ApiKeyView, type StoredApiKey } from "../core/api-keys.ts";
import { keys } from "./keys.ts";

const StoredItem = ApiKeyView.extend({ hash: z.string().regex(/^[0-9a-f]{64}$/) });

const toView = (item: Record<string, unknown>) => ApiKeyView.parse(item);

/** DynamoDB implementation of ApiKeyStore (the single table, gsi4 for listing). */
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
      return Item ? StoredItem.parse(Item) : null;
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

    async revoke(id) {
      try {
        await client.send(
          new DeleteCommand({
            TableName: tableName,
            Key: keys.apiKey(id),
            ConditionExpression: "attribute_exists(pk)",
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
              "attribute_exists(pk) AND (attribute_type(lastUsedAt, :null) OR lastUsedAt < :stale)",
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

import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { SecretVersions, WebhookSecretStore } from "../core/deliveries.ts";
import { keys } from "./keys.ts";

type Item = Record<string, unknown>;

/**
 * DynamoDB implementation of WebhookSecretStore: an owner's versions in one item
 * (`keys.webhookSecret`), the secrets themselves derived, never stored. Its own module so the
 * webhooks function loads it only for the secret's routes (functions/compose/webhooks.ts).
 */
export function createWebhookSecretStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): WebhookSecretStore {
  const { client, tableName } = options;
  return {
    async get(owner) {
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: keys.webhookSecret(owner) }),
      );
      return itemToVersions(Item);
    },
    async rotate(owner, from, graceUntil, at) {
      const next: SecretVersions = {
        version: from.version + 1,
        rotatedAt: at.toISOString(),
        previous: { version: from.version, until: graceUntil.toISOString() },
      };
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...keys.webhookSecret(owner), ...next },
            ConditionExpression:
              from.rotatedAt === null
                ? "attribute_not_exists(pk) OR version = :version"
                : "version = :version",
            ExpressionAttributeValues: { ":version": from.version },
          }),
        );
        return next;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return "conflict";
        throw error;
      }
    },
  };
}

function itemToVersions(item: Item | undefined): SecretVersions {
  if (!item) return { version: 1, rotatedAt: null, previous: null };
  const previous = item.previous as { version?: unknown; until?: unknown } | null | undefined;
  return {
    version: Number(item.version),
    rotatedAt: typeof item.rotatedAt === "string" ? item.rotatedAt : null,
    previous:
      previous && typeof previous.until === "string"
        ? { version: Number(previous.version), until: previous.until }
        : null,
  };
}

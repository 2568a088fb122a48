import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { UpstreamHealth, UpstreamHealthStore } from "../core/upstream-port.ts";
import { keys } from "./keys.ts";

const STATES = new Set(["up", "down", "probing", "busy"]);

/**
 * The upstreams' states in the table: a PutItem per change a submit instance sees (rare: an
 * upstream going down, busy or up again; nothing on a healthy submit), a Query for `GET
 * /health`. The last change written wins, whichever instance saw it.
 */
export function createUpstreamHealthStore(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): UpstreamHealthStore {
  const { client, tableName } = deps;
  return {
    async record(health) {
      const { position: _position, ...stored } = health;
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...keys.upstreamHealth(health.id), ...stored },
        }),
      );
    },
    async list() {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": keys.upstreamHealthPartition() },
        }),
      );
      return (out.Items ?? []).flatMap((item) => {
        if (typeof item.id !== "string" || !STATES.has(String(item.state))) return [];
        const text = (v: unknown) => (typeof v === "string" ? v : null);
        return [
          {
            id: item.id,
            state: item.state as UpstreamHealth["state"],
            since: text(item.since),
            reason: text(item.reason),
            retryAt: text(item.retryAt),
          },
        ];
      });
    },
  };
}

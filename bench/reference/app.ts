import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { Hono } from "hono";
import { keys } from "../../functions/store/keys.ts";

/**
 * The floor every figure of the webhook path is compared with: a Hono app whose only route does
 * what a webhook must do and nothing else: one conditional UpdateItem of the same table, key,
 * status fields and forward-only condition as the callback's (functions/store/task-advance.ts
 * buildAdvance). The callback's write also appends the step to the task's `steps` (live
 * progress) and the event to its `outbox` (outbound webhooks), which this one leaves out: that
 * is work DynamoDB does for paperboat's features, and it stays on the callback's side of every
 * ratio. No zod, no HMAC check, no logging, no item read back: the cost of Hono + the DynamoDB
 * client + that one write.
 *
 * The rank is computed inline (status rank × 1000 + progress, terminal = 3100, as
 * functions/core/task.ts does) so that this bundle does not import zod through core/task.ts.
 */
const RANK: Record<string, number> = { SUBMITTED: 1000, IN_PROGRESS: 2000 };

const isTerminal = (status: string) =>
  status === "SUCCESS" || status === "FAILURE" || status === "CANCEL";

function rankOf(status: string, progress: number): number {
  if (isTerminal(status)) return 3100;
  return (RANK[status] ?? 0) + (status === "IN_PROGRESS" ? progress : 0);
}

interface Webhook {
  id?: string | number;
  state?: string;
  status?: string;
  progress?: string;
  imageUrl?: string;
}

export function createReferenceApp(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Cold-start ablations only (bench/variants): validate the body first, throwing if invalid. */
  validate?: (body: unknown) => void;
}) {
  const app = new Hono();
  app.post("/hooks/midjourney", async (c) => {
    const body = (await c.req.json()) as Webhook;
    deps.validate?.(body);
    const id = String(body.state ?? "").split(".")[1] ?? "";
    const status = String(body.status ?? "");
    const progress = isTerminal(status)
      ? 100
      : Number.parseInt(String(body.progress ?? "0"), 10) || 0;
    try {
      await deps.client.send(
        new UpdateCommand({
          TableName: deps.tableName,
          Key: keys.task(id),
          UpdateExpression: `SET #status = :status, #rank = :rank, #updatedAt = :updatedAt, #gsi2sk = :gsi2sk, #progress = :progress, #imageUrl = :imageUrl, #upstreamTaskId = if_not_exists(#upstreamTaskId, :upstreamTaskId)${isTerminal(status) ? " REMOVE gsi3pk, gsi3sk" : ""}`,
          ConditionExpression:
            "attribute_exists(#pk) AND (#rank < :rank) AND (attribute_not_exists(#upstreamTaskId) OR #upstreamTaskId = :upstreamTaskId)",
          ExpressionAttributeNames: {
            "#pk": "pk",
            "#status": "status",
            "#rank": "rank",
            "#updatedAt": "updatedAt",
            "#gsi2sk": "gsi2sk",
            "#progress": "progress",
            "#imageUrl": "imageUrl",
            "#upstreamTaskId": "upstreamTaskId",
          },
          ExpressionAttributeValues: {
            ":status": status,
            ":rank": rankOf(status, progress),
            ":updatedAt": new Date().toISOString(),
            ":gsi2sk": `${status}#${id}`,
            ":progress": progress,
            ":imageUrl": body.imageUrl ?? null,
            ":upstreamTaskId": String(body.id ?? ""),
          },
        }),
      );
      return c.json({ result: "applied" });
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return c.json({ result: "stale" });
      throw error;
    }
  });
  return app;
}

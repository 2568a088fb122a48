import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { TaskStore } from "../../functions/core/ports.ts";
import type { Task } from "../../functions/core/task.ts";
import { buildAdvance, createTaskStore } from "../../functions/store/task-store.ts";

/**
 * Ablation (bench only): the production task store, except that `advance` sends the same
 * UpdateItem (functions/store/task-store.ts buildAdvance) without `ReturnValues: ALL_NEW` and
 * `ReturnValuesOnConditionCheckFailure: ALL_OLD`, so no item comes back to be unmarshalled and
 * parsed with the Task schema. applyWebhook uses only the outcome, never the returned task:
 * this prices what the webhook path pays for a read-back it does not use.
 */
export function createStoreWithoutReadBack(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): TaskStore {
  const store = createTaskStore(options);
  return {
    ...store,
    async advance(id, update, at, advanceOptions = {}) {
      try {
        await options.client.send(
          new UpdateCommand({
            TableName: options.tableName,
            ...buildAdvance(id, update, at, advanceOptions.allowModal ?? false),
          }),
        );
        return { outcome: "applied", task: undefined as unknown as Task };
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          return { outcome: "stale", task: null };
        throw error;
      }
    },
  };
}

import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { AdvanceOutcome, Page, TaskStore, TaskUpdate } from "../core/ports.ts";
import { isTerminal, Task, type TaskStatus, taskRank } from "../core/task.ts";
import { keys } from "./keys.ts";

type Item = Record<string, unknown>;

/** A stored item → the task; anything that does not fit the schema is a storage bug, loudly. */
export function itemToTask(item: Item): Task {
  const { metadataJson, ...rest } = item;
  return Task.parse({
    ...rest,
    upstreamTaskId: item.upstreamTaskId ?? null,
    metadata: typeof metadataJson === "string" ? JSON.parse(metadataJson) : {},
  });
}

export function taskToItem(task: Task): Item {
  // The client's metadata is kept as a JSON string: any JSON object round-trips exactly, where a
  // DynamoDB map would refuse empty keys and numbers outside DynamoDB's range.
  const { upstreamTaskId, metadata, ...rest } = task;
  return {
    ...keys.task(task.id),
    gsi1pk: keys.ownerTasks(task.owner),
    gsi1sk: task.id,
    gsi2sk: keys.statusTask(task.status, task.id),
    ...(isTerminal(task.status) ? {} : { gsi3pk: keys.unfinished(), gsi3sk: task.id }),
    rank: taskRank(task.status, task.progress),
    ...rest,
    metadataJson: JSON.stringify(metadata),
    // absent rather than null until known, so the forward-only write can bind it once
    ...(upstreamTaskId ? { upstreamTaskId } : {}),
  };
}

const OPTIONAL_FIELDS = [
  "progress",
  "imageUrl",
  "imageUrls",
  "videoUrl",
  "buttons",
  "failReason",
  "finishedAt",
] as const satisfies readonly (keyof TaskUpdate)[];

/**
 * The single UpdateItem that applies a TaskUpdate. Its condition is the whole state machine:
 * the item exists, the new rank is strictly higher (or NOT_START → MODAL when allowed), and
 * the task is not bound to another upstream task.
 */
export function buildAdvance(id: string, update: TaskUpdate, at: Date, allowModal: boolean) {
  const names: Record<string, string> = {
    "#pk": "pk",
    "#status": "status",
    "#rank": "rank",
    "#updatedAt": "updatedAt",
    "#gsi2sk": "gsi2sk",
  };
  const values: Record<string, unknown> = {
    ":status": update.status,
    ":rank": taskRank(update.status, update.progress ?? 0),
    ":updatedAt": at.toISOString(),
    ":gsi2sk": keys.statusTask(update.status, id),
  };
  const sets = [
    "#status = :status",
    "#rank = :rank",
    "#updatedAt = :updatedAt",
    "#gsi2sk = :gsi2sk",
  ];
  for (const field of OPTIONAL_FIELDS) {
    if (update[field] === undefined) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = update[field];
    sets.push(`#${field} = :${field}`);
  }
  let condition = "attribute_exists(#pk) AND (#rank < :rank";
  if (allowModal && update.status === "MODAL") {
    values[":notStart"] = "NOT_START";
    condition += " OR #status = :notStart";
  }
  condition += ")";
  if (update.upstreamTaskId !== undefined) {
    names["#upstreamTaskId"] = "upstreamTaskId";
    values[":upstreamTaskId"] = update.upstreamTaskId;
    sets.push("#upstreamTaskId = if_not_exists(#upstreamTaskId, :upstreamTaskId)");
    condition +=
      " AND (attribute_not_exists(#upstreamTaskId) OR #upstreamTaskId = :upstreamTaskId)";
  }
  let expression = `SET ${sets.join(", ")}`;
  if (isTerminal(update.status)) expression += " REMOVE gsi3pk, gsi3sk";
  return {
    Key: keys.task(id),
    UpdateExpression: expression,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** An opaque-to-clients page position: only the last id; the key is rebuilt server-side. */
function lastIdOf(lastKey: Item | undefined, items: Task[]): string | null {
  if (!lastKey) return null;
  return items.at(-1)?.id ?? null;
}

export interface TaskStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

/** DynamoDB implementation of TaskStore: every state change is one conditional write. */
export function createTaskStore({ client, tableName }: TaskStoreOptions): TaskStore {
  async function create(task: Task): Promise<void> {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: taskToItem(task),
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  }

  async function get(id: string): Promise<Task | null> {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: keys.task(id) }),
    );
    return Item ? itemToTask(Item) : null;
  }

  async function advance(
    id: string,
    update: TaskUpdate,
    at: Date,
    options: { allowModal?: boolean } = {},
  ): Promise<AdvanceOutcome> {
    try {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: tableName,
          ...buildAdvance(id, update, at, options.allowModal ?? false),
          ReturnValues: "ALL_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { outcome: "applied", task: itemToTask(Attributes ?? {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const old = error.Item ? unmarshall(error.Item) : null;
        return { outcome: "stale", task: old ? itemToTask(old) : null };
      }
      throw error;
    }
  }

  async function listByOwner(
    owner: string,
    query: { status?: TaskStatus; limit: number; afterId?: string },
  ): Promise<Page<Task>> {
    const { status, limit, afterId } = query;
    const ownerKey = keys.ownerTasks(owner);
    const after = afterId ? { ...keys.task(afterId), gsi1pk: ownerKey } : undefined;
    const result = await client.send(
      new QueryCommand(
        status
          ? {
              TableName: tableName,
              IndexName: "gsi2",
              KeyConditionExpression: "gsi1pk = :owner AND begins_with(gsi2sk, :prefix)",
              ExpressionAttributeValues: {
                ":owner": ownerKey,
                ":prefix": keys.statusPrefix(status),
              },
              ExclusiveStartKey: after && {
                ...after,
                gsi2sk: keys.statusTask(status, afterId ?? ""),
              },
              ScanIndexForward: false,
              Limit: limit,
            }
          : {
              TableName: tableName,
              IndexName: "gsi1",
              KeyConditionExpression: "gsi1pk = :owner",
              ExpressionAttributeValues: { ":owner": ownerKey },
              ExclusiveStartKey: after && { ...after, gsi1sk: afterId },
              ScanIndexForward: false,
              Limit: limit,
            },
      ),
    );
    const items = (result.Items ?? []).map(itemToTask);
    return { items, lastId: lastIdOf(result.LastEvaluatedKey, items) };
  }

  async function listUnfinished(query: { limit: number; afterId?: string }): Promise<Page<Task>> {
    const { limit, afterId } = query;
    const result = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: "gsi3",
        KeyConditionExpression: "gsi3pk = :unfinished",
        ExpressionAttributeValues: { ":unfinished": keys.unfinished() },
        ExclusiveStartKey: afterId
          ? { ...keys.task(afterId), gsi3pk: keys.unfinished(), gsi3sk: afterId }
          : undefined,
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    const items = (result.Items ?? []).map(itemToTask);
    return { items, lastId: lastIdOf(result.LastEvaluatedKey, items) };
  }

  return { create, get, advance, listByOwner, listUnfinished };
}

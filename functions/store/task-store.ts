import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type {
  AdvanceOutcome,
  ImageCopyJob,
  Logger,
  Page,
  ReconcileTaskStore,
  StoredImage,
  SubmitTaskStore,
  TaskFilterQuery,
  TaskQueries,
  TaskStore,
  TaskTimeline,
  TaskUpdate,
} from "../core/ports.ts";
import {
  isTerminal,
  Task,
  type TaskAction,
  type TaskMode,
  type TaskStatus,
  taskRank,
} from "../core/task.ts";
import { keys } from "./keys.ts";
import { plainTask } from "./plain-task.ts";
import {
  creationWrites,
  leaveRelease,
  quotaErrorOf,
  releaseSlot,
  sendCreating,
} from "./quota-store.ts";
import { expiresAtOf, TABLE } from "./table.ts";
import { buildAdvance, createTaskApplier, fallbackOf, releaseAfterFinish } from "./task-advance.ts";

type Item = Record<string, unknown>;

export { buildAdvance, fitUpdate } from "./task-advance.ts";

/** Fields a task cannot be shown without: an item with one of them unreadable is skipped. */
const IDENTITY_FIELDS = new Set(["id", "owner", "action", "status", "createdAt", "updatedAt"]);

/**
 * A stored item → the task. A field that does not fit the schema (an item written by an
 * older version, or by hand) falls back to its empty value and is named in `badFields`, so one
 * bad item never fails a page or a read; `task` is null only when the item cannot be a task
 * at all (its id, owner, action, status or times are unreadable).
 */
export function repairTaskItem(item: Item): { task: Task | null; badFields: string[] } {
  const { metadataJson, ...rest } = item;
  let metadata: unknown = {};
  const badFields: string[] = [];
  if (typeof metadataJson === "string") {
    try {
      metadata = JSON.parse(metadataJson);
    } catch {
      badFields.push("metadata");
    }
  }
  const candidate: Record<string, unknown> = {
    ...rest,
    upstreamTaskId: item.upstreamTaskId ?? null,
    // the stored result URLs are the upstream's (copies replace them only as the task is read)
    upstreamImageUrl: item.imageUrl ?? null,
    upstreamImageUrls: item.imageUrls ?? [],
    upstreamVideoUrl: item.videoUrl ?? null,
    upstreamVideoUrls: item.videoUrls ?? [],
    metadata,
  };
  // a well-formed item without zod (the same task); anything else to the schema, to be repaired
  const plain = plainTask(candidate);
  if (plain) return { task: plain, badFields };
  const first = Task.safeParse(candidate);
  if (first.success) return { task: first.data, badFields };
  const fields = new Set(first.error.issues.map((issue) => String(issue.path[0] ?? "(item)")));
  badFields.push(...fields);
  if ([...fields].some((field) => !(field in Task.shape) || IDENTITY_FIELDS.has(field))) {
    return { task: null, badFields };
  }
  for (const field of fields) candidate[field] = fallbackOf(field, candidate[field]);
  const repaired = Task.safeParse(candidate);
  return { task: repaired.success ? repaired.data : null, badFields };
}

/** A stored item → the task (repaired as {@link repairTaskItem} does); throws when it cannot be one. */
export function itemToTask(item: Item): Task {
  const { task, badFields } = repairTaskItem(item);
  if (!task) throw new Error(`stored item is not a task (${badFields.join(", ")})`);
  return task;
}

/**
 * The item as a task, or null (logged, never thrown) when it cannot be one: every read path
 * of the store and the dispatcher goes through this, so one bad item costs only itself.
 */
export function readTaskItem(item: Item, log: Logger): Task | null {
  const { task, badFields } = repairTaskItem(item);
  if (badFields.length > 0) {
    log.warn(task ? "stored task repaired on read" : "stored item skipped: not a task", {
      pk: typeof item.pk === "string" ? item.pk : null,
      fields: badFields,
    });
  }
  return task;
}

/**
 * The update that records a child on its parent, written in the same transaction that creates
 * the child: `childIds` (newest first) lives on the parent item, so reading a task and its
 * children is one GetItem.
 */
export function appendChildToParent(tableName: string, child: Task) {
  return {
    Update: {
      TableName: tableName,
      Key: keys.task(child.parentId as string),
      UpdateExpression: "SET #childIds = list_append(:child, if_not_exists(#childIds, :none))",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeNames: { "#childIds": "childIds" },
      ExpressionAttributeValues: { ":child": [child.id], ":none": [] },
    },
  };
}

/**
 * The task's item; with `retentionDays` it carries the table's `ttl`, so DynamoDB deletes it that
 * many days after the task was created (no extra write: it rides in the creating put).
 */
export function taskToItem(task: Task, retentionDays?: number): Item {
  // The client's metadata is kept as a JSON string: any JSON object round-trips exactly, where a
  // DynamoDB map would refuse empty keys and numbers outside DynamoDB's range.
  const {
    upstreamTaskId,
    upstream,
    metadata,
    images,
    imagesStatus,
    imagesError,
    // derived from imageUrl, imageUrls, videoUrl and videoUrls as the item is read
    upstreamImageUrl: _image,
    upstreamImageUrls: _images,
    upstreamVideoUrl: _video,
    upstreamVideoUrls: _videos,
    ...rest
  } = task;
  return {
    ...keys.task(task.id),
    gsi1pk: keys.ownerTasks(task.owner),
    gsi1sk: task.id,
    gsi2sk: keys.statusTask(task.status, task.id),
    ...(isTerminal(task.status)
      ? {}
      : { gsi3pk: keys.unfinishedPartition(task.status), gsi3sk: task.id }),
    ...(task.parentId ? { gsi4pk: keys.parentTasks(task.parentId), gsi4sk: task.id } : {}),
    gsi5sk: keys.actionTask(task.action, task.id),
    // a task that wants task.progress is indexed for the dispatcher as soon as a progress write
    // sets gsi7sk (the progress write cannot know who wants them: it reads nothing)
    ...(task.webhookUrl && task.webhookEvents.includes("task.progress")
      ? { gsi7pk: keys.dispatch() }
      : {}),
    rank: taskRank(task.status, task.progress),
    // the task's recorded states, one rank each (functions/core/watch.ts): the creating state
    steps: [taskRank(task.status, task.progress)],
    ...rest,
    metadataJson: JSON.stringify(metadata),
    // absent rather than null until known, so the forward-only write can bind it once
    ...(upstreamTaskId ? { upstreamTaskId } : {}),
    ...(upstream ? { upstream } : {}),
    // durable copies: absent until the copier records them (links are signed at read time)
    ...(images.length > 0 ? { images: images.map(({ url: _url, ...image }) => image) } : {}),
    ...(imagesStatus ? { imagesStatus } : {}),
    ...(imagesError ? { imagesError } : {}),
    ...ttlOf(task.createdAt, retentionDays),
  };
}

/** `{ ttl }` for an item of a task created at `createdAt`, or nothing when kept forever. */
export function ttlOf(createdAt: string, retentionDays: number | undefined) {
  const at = expiresAtOf(createdAt, retentionDays);
  return at === undefined ? {} : { [TABLE.ttlAttribute]: at };
}

/**
 * The write that claims a MODAL task for one modal submit (TaskStore.claimModal); also one
 * half of the idempotency store's reserve-and-claim transaction.
 */
export function buildClaimModal(id: string, claim: { owner: string; prompt?: string; at: Date }) {
  const names: Record<string, string> = {
    "#pk": "pk",
    "#owner": "owner",
    "#status": "status",
    "#claimed": "modalSubmittedAt",
    "#updatedAt": "updatedAt",
  };
  const values: Record<string, unknown> = {
    ":owner": claim.owner,
    ":modal": "MODAL",
    ":at": claim.at.toISOString(),
  };
  const sets = ["#claimed = :at", "#updatedAt = :at"];
  if (claim.prompt !== undefined) {
    names["#prompt"] = "prompt";
    values[":prompt"] = claim.prompt;
    sets.push("#prompt = :prompt");
  }
  return {
    Key: keys.task(id),
    UpdateExpression: `SET ${sets.join(", ")}`,
    ConditionExpression:
      "attribute_exists(#pk) AND #owner = :owner AND #status = :modal AND attribute_not_exists(#claimed)",
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * The copier's record of a finished copy (TaskStore.recordImagesCopied): only while the copy
 * is pending, never touching status; the task leaves the copy index.
 */
export function buildImagesCopied(
  id: string,
  copied: { images: StoredImage[]; attempts: number },
  at: Date,
) {
  return {
    Key: keys.task(id),
    UpdateExpression:
      "SET #images = :images, #imagesStatus = :done, #attempts = :attempts, #updatedAt = :at REMOVE #imagesError, gsi6pk, gsi6sk",
    ConditionExpression: "attribute_exists(#pk) AND #imagesStatus = :pending",
    ExpressionAttributeNames: {
      "#pk": "pk",
      "#images": "images",
      "#imagesStatus": "imagesStatus",
      "#imagesError": "imagesError",
      "#attempts": "imagesAttempts",
      "#updatedAt": "updatedAt",
    },
    ExpressionAttributeValues: {
      ":images": copied.images,
      ":done": "done",
      ":pending": "pending",
      ":attempts": copied.attempts,
      ":at": at.toISOString(),
    },
  };
}

/**
 * The copier's record of a failed attempt (TaskStore.recordImageCopyFailure). The condition
 * on the previous count makes each attempt count once, whatever runs overlap.
 */
export function buildImageCopyFailure(
  id: string,
  failure: { attempts: number; reason: string; retryAt: Date | null },
  at: Date,
) {
  const sets = [
    "#attempts = :attempts",
    "#imagesError = :reason",
    "#updatedAt = :at",
    failure.retryAt ? "gsi6sk = :due" : "#imagesStatus = :failed",
  ];
  const values: Record<string, unknown> = {
    ":attempts": failure.attempts,
    ":previous": failure.attempts - 1,
    ":reason": failure.reason,
    ":at": at.toISOString(),
    ":pending": "pending",
  };
  if (failure.retryAt) values[":due"] = keys.imageCopyDue(failure.retryAt, id);
  else values[":failed"] = "failed";
  const previous =
    failure.attempts === 1
      ? "(attribute_not_exists(#attempts) OR #attempts = :previous)"
      : "#attempts = :previous";
  return {
    Key: keys.task(id),
    UpdateExpression: `SET ${sets.join(", ")}${failure.retryAt ? "" : " REMOVE gsi6pk, gsi6sk"}`,
    ConditionExpression: `attribute_exists(#pk) AND #imagesStatus = :pending AND ${previous}`,
    ExpressionAttributeNames: {
      "#pk": "pk",
      "#imagesStatus": "imagesStatus",
      "#imagesError": "imagesError",
      "#attempts": "imagesAttempts",
      "#updatedAt": "updatedAt",
    },
    ExpressionAttributeValues: values,
  };
}

/** A filtered Query fills one page with at most this many calls, then returns what it has. */
const MAX_QUERIES_PER_PAGE = 5;

/** `#status = :status AND ...` for the filters given, or nothing. */
function filterOf(filters: {
  owner?: string;
  status?: TaskStatus;
  action?: TaskAction;
  mode?: TaskMode;
}) {
  const parts: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    parts.push(`#f_${field} = :f_${field}`);
    names[`#f_${field}`] = field;
    values[`:f_${field}`] = value;
  }
  return parts.length ? { expression: parts.join(" AND "), names, values } : undefined;
}

/**
 * An opaque-to-clients page position: only the last evaluated id (the key is rebuilt
 * server-side), taken from the key itself so a skipped unreadable item cannot end the paging.
 */
function lastIdOf(lastKey: Item | undefined): string | null {
  return lastKey ? keys.taskIdOf(String(lastKey.pk)) : null;
}

const quietLog: Logger = { info() {}, warn() {}, error() {} };

export interface TaskStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Where unreadable items are reported (skipped, never thrown); silent when not given. */
  log?: Logger;
  /** TASK_RETENTION_DAYS: new tasks' items expire that long after creation; 0/absent: kept. */
  retentionDays?: number;
}

/**
 * TaskStore.get on its own, for a function that only checks a task (the webhooks function's
 * owner check): its bundle then leaves out the rest of the store (docs/performance.md).
 */
export function createTaskReader({
  client,
  tableName,
  log = quietLog,
}: Omit<TaskStoreOptions, "retentionDays">): Pick<TaskStore, "get"> {
  return {
    async get(id) {
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: keys.task(id) }),
      );
      return Item ? readTaskItem(Item, log) : null;
    },
  };
}

/**
 * TaskStore's reads alone, for the read function: its bundle then leaves out the store's writes
 * (creating transactions, advances, modal claims, image copies; docs/performance.md).
 */
export function createTaskQueries({
  client,
  tableName,
  log = quietLog,
}: Omit<TaskStoreOptions, "retentionDays">): TaskQueries {
  const tasksOf = (items: Item[] | undefined): Task[] =>
    (items ?? []).flatMap((item) => readTaskItem(item, log) ?? []);
  const { get } = createTaskReader({ client, tableName, log });

  async function getTimeline(id: string): Promise<TaskTimeline | null> {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: keys.task(id) }),
    );
    if (!Item) return null;
    const task = readTaskItem(Item, log);
    if (!task) return null;
    const childIds = Array.isArray(Item.childIds)
      ? Item.childIds.filter((id): id is string => typeof id === "string")
      : [];
    const steps = Array.isArray(Item.steps)
      ? Item.steps.filter((rank): rank is number => typeof rank === "number")
      : [];
    return { task, childIds, steps };
  }

  async function getTree(id: string): Promise<{ task: Task; childIds: string[] } | null> {
    const timeline = await getTimeline(id);
    return timeline && { task: timeline.task, childIds: timeline.childIds };
  }

  async function listByOwner(
    owner: string,
    query: { status?: TaskStatus; mode?: TaskMode; limit: number; afterId?: string },
  ): Promise<Page<Task>> {
    const { status, limit, afterId } = query;
    const ownerKey = keys.ownerTasks(owner);
    if (query.mode) {
      // a mode is a filter on the owner's (or the status') index, filled page by page
      return status
        ? queryPage(
            {
              IndexName: "gsi2",
              KeyConditionExpression: "gsi1pk = :owner AND begins_with(gsi2sk, :prefix)",
              ExpressionAttributeValues: {
                ":owner": ownerKey,
                ":prefix": keys.statusPrefix(status),
              },
            },
            (id) => ({ ...keys.task(id), gsi1pk: ownerKey, gsi2sk: keys.statusTask(status, id) }),
            limit,
            afterId,
            filterOf({ mode: query.mode }),
          )
        : queryPage(
            {
              IndexName: "gsi1",
              KeyConditionExpression: "gsi1pk = :owner",
              ExpressionAttributeValues: { ":owner": ownerKey },
            },
            (id) => ({ ...keys.task(id), gsi1pk: ownerKey, gsi1sk: id }),
            limit,
            afterId,
            filterOf({ mode: query.mode }),
          );
    }
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
    return { items: tasksOf(result.Items), lastId: lastIdOf(result.LastEvaluatedKey) };
  }

  async function queryPage(
    input: Omit<QueryCommandInput, "TableName" | "Limit" | "ExclusiveStartKey">,
    startKeyOf: (id: string) => Item,
    limit: number,
    afterId: string | undefined,
    filter: ReturnType<typeof filterOf>,
  ): Promise<Page<Task>> {
    const items: Task[] = [];
    let after = afterId;
    for (let round = 0; round < MAX_QUERIES_PER_PAGE; round++) {
      const result = await client.send(
        new QueryCommand({
          ...input,
          TableName: tableName,
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: after ? startKeyOf(after) : undefined,
          ...(filter
            ? {
                FilterExpression: filter.expression,
                ExpressionAttributeNames: { ...input.ExpressionAttributeNames, ...filter.names },
                ExpressionAttributeValues: {
                  ...input.ExpressionAttributeValues,
                  ...filter.values,
                },
              }
            : {}),
        }),
      );
      items.push(...tasksOf(result.Items));
      const lastKey = result.LastEvaluatedKey;
      if (items.length >= limit) {
        const more = items.length > limit || lastKey !== undefined;
        const page = items.slice(0, limit);
        return { items: page, lastId: more ? (page.at(-1)?.id ?? null) : null };
      }
      if (!lastKey) return { items, lastId: null };
      after = keys.taskIdOf(String(lastKey.pk));
    }
    return { items, lastId: after ?? null };
  }

  async function listByAction(
    owner: string,
    query: TaskFilterQuery & { action: TaskAction },
  ): Promise<Page<Task>> {
    const ownerKey = keys.ownerTasks(owner);
    return queryPage(
      {
        IndexName: "gsi5",
        KeyConditionExpression: "gsi1pk = :owner AND begins_with(gsi5sk, :prefix)",
        ExpressionAttributeValues: {
          ":owner": ownerKey,
          ":prefix": keys.actionPrefix(query.action),
        },
      },
      (id) => ({ ...keys.task(id), gsi1pk: ownerKey, gsi5sk: keys.actionTask(query.action, id) }),
      query.limit,
      query.afterId,
      filterOf({ status: query.status, mode: query.mode }),
    );
  }

  async function listChildren(
    owner: string,
    parentId: string,
    query: TaskFilterQuery,
  ): Promise<Page<Task>> {
    const parentKey = keys.parentTasks(parentId);
    return queryPage(
      {
        IndexName: "gsi4",
        KeyConditionExpression: "gsi4pk = :parent",
        ExpressionAttributeValues: { ":parent": parentKey },
      },
      (id) => ({ ...keys.task(id), gsi4pk: parentKey, gsi4sk: id }),
      query.limit,
      query.afterId,
      // children share their parent's owner; the filter keeps that true whatever id is asked
      filterOf({ owner, status: query.status, action: query.action, mode: query.mode }),
    );
  }

  return { get, getTree, getTimeline, listByOwner, listByAction, listChildren };
}

/** The options of a store part that creates no task (so keeps no retention). */
type PartOptions = Omit<TaskStoreOptions, "retentionDays">;

const tasksOfWith =
  (log: Logger) =>
  (items: Item[] | undefined): Task[] =>
    (items ?? []).flatMap((item) => readTaskItem(item, log) ?? []);

/** TaskStore.create on its own: the creating transaction (task, quota, parent's child list). */
export function createTaskCreator({
  client,
  tableName,
  retentionDays,
}: Omit<TaskStoreOptions, "log">): Pick<TaskStore, "create"> {
  async function create(task: Task): Promise<void> {
    // the owner's slot and day count ride in the creating transaction (docs/operating.md)
    const quota = creationWrites(tableName, task);
    try {
      await sendCreating(client, {
        TransactItems: [
          {
            Put: {
              TableName: tableName,
              Item: { ...taskToItem(task, retentionDays), slot: true },
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
          ...quota,
          ...(task.parentId ? [appendChildToParent(tableName, task)] : []),
        ],
      });
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const exceeded = quotaErrorOf(error.CancellationReasons ?? [], 1, task);
        if (exceeded) throw exceeded;
      }
      throw error;
    }
  }

  return { create };
}

/** TaskStore.advance on its own: the forward-only write of submit, cancel and expired modals. */
export function createTaskAdvancer({
  client,
  tableName,
  log = quietLog,
}: PartOptions): Pick<TaskStore, "advance"> {
  const release = (item: Item | undefined, at: Date) =>
    releaseAfterFinish({ client, tableName, log }, item, at);

  async function advance(
    id: string,
    update: TaskUpdate,
    at: Date,
    options: {
      allowModal?: boolean;
      onlyIfUnbound?: boolean;
      quiet?: boolean;
      leavingModal?: boolean;
    } = {},
  ): Promise<AdvanceOutcome> {
    try {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: tableName,
          ...buildAdvance(
            id,
            update,
            at,
            options.allowModal ?? false,
            options.onlyIfUnbound,
            options.quiet,
            options.leavingModal,
          ),
          ReturnValues: "ALL_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      if (isTerminal(update.status)) await release(Attributes, at);
      return { outcome: "applied", task: itemToTask(Attributes ?? {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const old = error.Item ? unmarshall(error.Item) : null;
        return { outcome: "stale", task: old ? readTaskItem(old, log) : null };
      }
      throw error;
    }
  }

  return { advance };
}

/**
 * The reconciler's sweeps (unfinished and young tasks, expired modals, held slots): reads of
 * the unfinished index and the writes that only the reconciler makes.
 */
export function createTaskSweeps({
  client,
  tableName,
  log = quietLog,
}: PartOptions): Pick<
  TaskStore,
  | "listUnfinished"
  | "listModalsCreatedBefore"
  | "listUnfinishedCreatedSince"
  | "parkModal"
  | "releaseHeldSlots"
> {
  const tasksOf = tasksOfWith(log);
  async function releaseHeldSlots(query: {
    createdBefore: Date;
    limit: number;
    at: Date;
  }): Promise<{ released: string[]; errors: number }> {
    const { Items } = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: "gsi3",
        KeyConditionExpression: "gsi3pk = :release AND gsi3sk < :before",
        ExpressionAttributeValues: {
          ":release": keys.slotRelease(),
          ":before": keys.createdBefore(query.createdBefore),
        },
        Limit: query.limit,
      }),
    );
    const released: string[] = [];
    let errors = 0;
    for (const item of Items ?? []) {
      if (typeof item.id !== "string") continue;
      try {
        const owner = typeof item.owner === "string" ? item.owner : null;
        const status = typeof item.status === "string" ? item.status : null;
        const outcome =
          item.slot && owner && status
            ? await releaseSlot(client, tableName, { id: item.id, owner, status }, query.at)
            : await leaveRelease(client, tableName, item.id);
        if (outcome === "released") released.push(item.id);
      } catch (error) {
        errors++;
        log.error("task slot not released", { taskId: item.id, error: (error as Error).name });
      }
    }
    return { released, errors };
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
    return { items: tasksOf(result.Items), lastId: lastIdOf(result.LastEvaluatedKey) };
  }

  async function listModalsCreatedBefore(query: { before: Date; limit: number }): Promise<Task[]> {
    const result = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: "gsi3",
        KeyConditionExpression: "gsi3pk = :modals AND gsi3sk < :before",
        ExpressionAttributeValues: {
          ":modals": keys.modals(),
          ":before": keys.createdBefore(query.before),
        },
        ScanIndexForward: true,
        Limit: query.limit,
      }),
    );
    return (result.Items ?? []).map(itemToTask);
  }

  async function listUnfinishedCreatedSince(query: {
    since: Date;
    limit: number;
  }): Promise<Task[]> {
    const result = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: "gsi3",
        KeyConditionExpression: "gsi3pk = :unfinished AND gsi3sk >= :since",
        ExpressionAttributeValues: {
          ":unfinished": keys.unfinished(),
          ":since": keys.createdBefore(query.since),
        },
        ScanIndexForward: true,
        Limit: query.limit,
      }),
    );
    return (result.Items ?? []).map(itemToTask);
  }

  async function parkModal(id: string): Promise<"parked" | "stale"> {
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.task(id),
          UpdateExpression: "SET gsi3pk = :modals, gsi3sk = :id",
          ConditionExpression: "#status = :modal AND gsi3pk = :unfinished",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: {
            ":modals": keys.modals(),
            ":id": id,
            ":modal": "MODAL",
            ":unfinished": keys.unfinished(),
          },
        }),
      );
      return "parked";
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return "stale";
      throw error;
    }
  }

  return {
    listUnfinished,
    listModalsCreatedBefore,
    listUnfinishedCreatedSince,
    parkModal,
    releaseHeldSlots,
  };
}

/** The image copier's part of the store: the copies due, and the record of each attempt. */
export function createImageCopyStore({
  client,
  tableName,
  log = quietLog,
}: PartOptions): Pick<
  TaskStore,
  "listImageCopiesDue" | "recordImagesCopied" | "recordImageCopyFailure"
> {
  async function listImageCopiesDue(query: {
    dueBy: Date;
    limit: number;
    after?: string;
  }): Promise<{ items: ImageCopyJob[]; after: string | null }> {
    const startAfter = query.after ? /^.+#([0-9A-Z]{26})$/.exec(query.after) : null;
    const result = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: "gsi6",
        KeyConditionExpression: "gsi6pk = :copy AND gsi6sk <= :dueBy",
        ExpressionAttributeValues: {
          ":copy": keys.imageCopies(),
          ":dueBy": keys.imageCopyDueBy(query.dueBy),
        },
        ExclusiveStartKey: startAfter?.[1]
          ? { ...keys.task(startAfter[1]), gsi6pk: keys.imageCopies(), gsi6sk: query.after }
          : undefined,
        ScanIndexForward: true,
        Limit: query.limit,
      }),
    );
    const items = (result.Items ?? []).flatMap((item) => {
      const task = readTaskItem(item, log);
      const attempts = typeof item.imagesAttempts === "number" ? item.imagesAttempts : 0;
      return task ? [{ task, attempts }] : [];
    });
    const last = result.LastEvaluatedKey?.gsi6sk;
    return { items, after: typeof last === "string" ? last : null };
  }

  /** One copier write: a failed condition (another run recorded it first) is "stale". */
  async function recordCopy(
    input: Omit<UpdateCommandInput, "TableName">,
  ): Promise<"recorded" | "stale"> {
    try {
      await client.send(new UpdateCommand({ TableName: tableName, ...input }));
      return "recorded";
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return "stale";
      throw error;
    }
  }

  return {
    listImageCopiesDue,
    recordImagesCopied: (id, copied, at) => recordCopy(buildImagesCopied(id, copied, at)),
    recordImageCopyFailure: (id, failure, at) => recordCopy(buildImageCopyFailure(id, failure, at)),
  };
}

/** The writes only a submit makes besides creating and advancing: the upstream's name, modal claims. */
export function createSubmitWrites({
  client,
  tableName,
}: PartOptions): Pick<TaskStore, "recordUpstream" | "claimModal"> {
  async function claimModal(
    id: string,
    claim: { owner: string; prompt?: string; at: Date },
  ): Promise<"claimed" | "unclaimable"> {
    try {
      await client.send(new UpdateCommand({ TableName: tableName, ...buildClaimModal(id, claim) }));
      return "claimed";
    } catch (error) {
      // a standard write that meets a running transaction on the item (another modal's claim)
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as { name?: string }).name === "TransactionConflictException"
      ) {
        return "unclaimable";
      }
      throw error;
    }
  }

  async function recordUpstream(id: string, upstreamTaskId: string, upstream: string) {
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.task(id),
          UpdateExpression: "SET #upstream = :upstream",
          ConditionExpression:
            "#upstreamTaskId = :upstreamTaskId AND attribute_not_exists(#upstream)",
          ExpressionAttributeNames: {
            "#upstream": "upstream",
            "#upstreamTaskId": "upstreamTaskId",
          },
          ExpressionAttributeValues: { ":upstream": upstream, ":upstreamTaskId": upstreamTaskId },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }

  return { recordUpstream, claimModal };
}

/**
 * What submitting calls of the task store (core/submit.ts, core/workflow.ts, core/cancel.ts):
 * the submit function's and the imagine queue consumer's bundles then leave out the lists,
 * the reconciler's sweeps and the image copier's writes (docs/performance.md).
 */
export function createSubmitTaskStore(options: TaskStoreOptions): SubmitTaskStore {
  return {
    ...createTaskReader(options),
    ...createTaskCreator(options),
    ...createTaskAdvancer(options),
    ...createSubmitWrites(options),
  };
}

/**
 * What the reconciler calls of the task store (core/reconcile.ts reconcile and pollYoung): its
 * bundle then leaves out task creation, the lists and the submit's writes.
 */
export function createReconcileTaskStore(options: PartOptions): ReconcileTaskStore {
  return {
    ...createTaskReader(options),
    ...createTaskApplier({ ...options, log: options.log ?? quietLog }),
    ...createTaskAdvancer(options),
    ...createTaskSweeps(options),
  };
}

/** What polling named tasks calls (core/reconcile.ts pollTasks): one read and the callback's write. */
export function createTaskPollStore(options: PartOptions): Pick<TaskStore, "get" | "apply"> {
  return {
    ...createTaskReader(options),
    ...createTaskApplier({ ...options, log: options.log ?? quietLog }),
  };
}

/**
 * DynamoDB implementation of TaskStore (every state change is one conditional write), assembled
 * from the parts above: the local stack and the tests use it whole.
 */
export function createTaskStore(options: TaskStoreOptions): TaskStore {
  const { client, tableName, log = quietLog } = options;
  async function listChildIds(owner: string, parentId: string, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let startKey: Item | undefined;
    do {
      const result = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: "gsi4",
          KeyConditionExpression: "gsi4pk = :parent",
          FilterExpression: "#owner = :owner",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":parent": keys.parentTasks(parentId), ":owner": owner },
          ProjectionExpression: "gsi4sk",
          ScanIndexForward: false,
          Limit: limit - ids.length,
          ExclusiveStartKey: startKey,
        }),
      );
      ids.push(...(result.Items ?? []).map((item) => String(item.gsi4sk)));
      startKey = result.LastEvaluatedKey;
    } while (startKey && ids.length < limit);
    return ids;
  }

  return {
    ...createTaskQueries(options),
    ...createTaskCreator(options),
    ...createTaskAdvancer(options),
    ...createTaskApplier({ client, tableName, log }),
    ...createTaskSweeps(options),
    ...createImageCopyStore(options),
    ...createSubmitWrites(options),
    listChildIds,
  };
}

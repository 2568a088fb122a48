import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { TaskResultFields } from "../contract/task.ts";
import * as z from "../contract/z.ts";
import { eventIdOf, eventTypeOf, type OutboxEvent, TaskEventType } from "../core/events.ts";
import { needsImageCopy } from "../core/images.ts";
import type { Logger, TaskStore, TaskUpdate } from "../core/ports.ts";
import { Button, isTerminal, TaskImage, taskRank } from "../core/task.ts";
import { keys } from "./keys.ts";
import { outboxEntry } from "./outbox-entry.ts";
import { releaseSlot } from "./quota-store.ts";
import { createUpdateItemSender } from "./update-item.ts";

/**
 * The write that moves a task forward (buildAdvance), and the one store method the callback
 * needs, made of it alone (createTaskApplier). Kept apart from task-store.ts so that the
 * callback's bundle carries this and not the store's reads, lists and creating transactions
 * (test/infra/bundle-contents.test.ts keeps it so; docs/performance.md, cold start).
 */

type Item = Record<string, unknown>;

/** What each other field falls back to when its stored value does not fit the schema. */
export function fallbackOf(field: string, value: unknown): unknown {
  const entries = (schema: z.ZodMiniType) =>
    Array.isArray(value) ? value.filter((entry) => schema.safeParse(entry).success) : [];
  switch (field) {
    case "progress":
      return typeof value === "number" && Number.isFinite(value)
        ? Math.max(0, Math.min(100, Math.trunc(value)))
        : 0;
    case "imageUrls":
    case "upstreamImageUrls":
    case "videoUrls":
    case "upstreamVideoUrls":
    case "prompts":
      return entries(z.string());
    case "buttons":
      return entries(Button);
    case "images":
      return entries(TaskImage);
    case "webhookEvents":
      return entries(TaskEventType);
    case "metadata":
      return {};
    default:
      return null;
  }
}

const OPTIONAL_FIELDS = [
  "progress",
  "imageUrl",
  "imageUrls",
  "videoUrl",
  "videoUrls",
  "prompts",
  "buttons",
  "failReason",
  "upstreamFailReason",
  "finishedAt",
] as const satisfies readonly (keyof TaskUpdate)[];

/**
 * The update checked against the stored task's schema before it is written: a field that would
 * not fit (a button whose style is 2.5, a null among the URLs) falls back as on read, entry by
 * entry for lists, so nothing written can make the task unreadable.
 */
export function fitUpdate(update: TaskUpdate): TaskUpdate {
  const fitted: TaskUpdate = { ...update };
  for (const field of OPTIONAL_FIELDS) {
    const value = update[field];
    if (value === undefined || TaskResultFields[field].safeParse(value).success) continue;
    Object.assign(fitted, { [field]: fallbackOf(field, value) });
  }
  return fitted;
}

/**
 * The single UpdateItem that applies a TaskUpdate. Its condition is the whole state machine:
 * the item exists, the new rank is strictly higher (or NOT_START → MODAL when allowed), and
 * the task is not bound to another upstream task.
 */
export function buildAdvance(
  id: string,
  given: TaskUpdate,
  at: Date,
  allowModal: boolean,
  onlyIfUnbound = false,
  quiet = false,
  leavingModal = false,
) {
  const update = fitUpdate(given);
  const names: Record<string, string> = {
    "#pk": "pk",
    "#status": "status",
    "#rank": "rank",
    "#updatedAt": "updatedAt",
    "#gsi2sk": "gsi2sk",
    "#steps": "steps",
  };
  const rank = taskRank(update.status, update.progress ?? 0);
  const values: Record<string, unknown> = {
    ":status": update.status,
    ":rank": rank,
    ":step": [rank],
    ":none": [],
    ":updatedAt": at.toISOString(),
    ":gsi2sk": keys.statusTask(update.status, id),
  };
  const sets = [
    "#status = :status",
    "#rank = :rank",
    "#updatedAt = :updatedAt",
    "#gsi2sk = :gsi2sk",
    // every applied state is appended to the task's steps in this same write: the live stream
    // (functions/core/watch.ts) reads them all, however many happened between two of its reads
    "#steps = list_append(if_not_exists(#steps, :none), :step)",
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
  if (leavingModal) {
    // the answer to the modal submitted through this API: the one move down, out of MODAL
    names["#modalSubmittedAt"] = "modalSubmittedAt";
    values[":modal"] = "MODAL";
    condition += " OR (#status = :modal AND attribute_exists(#modalSubmittedAt))";
  }
  condition += ")";
  if (update.status === "MODAL") {
    // once its modal is submitted, no webhook or poll takes a task back into MODAL
    names["#modalSubmittedAt"] = "modalSubmittedAt";
    condition += " AND attribute_not_exists(#modalSubmittedAt)";
  }
  if (update.upstreamTaskId !== undefined) {
    names["#upstreamTaskId"] = "upstreamTaskId";
    values[":upstreamTaskId"] = update.upstreamTaskId;
    sets.push("#upstreamTaskId = if_not_exists(#upstreamTaskId, :upstreamTaskId)");
    condition +=
      " AND (attribute_not_exists(#upstreamTaskId) OR #upstreamTaskId = :upstreamTaskId)";
  }
  if (update.upstream !== undefined) {
    // the submit answer names the upstream that took the job, in the write that binds it
    names["#upstream"] = "upstream";
    values[":upstream"] = update.upstream;
    sets.push("#upstream = :upstream");
  }
  if (onlyIfUnbound) {
    names["#upstreamTaskId"] = "upstreamTaskId";
    condition += " AND attribute_not_exists(#upstreamTaskId)";
  }
  if (needsImageCopy(update)) {
    // The SUCCESS write itself marks the task for the copier (the sparse gsi6, due now): no
    // read, no second request; the copier records its result later without touching status.
    names["#imagesStatus"] = "imagesStatus";
    values[":imagesPending"] = "pending";
    values[":gsi6pk"] = keys.imageCopies();
    values[":gsi6sk"] = keys.imageCopyDue(at, id);
    sets.push("#imagesStatus = :imagesPending", "gsi6pk = :gsi6pk", "gsi6sk = :gsi6sk");
  }
  const eventType = eventTypeOf(update.status);
  if (!quiet && eventType && (eventType !== "task.progress" || update.progress !== undefined)) {
    // The transactional outbox: the event rides in the status change's own write, so a status
    // change without its event (or the reverse) cannot be stored. The dispatcher turns it into
    // deliveries (functions/core/dispatch.ts).
    const progress = isTerminal(update.status) ? 100 : (update.progress ?? 0);
    const event: OutboxEvent = {
      id: eventIdOf(id, update.status, progress),
      type: eventType,
      status: update.status,
      progress,
      at: at.toISOString(),
    };
    names["#outbox"] = "outbox";
    values[":event"] = [outboxEntry(event)];
    values[":due"] = keys.dispatchDue(at, keys.task(id).pk, "TASK");
    sets.push(
      "#outbox = list_append(if_not_exists(#outbox, :none), :event)",
      "gsi7sk = if_not_exists(gsi7sk, :due)",
    );
    if (eventType !== "task.progress") {
      values[":dispatch"] = keys.dispatch();
      sets.push("gsi7pk = :dispatch");
    }
  }
  // into MODAL's own partition while it waits for its owner, back when it moves on; a finished
  // task waits in RELEASE until the write that gives its slot back (releaseSlot) removes it
  values[":gsi3pk"] = isTerminal(update.status)
    ? keys.slotRelease()
    : keys.unfinishedPartition(update.status);
  values[":gsi3sk"] = id;
  sets.push("gsi3pk = :gsi3pk", "gsi3sk = :gsi3sk");
  const expression = `SET ${sets.join(", ")}`;
  return {
    Key: keys.task(id),
    UpdateExpression: expression,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * After a terminal write that applied (`item`: the task as written): the task's slot back,
 * once (see releaseSlot). A failure leaves the task's own write standing: it stays in the
 * RELEASE partition, where the reconciler's next run finds it and gives the slot back
 * (TaskStore.releaseHeldSlots).
 */
export async function releaseAfterFinish(
  deps: { client: DynamoDBDocumentClient; tableName: string; log: Logger },
  item: Item | undefined,
  at: Date,
): Promise<void> {
  if (!item?.slot || typeof item.owner !== "string" || typeof item.status !== "string") return;
  if (typeof item.id !== "string") return;
  try {
    await releaseSlot(
      deps.client,
      deps.tableName,
      { id: item.id, owner: item.owner, status: item.status },
      at,
    );
  } catch (error) {
    deps.log.warn("task slot not released yet", { taskId: item.id, error: (error as Error).name });
  }
}

/** TaskStore.apply on its own: what the callback's webhooks write, and nothing else of the store. */
export function createTaskApplier(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
  log: Logger;
}): Pick<TaskStore, "apply"> {
  const { client, tableName } = deps;
  // every webhook's one write: sent without the SDK's command pipeline (update-item.ts)
  const sendUpdateItem = createUpdateItemSender(client);
  async function apply(id: string, update: TaskUpdate, at: Date): Promise<"applied" | "stale"> {
    try {
      const terminal = isTerminal(update.status);
      const { Attributes } = await sendUpdateItem({
        TableName: tableName,
        ...buildAdvance(id, update, at, false),
        // a finished task gives its slot back: the write tells whose and whether it held one
        ...(terminal ? { ReturnValues: "ALL_NEW" as const } : {}),
      });
      if (terminal) await releaseAfterFinish(deps, Attributes, at);
      return "applied";
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return "stale";
      throw error;
    }
  }
  return { apply };
}

import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  Delivery,
  type DeliveryStore,
  type DispatchWork,
  MAX_LOGGED_ATTEMPTS,
  type SecretVersions,
  type StoredDelivery,
  type WebhookSecretStore,
} from "../core/deliveries.ts";
import type { Logger } from "../core/ports.ts";
import type { Task } from "../core/task.ts";
import { keys } from "./keys.ts";
import { readOutboxEntry } from "./outbox-entry.ts";
import { readTaskItem, ttlOf } from "./task-store.ts";

type Item = Record<string, unknown>;

/** Whether a task item wants task.progress: it then stays in the dispatch index while unfinished. */
export function wantsProgress(task: Task): boolean {
  return task.webhookUrl !== null && task.webhookEvents.includes("task.progress");
}

function itemToDelivery(item: Item): StoredDelivery {
  return {
    ...Delivery.parse(item),
    payload: String(item.payload),
    attemptLimit: Number(item.attemptLimit),
    due: typeof item.gsi7sk === "string" && item.gsi7pk ? item.gsi7sk : null,
    manualPending: item.manualPending === true,
  };
}

function deliveryToItem(delivery: StoredDelivery): Item {
  const { due, manualPending, ...rest } = delivery;
  const key = keys.delivery(delivery.taskId, delivery.target, delivery.id);
  return {
    ...key,
    ...rest,
    ...(due ? { gsi7pk: keys.dispatch(), gsi7sk: due } : {}),
    ...(manualPending ? { manualPending } : {}),
  };
}

/** The dispatch index's sort key of a delivery due at `at`. */
export function deliveryDue(delivery: Pick<Delivery, "taskId" | "target" | "id">, at: Date) {
  const key = keys.delivery(delivery.taskId, delivery.target, delivery.id);
  return keys.dispatchDue(at, key.pk, key.sk);
}

/**
 * An item of the dispatch index as work, or null (logged) when it cannot be read: one bad item
 * is skipped, never the page it is on (it stays in the index; the log names it).
 */
function itemToWork(item: Item, log: Logger): DispatchWork | null {
  if (item.sk === "TASK") {
    const task = readTaskItem(item, log);
    if (!task) return null;
    const outbox = (Array.isArray(item.outbox) ? item.outbox : []).flatMap(
      (entry) => readOutboxEntry(task.id, entry) ?? [],
    );
    return {
      kind: "outbox",
      task,
      outbox,
      wantsProgress: wantsProgress(task),
      webhookStopped: typeof item.webhookStoppedAt === "string",
    };
  }
  try {
    return { kind: "delivery", delivery: itemToDelivery(item) };
  } catch {
    log.warn("stored item skipped: not a delivery", {
      pk: typeof item.pk === "string" ? item.pk : null,
    });
    return null;
  }
}

function isConditionFailure(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException) return true;
  if (error instanceof TransactionCanceledException) {
    return (error.CancellationReasons ?? []).some(
      (r) => r.Code === "ConditionalCheckFailed" || r.Code === "TransactionConflict",
    );
  }
  return (error as { name?: string }).name === "TransactionConflictException";
}

/**
 * The deliveries of a cancelled outbox transaction that failed only because they already
 * exist (the task's own update passed): empty when the task's condition failed, or for any
 * other cancellation.
 */
function alreadyQueued(error: unknown, deliveries: StoredDelivery[]): Set<StoredDelivery> {
  if (!(error instanceof TransactionCanceledException)) return new Set();
  const [taskReason, ...putReasons] = error.CancellationReasons ?? [];
  if (taskReason?.Code && taskReason.Code !== "None") return new Set();
  if (putReasons.some((r) => r.Code && r.Code !== "None" && r.Code !== "ConditionalCheckFailed"))
    return new Set();
  return new Set(deliveries.filter((_, i) => putReasons[i]?.Code === "ConditionalCheckFailed"));
}

/** DynamoDB implementation of DeliveryStore and WebhookSecretStore (the same single table). */
export function createDeliveryStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Where unreadable items are reported (skipped, never thrown); silent when not given. */
  log?: Logger;
  /** TASK_RETENTION_DAYS: a delivery expires with its task (its `ttl`, from the task's creation). */
  retentionDays?: number;
}): DeliveryStore & { secrets: WebhookSecretStore } {
  const { client, tableName } = options;
  const log = options.log ?? { info() {}, warn() {}, error() {} };

  /** One conditional write; a failed condition is "stale". */
  async function conditional(
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName">,
  ) {
    try {
      const { Attributes } = await client.send(
        new UpdateCommand({ TableName: tableName, ...input, ReturnValues: "ALL_NEW" }),
      );
      return Attributes ?? null;
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  const store: DeliveryStore = {
    async listDue({ dueBy, limit, after }) {
      const result = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: "gsi7",
          KeyConditionExpression: "gsi7pk = :dispatch AND gsi7sk <= :dueBy",
          ExpressionAttributeValues: {
            ":dispatch": keys.dispatch(),
            ":dueBy": keys.dispatchDueBy(dueBy),
          },
          ExclusiveStartKey: after,
          ScanIndexForward: true,
          Limit: limit,
        }),
      );
      return {
        items: (result.Items ?? []).flatMap((item) => itemToWork(item, log) ?? []),
        after: (result.LastEvaluatedKey as Record<string, unknown> | undefined) ?? null,
      };
    },

    async getWork(key) {
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
      );
      return Item ? itemToWork(Item, log) : null;
    },

    async queueDeliveries(task, consume, fresh, at) {
      const deliveries: StoredDelivery[] = fresh.map((d) => ({
        ...d,
        due: deliveryDue(d, at),
        manualPending: false,
      }));
      const names: Record<string, string> = { "#outbox": "outbox" };
      const values: Record<string, unknown> = { ":size": consume.outboxSize };
      let update: string;
      if (consume.count >= consume.outboxSize) {
        update = `REMOVE #outbox, gsi7sk${consume.keepIndexed ? "" : ", gsi7pk"}`;
      } else {
        const taken = Array.from({ length: consume.count }, (_, i) => `#outbox[${i}]`);
        update = `REMOVE ${taken.join(", ")}`;
      }
      const condition =
        consume.outboxSize === 0
          ? "attribute_exists(pk) AND (attribute_not_exists(#outbox) OR size(#outbox) = :size)"
          : "attribute_exists(pk) AND size(#outbox) = :size";
      const transact = (puts: StoredDelivery[]) =>
        client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: tableName,
                  Key: keys.task(task.id),
                  UpdateExpression: update,
                  ConditionExpression: condition,
                  ExpressionAttributeNames: names,
                  ExpressionAttributeValues: values,
                },
              },
              ...puts.map((delivery) => ({
                Put: {
                  TableName: tableName,
                  Item: {
                    ...deliveryToItem(delivery),
                    ...ttlOf(task.createdAt, options.retentionDays),
                  },
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              })),
            ],
          }),
        );
      try {
        await transact(deliveries);
        return deliveries;
      } catch (error) {
        // The outbox still holds what it held, but some of its events are already deliveries
        // (the same transition written twice, e.g. by a poll after an upgrade changed the
        // ranks): those are done, and the rest go in without them, so the outbox drains.
        const existing = alreadyQueued(error, deliveries);
        if (existing.size > 0) {
          const rest = deliveries.filter((d) => !existing.has(d));
          try {
            await transact(rest);
            return rest;
          } catch (retryError) {
            if (isConditionFailure(retryError)) return "stale";
            throw retryError;
          }
        }
        if (isConditionFailure(error)) return "stale";
        throw error;
      }
    },

    async claim(delivery, leaseUntil) {
      if (!delivery.due) return null;
      const lease = deliveryDue(delivery, leaseUntil);
      const item = await conditional({
        Key: keys.delivery(delivery.taskId, delivery.target, delivery.id),
        UpdateExpression: "SET gsi7sk = :lease",
        ConditionExpression:
          "#status = :pending AND attemptCount = :count AND gsi7sk = :seen AND gsi7pk = :dispatch",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":lease": lease,
          ":pending": "pending",
          ":count": delivery.attemptCount,
          ":seen": delivery.due,
          ":dispatch": keys.dispatch(),
        },
      });
      return item ? itemToDelivery(item) : null;
    },

    async recordAttempt(delivery, record, at) {
      const attempts = [...delivery.attempts, record.attempt].slice(-MAX_LOGGED_ATTEMPTS);
      const pending = record.status === "pending" && record.nextAttemptAt;
      const values: Record<string, unknown> = {
        ":count": delivery.attemptCount,
        ":next": delivery.attemptCount + 1,
        ":attempts": attempts,
        ":status": record.status,
        ":nextAt": pending ? (record.nextAttemptAt as Date).toISOString() : null,
        ":at": at.toISOString(),
      };
      let update =
        "SET attemptCount = :next, attempts = :attempts, #status = :status, nextAttemptAt = :nextAt, updatedAt = :at";
      if (pending) {
        values[":due"] = deliveryDue(delivery, record.nextAttemptAt as Date);
        update += ", gsi7sk = :due REMOVE manualPending";
      } else {
        update += " REMOVE manualPending, gsi7pk, gsi7sk";
      }
      const item = await conditional({
        Key: keys.delivery(delivery.taskId, delivery.target, delivery.id),
        UpdateExpression: update,
        ConditionExpression: "attemptCount = :count",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: values,
      });
      return item ? "recorded" : "stale";
    },

    async list(taskId, target) {
      const items: Item[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const result = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues: {
              ":pk": keys.task(taskId).pk,
              ":prefix": target ? keys.deliveryPrefix(target) : keys.deliveriesPrefix(),
            },
            ExclusiveStartKey: start,
          }),
        );
        items.push(...(result.Items ?? []));
        start = result.LastEvaluatedKey;
      } while (start);
      return items.map(itemToDelivery).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },

    async get(taskId, target, id) {
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: keys.delivery(taskId, target, id) }),
      );
      return Item ? itemToDelivery(Item) : null;
    },

    async retryNow(owner, taskId, id, at, target = "webhook") {
      const key = keys.delivery(taskId, target, id);
      // read, then one write conditional on what was read (a racing attempt makes it retry)
      for (let round = 0; round < 3; round++) {
        const { Item } = await client.send(
          new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
        );
        if (!Item || Item.owner !== owner) return null;
        const seen = itemToDelivery(Item);
        // a delivery that had ended gets exactly one more attempt; a pending one is due now
        const limit = seen.status === "pending" ? seen.attemptLimit : seen.attemptCount + 1;
        const item = await conditional({
          Key: key,
          UpdateExpression:
            "SET #status = :pending, attemptLimit = :limit, gsi7pk = :dispatch, gsi7sk = :due, nextAttemptAt = :at, updatedAt = :at, manualPending = :true",
          ConditionExpression: "attemptCount = :count AND #status = :seenStatus",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: {
            ":pending": "pending",
            ":limit": limit,
            ":dispatch": keys.dispatch(),
            ":due": keys.dispatchDue(at, key.pk, key.sk),
            ":at": at.toISOString(),
            ":count": seen.attemptCount,
            ":seenStatus": seen.status,
            ":true": true,
          },
        });
        if (item) return itemToDelivery(item);
      }
      return store.get(taskId, target, id);
    },

    async stopWebhook(taskId, at) {
      await client
        .send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.task(taskId),
            UpdateExpression: "SET webhookStoppedAt = if_not_exists(webhookStoppedAt, :at)",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeValues: { ":at": at.toISOString() },
          }),
        )
        .catch((error) => {
          if (!isConditionFailure(error)) throw error;
        });
      // the task's other webhook deliveries still waiting are stopped too (never sent)
      for (const delivery of await store.list(taskId, "webhook")) {
        if (delivery.status !== "pending") continue;
        await conditional({
          Key: keys.delivery(taskId, "webhook", delivery.id),
          UpdateExpression:
            "SET #status = :stopped, nextAttemptAt = :none, updatedAt = :at REMOVE gsi7pk, gsi7sk, manualPending",
          ConditionExpression: "#status = :pending",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: {
            ":stopped": "stopped",
            ":pending": "pending",
            ":none": null,
            ":at": at.toISOString(),
          },
        });
      }
    },
  };

  const secrets: WebhookSecretStore = {
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
        if (isConditionFailure(error)) return "conflict";
        throw error;
      }
    },
  };

  return { ...store, secrets };
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

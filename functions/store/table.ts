/**
 * The single table's shape. functions/store and infra/storage.ts both import this object,
 * so the deployed table and the code that uses it cannot drift apart.
 *
 * - primary key pk/sk: every item (TASK#<id> / TASK, IDEMPOTENCY#<owner>#<key> / KEY, ...)
 * - gsi1 (owner's tasks, newest first): gsi1pk = OWNER#<owner>, gsi1sk = <task id (ULID)>
 * - gsi2 (owner's tasks by status):     gsi1pk = OWNER#<owner>, gsi2sk = <status>#<task id>;
 *   the sort key only needs the status and the id, so a webhook's single write can move it
 *   without knowing (or reading) the owner.
 * - gsi3 (sparse: unfinished tasks):    gsi3pk = UNFINISHED, gsi3sk = <task id>; MODAL for
 *   tasks waiting for their owner; a terminal status moves the task to RELEASE, and the write
 *   that gives its slot back removes the attributes, so the reconciler's cost follows the
 *   unfinished set (and slots not yet back), not the table.
 * - gsi4 (sparse: a task's children):   gsi4pk = PARENT#<parent id>, gsi4sk = <task id>; only
 *   tasks started from a button (actions) have it. `GET /v1/tasks/{id}` reads `children` here.
 *   Also the table's API keys (APIKEY#<id> / APIKEY): gsi4pk = APIKEYS,
 *   gsi4sk = <owner>#<createdAt>#<id>, for `GET /v1/admin/keys` (a few items, rarely read).
 * - gsi5 (owner's tasks by action):     gsi1pk = OWNER#<owner>, gsi5sk = <action>#<task id>;
 *   written at creation only (a task's action never changes), for `GET /v1/tasks?action=`.
 * - gsi6 (sparse: media to copy):     gsi6pk = COPY, gsi6sk = <when the next attempt is due>#<id>;
 *   set by the SUCCESS write of a task with an image or video, moved forward after a failed
 *   attempt, removed once the copy is recorded or given up (docs/images.md).
 * - gsi7 (sparse: work for the dispatcher): gsi7pk = DISPATCH, gsi7sk = <when it is due>#<pk>
 *   - a task item whose status change queued events (its `outbox`): the change sets both in
 *     the same write (docs/webhooks.md). Tasks that want task.progress carry
 *     gsi7pk from creation, so a progress write sets only gsi7sk and other tasks' progress
 *     writes put nothing in the index.
 *   - a delivery item (pk TASK#<id>, sk DELIVERY#...) until it is delivered, dead or stopped,
 *     due at its next attempt.
 * - ttl: epoch seconds; DynamoDB deletes expired items: idempotency records (a day), revoked API keys (30 days), and every
 *   item of a task (the task, its deliveries) TASK_RETENTION_DAYS after the task was created,
 *   set in each item's own creating write (expiresAtOf).
 */
export const TABLE = {
  partitionKey: "pk",
  sortKey: "sk",
  ttlAttribute: "ttl",
  attributes: {
    pk: "string",
    sk: "string",
    gsi1pk: "string",
    gsi1sk: "string",
    gsi2sk: "string",
    gsi3pk: "string",
    gsi3sk: "string",
    gsi4pk: "string",
    gsi4sk: "string",
    gsi5sk: "string",
    gsi6pk: "string",
    gsi6sk: "string",
    gsi7pk: "string",
    gsi7sk: "string",
  },
  globalIndexes: {
    gsi1: { hashKey: "gsi1pk", rangeKey: "gsi1sk" },
    gsi2: { hashKey: "gsi1pk", rangeKey: "gsi2sk" },
    gsi3: { hashKey: "gsi3pk", rangeKey: "gsi3sk" },
    gsi4: { hashKey: "gsi4pk", rangeKey: "gsi4sk" },
    gsi5: { hashKey: "gsi1pk", rangeKey: "gsi5sk" },
    gsi6: { hashKey: "gsi6pk", rangeKey: "gsi6sk" },
    gsi7: { hashKey: "gsi7pk", rangeKey: "gsi7sk" },
  },
} as const;

export type TableIndexName = keyof typeof TABLE.globalIndexes;

/**
 * The table stream records the dispatcher is triggered by (a Lambda event filter): writes that
 * leave an item in the dispatch index (gsi7), i.e. an outbox to turn into deliveries or a
 * delivery due. Other writes (most of them) never invoke it.
 */
export const DISPATCH_STREAM_FILTER = {
  eventName: ["INSERT", "MODIFY"],
  dynamodb: {
    NewImage: {
      gsi7pk: { S: ["DISPATCH"] },
      gsi7sk: { S: [{ exists: true }] },
    },
  },
} as const;

const DAY_SECONDS = 24 * 60 * 60;

/**
 * The `ttl` (epoch seconds) of every item of a task created at `createdAt`, kept for
 * `retentionDays`; undefined (no ttl: kept) when retention is 0 or not given.
 */
export function expiresAtOf(createdAt: string, retentionDays: number | undefined) {
  if (!retentionDays) return undefined;
  return Math.floor(Date.parse(createdAt) / 1000) + retentionDays * DAY_SECONDS;
}

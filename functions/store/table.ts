/**
 * The single table's shape. functions/store and infra/storage.ts both import this object,
 * so the deployed table and the code that uses it cannot drift apart.
 *
 * - primary key pk/sk: every item (TASK#<id> / TASK, IDEMPOTENCY#<owner>#<key> / KEY, ...)
 * - gsi1 (owner's tasks, newest first): gsi1pk = OWNER#<owner>, gsi1sk = <task id (ULID)>
 * - gsi2 (owner's tasks by status):     gsi1pk = OWNER#<owner>, gsi2sk = <status>#<task id>;
 *   the sort key only needs the status and the id, so a webhook's single write can move it
 *   without knowing (or reading) the owner.
 * - gsi3 (sparse: unfinished tasks):    gsi3pk = UNFINISHED#<shard>, gsi3sk = <task id>;
 *   removed when the task reaches a terminal status, so the reconciler's cost follows the
 *   unfinished set, not the table.
 * - gsi4 (sparse: a task's children):   gsi4pk = PARENT#<parent id>, gsi4sk = <task id>; only
 *   tasks started from a button (actions) have it. `GET /v1/tasks/{id}` reads `children` here.
 * - gsi5 (owner's tasks by action):     gsi1pk = OWNER#<owner>, gsi5sk = <action>#<task id>;
 *   written at creation only (a task's action never changes), for `GET /v1/tasks?action=`.
 * - gsi6 (sparse: media to copy):     gsi6pk = COPY, gsi6sk = <when the next attempt is due>#<id>;
 *   set by the SUCCESS write of a task with an image or video, moved forward after a failed
 *   attempt, removed once the copy is recorded or given up (README "Images that last").
 * - ttl: epoch seconds; DynamoDB deletes expired items (idempotency records).
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
  },
  globalIndexes: {
    gsi1: { hashKey: "gsi1pk", rangeKey: "gsi1sk" },
    gsi2: { hashKey: "gsi1pk", rangeKey: "gsi2sk" },
    gsi3: { hashKey: "gsi3pk", rangeKey: "gsi3sk" },
    gsi4: { hashKey: "gsi4pk", rangeKey: "gsi4sk" },
    gsi5: { hashKey: "gsi1pk", rangeKey: "gsi5sk" },
    gsi6: { hashKey: "gsi6pk", rangeKey: "gsi6sk" },
  },
} as const;

export type TableIndexName = keyof typeof TABLE.globalIndexes;

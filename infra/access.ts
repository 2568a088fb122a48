/**
 * Least privilege (issue 17, point 7): every function gets exactly the AWS calls its code makes,
 * as explicit `permissions`, and links carry values only.
 *
 * SST's own links grant `dynamodb:*`, `s3:*`, `events:*` and `sqs:*` on whatever is linked. The
 * `Linkable.wrap` calls below replace those built-in link definitions for the four component
 * types paperboat links, keeping the properties functions/platform.ts reads (`Resource.Table.name`,
 * `Resource.Images.name`, `Resource.Events.name`, `Resource.ImagineQueue.url`) and dropping the
 * permissions. Secrets and the API link no permissions anyway. The stream and queue consumers'
 * own read permissions (GetRecords, ReceiveMessage, DeleteMessage ...) are added by SST's
 * subscriber components, not here.
 *
 * The actions per function come from the store methods each one calls (functions/store/*):
 * - GetItem: get, getTree, getWork, secrets.get, retryNow's read;
 * - Query: listByOwner, listByAction, listChildren, listUnfinished, listImageCopiesDue, listDue,
 *   deliveries.list, endpoints.list (the index queries need `<table>/index/*`); the young
 *   polls' get by id;
 * - PutItem: create, the idempotency key, queued deliveries, secrets.rotate, endpoints.create;
 * - UpdateItem: apply, advance, claimModal, idempotency completion, claims and attempts,
 *   image copy records, the parent's child list inside create's transaction, and an
 *   endpoint's count and its deletion mark (endpoints.create/remove: no item is deleted); the
 *   owner's quota item and day of usage inside create's transaction, and a finished task's slot
 *   given back after apply/advance (functions/store/quota-store.ts); an owner's limits (admin).
 * - Query: also an owner's days of usage (read: `GET /v1/usage`, admin: `GET /v1/admin/usage`).
 * - an API key (functions/store/api-key-store.ts): get and touch (lastUsedAt) by every function
 *   that authenticates owners; create, list and revoke (an UpdateItem) by admin.
 * TransactWriteItems has no IAM action of its own: each Put/Update inside it needs PutItem/
 * UpdateItem. No function may Scan, delete items, or touch the table's definition.
 */

sst.Linkable.wrap(sst.aws.Dynamo, (table) => ({ properties: { name: table.name } }));
sst.Linkable.wrap(sst.aws.Bucket, (bucket) => ({ properties: { name: bucket.name } }));
sst.Linkable.wrap(sst.aws.Bus, (bus) => ({ properties: { name: bus.name, arn: bus.arn } }));
sst.Linkable.wrap(sst.aws.Queue, (queue) => ({ properties: { url: queue.url } }));

type DynamoAction = "GetItem" | "Query" | "PutItem" | "UpdateItem";

/** The table actions each function's code uses. */
export const TABLE_ACCESS = {
  /** create (+ the parent's child list), get, advance, claimModal, the idempotency key. */
  submit: ["GetItem", "PutItem", "UpdateItem"],
  /** apply: one conditional write to the task item, nothing read. */
  callback: ["UpdateItem"],
  /** get, getTree, listByOwner, listByAction, listChildren; a table key's get and touch. */
  read: ["GetItem", "Query", "UpdateItem"],
  /** deliveries.list, retryNow, secrets.get and secrets.rotate; endpoints create, list, remove. */
  webhooks: ["GetItem", "Query", "PutItem", "UpdateItem"],
  /** getTimeline (one GetItem per read of a live stream); a table key's get and touch. */
  stream: ["GetItem", "UpdateItem"],
  /**
   * listDue, getWork, queueDeliveries, claim, recordAttempt, stopWebhook, secrets.get, and
   * endpoints.list (an owner's account endpoints, once per owner per run).
   */
  dispatch: ["GetItem", "Query", "PutItem", "UpdateItem"],
  /** Owners' API keys: create, list, revoke (a write: revoked items expire by TTL). */
  admin: ["PutItem", "Query", "UpdateItem"],
  /** listUnfinished, listImageCopiesDue, apply, advance, the image copy records. */
  reconcile: ["Query", "UpdateItem"],
  /** get (the task each young poll names), apply. */
  youngPolls: ["GetItem", "UpdateItem"],
} as const satisfies Record<string, readonly DynamoAction[]>;

/** One IAM statement, as sst.aws.Function's `permissions` takes it. */
export interface Statement {
  actions: string[];
  resources: $util.Input<string>[];
}

/** The table's item actions on the table, Query also on its indexes. */
export function tableGrant(table: sst.aws.Dynamo, actions: readonly DynamoAction[]): Statement[] {
  const items = actions.filter((a) => a !== "Query");
  const statements: Statement[] = [];
  if (items.length > 0) {
    statements.push({ actions: items.map((a) => `dynamodb:${a}`), resources: [table.arn] });
  }
  if (actions.includes("Query")) {
    statements.push({
      actions: ["dynamodb:Query"],
      resources: [table.arn, $interpolate`${table.arn}/index/*`],
    });
  }
  return statements;
}

/**
 * Objects of the image bucket (not the bucket itself: nothing lists or configures it), all of
 * them or those under one key prefix (read writes owners' uploads, under `uploads/`, only).
 */
export function bucketGrant(
  bucket: sst.aws.Bucket,
  actions: ("GetObject" | "PutObject")[],
  prefix = "",
) {
  return {
    actions: actions.map((a) => `s3:${a}`),
    resources: [$interpolate`${bucket.arn}/${prefix}*`],
  } satisfies Statement;
}

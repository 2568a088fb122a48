import { IMAGE_KEY_PREFIX, UPLOAD_KEY_PREFIX } from "../functions/core/image-keys.ts";
import { LINKS } from "../functions/platform.ts";
import { TABLE } from "../functions/store/table.ts";
// first: its Linkable.wrap calls must run before any linkable component is created
import "./access.ts";

/**
 * The single table, built from the same TABLE definition functions/store uses, so the deployed
 * keys, indexes and TTL attribute cannot drift from the code. On-demand billing (SST's default):
 * a task costs a handful of writes, and an idle stage costs nothing.
 *
 * Protected stages (`$app.protect`, see sst.config.ts) also get deletion protection and
 * point-in-time recovery; removal "retain" already keeps the table on `sst remove`. Its stream
 * (new images) feeds the dispatcher of outbound webhooks and bus events (infra/events.ts).
 */
export const table = new sst.aws.Dynamo(LINKS.TABLE_NAME.resource, {
  fields: TABLE.attributes,
  primaryIndex: { hashKey: TABLE.partitionKey, rangeKey: TABLE.sortKey },
  globalIndexes: TABLE.globalIndexes,
  ttl: TABLE.ttlAttribute,
  // the dispatcher (infra/events.ts) is triggered by the writes that queue events
  stream: "new-image",
  deletionProtection: $app.protect,
  transform: {
    table: { pointInTimeRecovery: { enabled: $app.protect } },
  },
});

/**
 * How long durable image copies are kept, in days, per stage (docs/images.md):
 * `npx sst secret set ImageRetentionDays 90 --stage prod`, then deploy. 0 keeps them forever.
 * Kept with the stage's secrets rather than read from the shell at deploy time, so a deploy
 * from another machine cannot silently shorten it (objects past a shortened rule are deleted).
 */
export const imageRetentionDays = new sst.Secret("ImageRetentionDays", "365");

/** A retention setting as whole days (0 = keep forever); refuses anything else, naming it. */
function retentionDaysOf(name: string, raw: string): number {
  const days = Number(raw.trim());
  if (!/^\d{1,5}$/.test(raw.trim()) || days > 36_500) {
    throw new Error(
      `paperboat: ${name} must be a whole number of days (0 = keep forever), not "${raw}"`,
    );
  }
  return days;
}

/**
 * TASK_RETENTION_DAYS of the stage: a plain environment value at deploy time (default 90; 0
 * keeps tasks). The functions that create a task's items get it (their DynamoDB `ttl`), and the
 * bucket expires the task's copies after as many days (docs/configuration.md).
 */
export const TASK_RETENTION_DAYS = retentionDaysOf(
  "TASK_RETENTION_DAYS",
  process.env.TASK_RETENTION_DAYS ?? "90",
);

function expiryRule(id: string, days: number, prefix = IMAGE_KEY_PREFIX) {
  if (days === 0) return [];
  const expiresIn = `${days} ${days === 1 ? "day" : "days"}` as const;
  return [{ id, prefix, expiresIn }];
}

/**
 * The bucket's lifecycle rules: copies expire after ImageRetentionDays (`raw`) and with their
 * task after TASK_RETENTION_DAYS; where both apply, S3 applies the sooner.
 */
function lifecycleRules(raw: string) {
  return [
    ...expiryRule("expire-task-images", retentionDaysOf("ImageRetentionDays", raw)),
    ...expiryRule("expire-with-tasks", TASK_RETENTION_DAYS),
    // owners' uploads: their links end then too (functions/core/uploads.ts)
    ...expiryRule("expire-uploads", TASK_RETENTION_DAYS, UPLOAD_KEY_PREFIX),
  ];
}

/**
 * Durable copies of every task's images (grid, quadrants, thumbnail, video), under
 * `tasks/<id>/`. Private: nothing is public, readers get S3 presigned GET URLs, signed by the
 * read function as it answers a task. The reconciler writes (s3:PutObject), read signs
 * (s3:GetObject): both link it for its name, and get those calls only (infra/access.ts). CORS is
 * off: `<img>` and `<video>` need none. Objects expire after ImageRetentionDays (an S3 lifecycle
 * rule). On protected stages a removal never empties it (no forceDestroy), on top of "retain".
 */
export const images = new sst.aws.Bucket(LINKS.IMAGE_BUCKET.resource, {
  cors: false,
  lifecycle: imageRetentionDays.value.apply(lifecycleRules),
  transform: { bucket: { forceDestroy: !$app.protect } },
});

import { LINKS } from "../functions/platform.ts";
import { TABLE } from "../functions/store/table.ts";

/**
 * The single table, built from the same TABLE definition functions/store uses, so the deployed
 * keys, indexes and TTL attribute cannot drift from the code. On-demand billing (SST's default):
 * a task costs a handful of writes, and an idle stage costs nothing.
 *
 * Protected stages (`$app.protect`, see sst.config.ts) also get deletion protection and
 * point-in-time recovery; removal "retain" already keeps the table on `sst remove`.
 */
export const table = new sst.aws.Dynamo(LINKS.TABLE_NAME.resource, {
  fields: TABLE.attributes,
  primaryIndex: { hashKey: TABLE.partitionKey, rangeKey: TABLE.sortKey },
  globalIndexes: TABLE.globalIndexes,
  ttl: TABLE.ttlAttribute,
  deletionProtection: $app.protect,
  transform: {
    table: { pointInTimeRecovery: { enabled: $app.protect } },
  },
});

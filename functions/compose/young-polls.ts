import { pollTasks } from "../core/reconcile.ts";
import { createDocumentClient, systemClock } from "../deps.ts";
import { loggerFor } from "../log.ts";
import type { QueueRecord } from "../queue/consumer.ts";
import { consumeYoungPolls } from "../queue/young-polls.ts";
import { createTaskPollStore } from "../store/task-store.ts";
import type { Overrides, SettingsOf } from "./settings.ts";
import { upstreamFor } from "./upstream.ts";

/**
 * The young-polls queue's consumer (AWS): polls the tasks its delayed messages name
 * (functions/queue/young-polls.ts, core/reconcile.ts pollTasks).
 */
export function composeYoungPollConsumer(
  config: SettingsOf<"youngPolls">,
  overrides: Overrides = {},
): (records: QueueRecord[]) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const log = loggerFor(config, overrides, "young-polls");
  const deps = {
    store: createTaskPollStore({
      client: createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT }),
      tableName: config.TABLE_NAME,
      log,
    }),
    upstream: upstreamFor(config, overrides, log),
    clock: overrides.clock ?? systemClock,
    log,
  };
  return (records) => consumeYoungPolls({ pollTasks: (ids) => pollTasks(deps, ids), log }, records);
}

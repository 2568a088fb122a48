import type { Config } from "../config.ts";
import type { Logger } from "../core/ports.ts";
import {
  pollYoung,
  type ReconcileReport,
  reconcile,
  type YoungPollReport,
} from "../core/reconcile.ts";
import { createDocumentClient, systemClock } from "../deps.ts";
import { loggerFor } from "../log.ts";
import { createReconcileTaskStore } from "../store/task-store.ts";
import type { ImageSettingKey, Overrides, SettingsOf } from "./settings.ts";
import { upstreamFor } from "./upstream.ts";

/** The task store of the reconciler's runs. */
function storeFor(
  config: { TABLE_NAME: string; DYNAMODB_ENDPOINT?: string },
  log: Logger,
  overrides: Overrides,
) {
  return createReconcileTaskStore({
    client: overrides.client ?? createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT }),
    tableName: config.TABLE_NAME,
    log,
  });
}

/** The reconciler's settings; the upstream's auth style and the modal deadline have defaults. */
export type ReconcilerConfig = Omit<
  SettingsOf<"reconcile">,
  ImageSettingKey | "MJ_API_AUTH" | "MODAL_DEADLINE_SECONDS"
> &
  Partial<Pick<Config, "MJ_API_AUTH" | "MODAL_DEADLINE_SECONDS">>;

/** The reconciler as one callable run (a scheduled Lambda, or an interval locally). */
export function composeReconciler(
  config: ReconcilerConfig,
  overrides: Overrides = {},
): (run?: { timeBudgetMs?: number; batchSize?: number }) => Promise<ReconcileReport> {
  const log = loggerFor(config, overrides, "reconcile");
  const deps = {
    store: storeFor(config, log, overrides),
    upstream: upstreamFor(config, overrides, log),
    clock: overrides.clock ?? systemClock,
    log,
  };
  return (run = {}) =>
    reconcile(deps, {
      deadlineSeconds: config.TASK_DEADLINE_SECONDS,
      modalDeadlineSeconds: config.MODAL_DEADLINE_SECONDS,
      ...run,
    });
}

/**
 * The polls soon after a submit (core/reconcile.ts pollYoung) as one callable tick; it
 * remembers when it last ran, so each task is asked about once per point of its schedule.
 */
export function composeYoungPoller(
  config: ReconcilerConfig,
  overrides: Overrides = {},
): () => Promise<YoungPollReport> {
  const clock = overrides.clock ?? systemClock;
  const log = loggerFor(config, overrides, "reconcile");
  const deps = {
    store: storeFor(config, log, overrides),
    upstream: upstreamFor(config, overrides, log),
    clock,
    log,
  };
  let since = new Date(clock.now().getTime() - 10_000);
  return async () => {
    const now = clock.now();
    const report = await pollYoung(deps, { since });
    since = now;
    return report;
  };
}

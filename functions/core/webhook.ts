import { updateFromUpstream } from "./from-upstream.ts";
import type { Clock, Logger, TaskStore } from "./ports.ts";
import type { UpstreamTask } from "./upstream-port.ts";

export interface WebhookDeps {
  store: Pick<TaskStore, "apply">;
  clock: Clock;
  log: Logger;
}

export type WebhookResult = "applied" | "stale" | "ignored";

/**
 * Applies one upstream webhook whose state token verified (`taskId`, the task it names) and
 * whose body parsed as an upstream task (the callback adapter does both, in that order). The
 * update is ONE conditional write that only moves the task forward, so late, duplicate and
 * out-of-order webhooks change nothing.
 */
export async function applyWebhook(
  deps: WebhookDeps,
  taskId: string,
  upstream: UpstreamTask,
): Promise<WebhookResult> {
  const now = deps.clock.now();
  const update = updateFromUpstream(upstream, now);
  if (!update) {
    deps.log.warn("webhook with unknown status ignored", {
      taskId,
      upstreamTaskId: upstream.id,
    });
    return "ignored";
  }
  // one conditional write, nothing read back: the webhook only needs to know if it applied
  const outcome = await deps.store.apply(taskId, update, now);
  deps.log.info("webhook", {
    taskId,
    upstreamTaskId: upstream.id,
    action: upstream.action,
    status: update.status,
    progress: update.progress,
    failReason: update.failReason,
    result: outcome,
  });
  return outcome;
}

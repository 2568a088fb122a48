import { UnauthorizedError, ValidationError } from "./errors.ts";
import { updateFromUpstream } from "./from-upstream.ts";
import type { Clock, Logger, TaskStore } from "./ports.ts";
import { verifyStateToken } from "./state-token.ts";
import type { ParsedUpstreamTask } from "./upstream-port.ts";

export interface WebhookDeps {
  store: TaskStore;
  clock: Clock;
  log: Logger;
  callbackSecret: string;
  /** The upstream adapter's reading of a webhook body (functions/upstream/schemas.ts). */
  parseUpstreamTask: (body: unknown) => ParsedUpstreamTask;
}

export type WebhookResult = "applied" | "stale" | "ignored";

/**
 * Applies one upstream webhook. The signed `state` is checked first (constant time) and
 * nothing touches the store unless it verifies; the update is then ONE conditional write that
 * only moves the task forward, so late, duplicate and out-of-order webhooks change nothing.
 */
export async function applyWebhook(deps: WebhookDeps, body: unknown): Promise<WebhookResult> {
  const state =
    typeof body === "object" && body !== null ? (body as { state?: unknown }).state : undefined;
  const taskId = verifyStateToken(deps.callbackSecret, state);
  if (!taskId) throw new UnauthorizedError("The webhook's state token does not verify.");

  const parsed = deps.parseUpstreamTask(body);
  if (!parsed.ok) {
    throw new ValidationError(parsed.issues, "The webhook body is not an upstream task.");
  }
  const now = deps.clock.now();
  const update = updateFromUpstream(parsed.task, now);
  if (!update) {
    deps.log.warn("webhook with unknown status ignored", {
      taskId,
      upstreamTaskId: parsed.task.id,
    });
    return "ignored";
  }
  // one conditional write, nothing read back: the webhook only needs to know if it applied
  const outcome = await deps.store.apply(taskId, update, now);
  deps.log.info("webhook", {
    taskId,
    upstreamTaskId: parsed.task.id,
    action: parsed.task.action,
    status: update.status,
    progress: update.progress,
    failReason: update.failReason,
    result: outcome,
  });
  return outcome;
}

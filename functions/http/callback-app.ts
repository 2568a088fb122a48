import { BODY_LIMITS } from "../contract/limits.ts";
import type { WebhookAnswer } from "../contract/service.ts";
import { UnauthorizedError, ValidationError } from "../core/errors.ts";
import type { Clock, Logger, TaskStore } from "../core/ports.ts";
import { verifyStateToken } from "../core/state-token.ts";
import type { ParsedUpstreamTask } from "../core/upstream-port.ts";
import { applyWebhook } from "../core/webhook.ts";
import { addToLogScope } from "../log.ts";
import { CALLBACK_PATH } from "../routes.ts";
import { parseUpstreamTask } from "../upstream/parse.ts";
import { createBaseApp } from "./base.ts";
import { limitBody, readJson } from "./body.ts";

export interface CallbackAppDeps {
  store: Pick<TaskStore, "apply">;
  clock: Clock;
  log: Logger;
  callbackSecret: string;
  /** How a webhook body is read; default the upstream adapter's (functions/upstream/parse.ts). */
  parseUpstreamTask?: (body: unknown) => ParsedUpstreamTask;
}

/**
 * The callback function: the upstream's webhooks. No bearer key: the signed `state` is the
 * credential, checked (constant time) before the body is parsed as an upstream task, so a
 * request without a valid token costs one HMAC and touches nothing.
 */
export function createCallbackApp(deps: CallbackAppDeps) {
  const parse = deps.parseUpstreamTask ?? parseUpstreamTask;
  const app = createBaseApp(deps.log);
  app.post(CALLBACK_PATH, limitBody(BODY_LIMITS["POST /hooks/midjourney"]), async (c) => {
    const body = await readJson(c);
    const state =
      typeof body === "object" && body !== null ? (body as { state?: unknown }).state : undefined;
    const taskId = verifyStateToken(deps.callbackSecret, state);
    if (!taskId) throw new UnauthorizedError("The webhook's state token does not verify.");
    addToLogScope({ taskId });
    const parsed = parse(body);
    if (!parsed.ok) {
      throw new ValidationError(parsed.issues, "The webhook body is not an upstream task.");
    }
    const result = await applyWebhook(deps, taskId, parsed.task);
    return c.json({ result } satisfies WebhookAnswer, 200);
  });
  return app;
}

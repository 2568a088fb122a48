import type { Clock, Logger, TaskStore } from "../core/ports.ts";
import type { ParsedUpstreamTask } from "../core/upstream-port.ts";
import { applyWebhook } from "../core/webhook.ts";
import { parseUpstreamTask } from "../upstream/parse.ts";
import { createBaseApp } from "./base.ts";
import { limitBody, readJson } from "./validate.ts";

export interface CallbackAppDeps {
  store: TaskStore;
  clock: Clock;
  log: Logger;
  callbackSecret: string;
  /** How a webhook body is read; default the upstream adapter's (functions/upstream/parse.ts). */
  parseUpstreamTask?: (body: unknown) => ParsedUpstreamTask;
}

/** Upstream task JSON is a few KB; describe prompts and buttons included, 256 KiB is ample. */
export const CALLBACK_LIMIT = 256 * 1024;

/** The callback function: the upstream's webhooks. No bearer key: the signed `state` is the credential. */
export function createCallbackApp(deps: CallbackAppDeps) {
  const app = createBaseApp(deps.log);
  app.post("/hooks/midjourney", limitBody(CALLBACK_LIMIT), async (c) => {
    const result = await applyWebhook(
      { ...deps, parseUpstreamTask: deps.parseUpstreamTask ?? parseUpstreamTask },
      await readJson(c),
    );
    return c.json({ result }, 200);
  });
  return app;
}

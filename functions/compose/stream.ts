import { createStreamApp } from "../http/stream-app.ts";
import type { Overrides, SettingsOf } from "./settings.ts";
import { taskViewDepsFor } from "./task-views.ts";

/** The live task stream alone (functions/lambda/stream.ts: a response-streaming function URL). */
export function composeStreamApp(config: SettingsOf<"stream">, overrides: Overrides = {}) {
  return createStreamApp(taskViewDepsFor(config, overrides, "stream"));
}

import * as z from "./z.ts";

/** The events a task's transitions make (docs/webhooks.md). */
export const TaskEventType = /* @__PURE__ */ z.onDemand(() =>
  z.enum(["task.succeeded", "task.failed", "task.modal", "task.progress"]),
);
export type TaskEventType = z.infer<typeof TaskEventType>;

import { TaskEventType } from "../contract/events.ts";
import type { TaskEvent } from "../contract/task.ts";
import * as z from "../contract/z.ts";
import type { Task, TaskStatus } from "./task.ts";

/**
 * The events a task's transitions make (docs/webhooks.md). A task reaches each
 * status once (statuses only move forward, see taskRank), so one transition makes at most one
 * event, and its id is derived from the transition itself: the same id however often the write
 * that recorded it is retried, and across every delivery attempt (`webhook-id`). Their wire
 * shapes (the event types, the body we POST) live in functions/contract/.
 */
export { type TaskEvent, TaskEventType };

/** What a webhookUrl gets unless the submit names `webhookEvents`. */
export const DEFAULT_WEBHOOK_EVENTS: readonly TaskEventType[] = [
  "task.succeeded",
  "task.failed",
  "task.modal",
];

/** The event a move to `status` makes, or null (NOT_START and SUBMITTED make none). */
export function eventTypeOf(status: TaskStatus): TaskEventType | null {
  switch (status) {
    case "SUCCESS":
      return "task.succeeded";
    case "FAILURE":
    case "CANCEL":
      return "task.failed";
    case "MODAL":
      return "task.modal";
    case "IN_PROGRESS":
      return "task.progress";
    default:
      return null;
  }
}

/** `evt_<task id>_<status>[_<progress>]`: unique per transition, stable across retries. */
export function eventIdOf(taskId: string, status: TaskStatus, progress: number): string {
  return status === "IN_PROGRESS"
    ? `evt_${taskId}_${status}_${Math.trunc(progress)}`
    : `evt_${taskId}_${status}`;
}

/**
 * An event as the status change wrote it into the task's outbox (in the same write): enough to
 * build the delivery later, without the write having read the task.
 */
export const OutboxEvent = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    id: z.string(),
    type: z.built(TaskEventType),
    status: z.string(),
    progress: z.number(),
    at: z.string(),
  }),
);
export type OutboxEvent = z.infer<typeof OutboxEvent>;

/**
 * The event as delivered: the task as it stood when the event was queued for delivery, with the
 * status and progress of the transition itself (a progress event delivered after the task moved
 * on still says the progress it announces).
 */
export function taskEvent(task: Task, event: OutboxEvent): TaskEvent {
  return {
    id: event.id,
    type: event.type,
    timestamp: event.at,
    data: {
      ...task,
      status: event.status as TaskStatus,
      progress: event.progress,
    },
  };
}

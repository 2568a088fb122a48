import { eventIdOf, eventTypeOf, OutboxEvent } from "../core/events.ts";
import type { TaskStatus } from "../core/task.ts";

/**
 * An outbox event as a status change's write stores it in the task's item: one string,
 * `<status> <progress> <at>`. Its id and type follow from the task and the transition
 * (eventIdOf, eventTypeOf), so they are not stored. A string where a map of five attributes
 * used to be: every webhook's write carries one, and the item keeps one per progress step until
 * the dispatcher takes them (DynamoDB Local spent ~15% more CPU per webhook on the map).
 */
export function outboxEntry(event: OutboxEvent): string {
  return `${event.status} ${event.progress} ${event.at}`;
}

/**
 * The event an outbox entry of task `taskId` holds, or null when it cannot be read. Items
 * written before entries were strings hold the event as a map: still read.
 */
export function readOutboxEntry(taskId: string, entry: unknown): OutboxEvent | null {
  if (typeof entry !== "string") {
    const parsed = OutboxEvent.safeParse(entry);
    return parsed.success ? parsed.data : null;
  }
  const [status = "", progressText = "", at = "", ...rest] = entry.split(" ");
  const type = eventTypeOf(status as TaskStatus);
  const progress = Number(progressText);
  if (!type || rest.length > 0 || !at || progressText === "" || !Number.isFinite(progress)) {
    return null;
  }
  return { id: eventIdOf(taskId, status as TaskStatus, progress), type, status, progress, at };
}

import type { Logger } from "../core/ports.ts";
import type { YoungPollReport } from "../core/reconcile.ts";
import type { QueueRecord } from "./consumer.ts";

/**
 * Young polls on AWS (docs/architecture.md): the submit function sends one SQS message per
 * YOUNG_POLL_AGES point (sqs-actions.ts createYoungPollScheduler), each with that many seconds of DelaySeconds, to the young-polls queue;
 * its consumer polls the task each names. One SendMessageBatch per submit, no state, no
 * schedules to create or delete (SQS delays up to 15 minutes; the last poll is at 40 s), and a
 * lost message only skips one poll, which the regular reconcile makes up.
 */
export interface YoungPollMessage {
  taskId: string;
}

export interface YoungPollConsumerDeps {
  /** core/reconcile.ts pollTasks, bound to its deps */
  pollTasks(taskIds: string[]): Promise<YoungPollReport>;
  log: Logger;
}

const TASK_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * A batch of young polls: the task ids of its well-formed messages, polled together. Nothing is
 * retried (a poll that fails is made up by the regular reconcile), so no record is ever failed:
 * a malformed message is logged (its id, never its body) and dropped.
 */
export async function consumeYoungPolls(
  deps: YoungPollConsumerDeps,
  records: QueueRecord[],
): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const ids: string[] = [];
  for (const record of records) {
    let taskId: unknown;
    try {
      taskId = (JSON.parse(record.body) as Partial<YoungPollMessage> | null)?.taskId;
    } catch {
      taskId = undefined;
    }
    if (typeof taskId === "string" && TASK_ID.test(taskId)) ids.push(taskId);
    else deps.log.warn("young poll: malformed message dropped", { messageId: record.messageId });
  }
  if (ids.length > 0) {
    const report = await deps.pollTasks(ids);
    deps.log.info("young polls", { ...report });
  }
  return { batchItemFailures: [] };
}

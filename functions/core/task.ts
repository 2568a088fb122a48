import type { TaskStatus } from "../contract/task.ts";

export { TaskEventType } from "../contract/events.ts";
/** The task's wire shapes live in the contract (functions/contract/task.ts). */
export {
  Button,
  ImageKind,
  ImagesStatus,
  Metadata,
  Task,
  TaskAction,
  TaskImage,
  TaskMode,
  TaskResultFields,
  TaskStatus,
  type TaskWithChildren,
} from "../contract/task.ts";

export const TERMINAL_STATUSES: readonly TaskStatus[] = ["SUCCESS", "FAILURE", "CANCEL"];

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * NOT_START < SUBMITTED < MODAL < IN_PROGRESS < the terminal states (docs/api.md). MODAL
 * ranks above SUBMITTED because a gateway may reveal a modal late: new-api answers a remix
 * click with code 1 (its 21→1 rewrite) and shows MODAL only once it has synced, so the task is
 * first recorded SUBMITTED. Leaving MODAL (the modal submitted through this API) is the one
 * move back down, allowed only by that submit's own answer (TaskStore.advance `leavingModal`).
 */
const STATUS_RANK: Record<TaskStatus, number> = {
  NOT_START: 0,
  SUBMITTED: 1000,
  MODAL: 1500,
  IN_PROGRESS: 2000,
  SUCCESS: 3100,
  FAILURE: 3100,
  CANCEL: 3100,
};

/**
 * One number that orders every state a task can be in, so "only move forward" is a single
 * numeric comparison inside a DynamoDB condition: status rank first, then progress.
 * Terminal states share one rank (with progress pinned to 100) so that a finished task never
 * changes again, whichever terminal webhook arrived first.
 */
export function taskRank(status: TaskStatus, progress: number): number {
  const rank = STATUS_RANK[status];
  if (status === "IN_PROGRESS") return rank + Math.max(0, Math.min(100, Math.trunc(progress)));
  return rank;
}

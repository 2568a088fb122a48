import { NotFoundError } from "./errors.ts";
import type { TaskQueries, TaskTimeline } from "./ports.ts";
import { CHILDREN_LIMIT } from "./queries.ts";
import { isTerminal, type TaskStatus, type TaskWithChildren } from "./task.ts";

/**
 * One event of a task's live stream (`GET /v1/tasks/{id}/events`, docs/api.md): the number of
 * the recorded state (1 = the state the task was created in, n = the n-th state recorded) and
 * the task in that state. The number is the stream's event id: a resumed stream sends only the
 * states after it, so a reconnect misses none and repeats none.
 */
export interface TaskStep {
  id: number;
  task: TaskWithChildren;
}

/**
 * The status and progress a stored rank stands for (the inverse of taskRank). The terminal
 * rank is shared by SUCCESS, FAILURE and CANCEL; a task reaches it once and never leaves it, so
 * it is always the task's own (current) status.
 */
export function stateOfRank(
  rank: number,
  current: TaskStatus,
): { status: TaskStatus; progress: number } {
  if (rank >= 3100) return { status: current, progress: 100 };
  if (rank >= 2000) return { status: "IN_PROGRESS", progress: Math.min(100, rank - 2000) };
  if (rank >= 1500) return { status: "MODAL", progress: 0 };
  if (rank >= 1000) return { status: "SUBMITTED", progress: 0 };
  return { status: "NOT_START", progress: 0 };
}

/** The owner's task with its recorded states (one read); another owner's task is not found. */
export async function readTimeline(
  deps: { store: TaskQueries },
  owner: string,
  id: string,
): Promise<TaskTimeline> {
  const timeline = await deps.store.getTimeline(id);
  if (!timeline || timeline.task.owner !== owner) throw new NotFoundError();
  return timeline;
}

/** The id of the newest recorded state (0 for a task stored before states were recorded). */
export function lastStepId(timeline: TaskTimeline): number {
  return timeline.steps.length;
}

/**
 * The recorded states after `afterId` (null: all of them), oldest first. The newest is the task
 * exactly as `GET /v1/tasks/{id}` shows it; an older one, recorded between two reads of the
 * stream, is the task as read with that state's status and progress (without what only a
 * finished task has: finishedAt, buttons, failReason), as a webhook event is. A task stored before states were recorded has one: its current state, id 0.
 */
export function stepsAfter(timeline: TaskTimeline, afterId: number | null): TaskStep[] {
  const current: TaskWithChildren = {
    ...timeline.task,
    children: timeline.childIds.slice(0, CHILDREN_LIMIT),
  };
  const last = lastStepId(timeline);
  if (last === 0) return afterId === null ? [{ id: 0, task: current }] : [];
  const from = Math.max(afterId ?? 0, 0);
  const steps: TaskStep[] = [];
  for (let id = from + 1; id <= last; id++) {
    if (id === last) {
      steps.push({ id, task: current });
      continue;
    }
    const state = stateOfRank(timeline.steps[id - 1] ?? 0, current.status);
    // what only a finished task has did not exist yet in an unfinished state
    const unfinished = isTerminal(state.status)
      ? {}
      : { finishedAt: null, buttons: [], failReason: null, upstreamFailReason: null };
    steps.push({ id, task: { ...current, ...state, ...unfinished } });
  }
  return steps;
}

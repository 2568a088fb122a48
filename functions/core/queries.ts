import { NotFoundError } from "./errors.ts";
import type { Page, TaskStore } from "./ports.ts";
import type { Task, TaskStatus } from "./task.ts";

/** One task of this owner; another owner's task is "not found", never "forbidden". */
export async function getTask(
  deps: { store: TaskStore },
  owner: string,
  id: string,
): Promise<Task> {
  const task = await deps.store.get(id);
  if (!task || task.owner !== owner) throw new NotFoundError();
  return task;
}

/** The owner's tasks, newest first. */
export async function listTasks(
  deps: { store: TaskStore },
  owner: string,
  query: { status?: TaskStatus; limit: number; afterId?: string },
): Promise<Page<Task>> {
  return deps.store.listByOwner(owner, query);
}

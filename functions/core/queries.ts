import type { ListQuery as ListQueryBody } from "../contract/read.ts";
import { NotFoundError } from "./errors.ts";
import type { Page, TaskQueries, TaskStore } from "./ports.ts";
import type { Task, TaskWithChildren } from "./task.ts";

/** One task of this owner; another owner's task is "not found", never "forbidden". */
export async function getTask(
  deps: { store: Pick<TaskStore, "get"> },
  owner: string,
  id: string,
): Promise<Task> {
  const task = await deps.store.get(id);
  if (!task || task.owner !== owner) throw new NotFoundError();
  return task;
}

/** How many child ids `GET /v1/tasks/{id}` lists; `GET /v1/tasks?parentId=` pages through all. */
export const CHILDREN_LIMIT = 1000;

/**
 * `GET /v1/tasks/{id}`: the task and its children's ids, newest first, from ONE GetItem: each
 * child's creating transaction appends its id to the parent's item.
 */
export async function getTaskWithChildren(
  deps: { store: TaskQueries },
  owner: string,
  id: string,
): Promise<TaskWithChildren> {
  const tree = await deps.store.getTree(id);
  if (!tree || tree.task.owner !== owner) throw new NotFoundError();
  return { ...tree.task, children: tree.childIds.slice(0, CHILDREN_LIMIT) };
}

/**
 * `GET /v1/tasks`' filters as the contract validates them (functions/contract/read.ts), with the
 * page size settled and the cursor decoded to the last task id seen.
 */
export type ListQuery = Omit<ListQueryBody, "limit" | "cursor"> & {
  limit: number;
  afterId?: string;
};

/**
 * The owner's tasks, newest first, each filter served by an index: `parentId` by the children
 * index (narrowed by status and action), else `action` by the action index (narrowed by
 * status), else `status` by the status index. An unknown or foreign parentId lists nothing.
 */
export async function listTasks(
  deps: { store: TaskQueries },
  owner: string,
  query: ListQuery,
): Promise<Page<Task>> {
  const { parentId, action, ...rest } = query;
  if (parentId) return deps.store.listChildren(owner, parentId, { ...rest, action });
  if (action) return deps.store.listByAction(owner, { ...rest, action });
  return deps.store.listByOwner(owner, rest);
}

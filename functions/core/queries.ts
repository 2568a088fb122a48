import { NotFoundError } from "./errors.ts";
import type { Page, TaskStore } from "./ports.ts";
import type { Task, TaskAction, TaskStatus, TaskWithChildren } from "./task.ts";

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

/** How many child ids `GET /v1/tasks/{id}` lists; `GET /v1/tasks?parentId=` pages through all. */
export const CHILDREN_LIMIT = 1000;

/**
 * `GET /v1/tasks/{id}`: the task and its children's ids, newest first. Only a SUCCESS task with
 * buttons can have children (an action needs both, and a finished task never changes), so the
 * polls of a running task stay one GetItem; the children cost one Query once it can have any.
 */
export async function getTaskWithChildren(
  deps: { store: TaskStore },
  owner: string,
  id: string,
): Promise<TaskWithChildren> {
  const task = await getTask(deps, owner, id);
  const canHaveChildren = task.status === "SUCCESS" && task.buttons.length > 0;
  const children = canHaveChildren
    ? await deps.store.listChildIds(owner, task.id, CHILDREN_LIMIT)
    : [];
  return { ...task, children };
}

export interface ListQuery {
  status?: TaskStatus;
  action?: TaskAction;
  parentId?: string;
  limit: number;
  afterId?: string;
}

/**
 * The owner's tasks, newest first, each filter served by an index: `parentId` by the children
 * index (narrowed by status and action), else `action` by the action index (narrowed by
 * status), else `status` by the status index. An unknown or foreign parentId lists nothing.
 */
export async function listTasks(
  deps: { store: TaskStore },
  owner: string,
  query: ListQuery,
): Promise<Page<Task>> {
  const { parentId, action, ...rest } = query;
  if (parentId) return deps.store.listChildren(owner, parentId, { ...rest, action });
  if (action) return deps.store.listByAction(owner, { ...rest, action });
  return deps.store.listByOwner(owner, rest);
}

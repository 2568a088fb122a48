import { NotFoundError } from "../core/errors.ts";
import type { Logger, TaskStore } from "../core/ports.ts";
import { getTaskWithChildren, listTasks } from "../core/queries.ts";
import { type AuthEnv, createApiKeyAuth } from "./auth.ts";
import { createBaseApp } from "./base.ts";
import { encodeCursor, ListQuery, TaskId } from "./schemas.ts";
import { readQuery } from "./validate.ts";

export interface ReadAppDeps {
  store: TaskStore;
  log: Logger;
  apiKeys: readonly { owner: string; key: string }[];
}

/** The read function: tasks and health. */
export function createReadApp(deps: ReadAppDeps) {
  const app = createBaseApp<AuthEnv>(deps.log);

  app.get("/health", (c) => c.json({ status: "ok" }));

  app.use("/v1/*", createApiKeyAuth(deps.apiKeys));

  app.get("/v1/tasks", async (c) => {
    const query = readQuery(c, ListQuery);
    const page = await listTasks(deps, c.get("owner"), {
      status: query.status,
      action: query.action,
      parentId: query.parentId,
      limit: query.limit ?? 20,
      afterId: query.cursor,
    });
    return c.json({
      items: page.items,
      nextCursor: page.lastId ? encodeCursor(page.lastId) : null,
    });
  });

  app.get("/v1/tasks/:id", async (c) => {
    const id = TaskId.safeParse(c.req.param("id"));
    // A malformed id cannot name a task: same answer as an unknown one.
    if (!id.success) throw new NotFoundError();
    return c.json(await getTaskWithChildren(deps, c.get("owner"), id.data));
  });

  return app;
}

import { encodeCursor, ListQuery, UsageQuery } from "../contract/read.ts";
import type { Health } from "../contract/service.ts";
import type { TaskPage } from "../contract/task.ts";
import { TaskId } from "../contract/task.ts";
import type { Authenticate } from "../core/api-keys.ts";
import { NotFoundError } from "../core/errors.ts";
import { withCopyUrls } from "../core/images.ts";
import type { Clock, ImageStore, Logger, TaskQueries } from "../core/ports.ts";
import { getTaskWithChildren, listTasks } from "../core/queries.ts";
import { getUsage, type QuotaStore } from "../core/quota.ts";
import { upstreamHealthOf } from "../core/upstream-health.ts";
import type { UpstreamHealthStore } from "../core/upstream-port.ts";
import { type AuthEnv, createApiKeyAuth } from "./auth.ts";
import { createBaseApp } from "./base.ts";
import { linkOrigin, mountImageLinks, mountTaskImages, mountUploads } from "./image-routes.ts";
import { DEFAULT_EVENTS, mountTaskEvents, type TaskEventsOptions } from "./task-events.ts";
import { readQuery } from "./validate.ts";

export interface ReadAppDeps {
  store: TaskQueries;
  log: Logger;
  /** Who a Bearer key belongs to (functions/core/api-keys.ts createAuthenticator). */
  authenticate: Authenticate;
  /** Durable copies of results: their links are signed as tasks are read. */
  images?: ImageStore;
  /** PUBLIC_URL: the base of the signed links (never the request's Host). */
  publicUrl: string;
  /** The owners' usage counters (docs/operating.md); absent: no usage route. */
  quota?: QuotaStore;
  /** TASK_RETENTION_DAYS: how long an upload's link lives (default 90). */
  retentionDays?: number;
  clock?: Clock;
  /** The upstreams `GET /health` reports (docs/upstreams.md "Several upstreams"); absent: none. */
  upstreams?: { ids: readonly string[]; health: UpstreamHealthStore };
  /** `GET /v1/tasks/{id}/events` (functions/http/task-events.ts); default: 1 s reads, 14 min. */
  events?: TaskEventsOptions;
}

/** The read function: tasks, lists, image links, uploads, usage and health. */
export function createReadApp(deps: ReadAppDeps) {
  const app = createBaseApp<AuthEnv>(deps.log);
  const origin = linkOrigin(deps.publicUrl);

  app.get("/health", async (c) => {
    const upstreams = deps.upstreams
      ? await upstreamHealthOf({
          upstreamIds: deps.upstreams.ids,
          upstreamHealth: deps.upstreams.health,
          clock: deps.clock ?? { now: () => new Date() },
          log: deps.log,
        })
      : [];
    return c.json({ status: "ok", upstreams } satisfies Health);
  });
  // durable copies at signed links: no key either, the signature is the credential
  mountImageLinks(app, deps);

  app.use("/v1/*", createApiKeyAuth(deps.authenticate));
  mountTaskImages(app, deps);
  // uploads: POST under the key; their GET, like the signed links, without
  mountUploads(app, deps);
  mountTaskEvents(app, { ...deps, events: deps.events ?? DEFAULT_EVENTS });

  app.get("/v1/tasks", async (c) => {
    const query = readQuery(c, ListQuery);
    const page = await listTasks(deps, c.get("owner"), {
      status: query.status,
      action: query.action,
      mode: query.mode,
      parentId: query.parentId,
      limit: query.limit ?? 20,
      afterId: query.cursor,
    });
    return c.json({
      items: await Promise.all(page.items.map((t) => withCopyUrls(deps.images, t, origin))),
      nextCursor: page.lastId ? encodeCursor(page.lastId) : null,
    } satisfies TaskPage);
  });

  app.get("/v1/tasks/:id", async (c) => {
    const id = TaskId.safeParse(c.req.param("id"));
    // A malformed id cannot name a task: same answer as an unknown one.
    if (!id.success) throw new NotFoundError();
    const task = await getTaskWithChildren(deps, c.get("owner"), id.data);
    return c.json(await withCopyUrls(deps.images, task, origin));
  });

  const quota = deps.quota;
  if (quota) {
    app.get("/v1/usage", async (c) => {
      const query = readQuery(c, UsageQuery);
      const clock = deps.clock ?? { now: () => new Date() };
      return c.json(await getUsage({ quota, clock }, c.get("owner"), query));
    });
  }

  return app;
}

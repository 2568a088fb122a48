import { BODY_LIMITS } from "../contract/limits.ts";
import { encodeCursor, ListQuery, UsageQuery } from "../contract/read.ts";
import type { Health } from "../contract/service.ts";
import type { TaskPage } from "../contract/task.ts";
import { TaskId } from "../contract/task.ts";
import type { Authenticate } from "../core/api-keys.ts";
import { NotFoundError } from "../core/errors.ts";
import { linkOrigin, withCopyUrls } from "../core/images.ts";
import type { Clock, ImageStore, Logger, TaskQueries } from "../core/ports.ts";
import { getTaskWithChildren, listTasks } from "../core/queries.ts";
import { getUsage, type QuotaStore } from "../core/quota.ts";
import type { UpstreamHealthStore } from "../core/upstream-port.ts";
import { type AuthEnv, createApiKeyAuth } from "./auth.ts";
import { createBaseApp } from "./base.ts";
import type { TaskEventsOptions } from "./task-events.ts";
import { limitBody, readQuery } from "./validate.ts";

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

/**
 * The code of image links, uploads, live events and health (functions/http/image-routes.ts,
 * task-events.ts, core/upstream-health.ts), loaded by the first request that needs it: most cold
 * starts serve `GET /v1/tasks/{id}` or the list, and in the deployed bundle each is a chunk of its
 * own that they never read (SST's `splitting`, docs/performance.md). Usage stays: its code
 * (core/quota.ts) is loaded anyway by the quota store the app is given.
 */
let imageRoutes: Promise<typeof import("./image-routes.ts")> | undefined;
let taskEvents: Promise<typeof import("./task-events.ts")> | undefined;
let health: Promise<typeof import("../core/upstream-health.ts")> | undefined;
const loadImageRoutes = () => {
  imageRoutes ??= import("./image-routes.ts");
  return imageRoutes;
};
const loadTaskEvents = () => {
  taskEvents ??= import("./task-events.ts");
  return taskEvents;
};
const loadHealth = () => {
  health ??= import("../core/upstream-health.ts");
  return health;
};

/** The read function: tasks, lists, image links, uploads, usage and health. */
export function createReadApp(deps: ReadAppDeps) {
  const app = createBaseApp<AuthEnv>(deps.log);
  const origin = linkOrigin(deps.publicUrl);

  app.get("/health", async (c) => {
    const { upstreamHealthOf } = await loadHealth();
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
  app.get("/images/:id/:name", async (c) => {
    const { serveImageLink } = await loadImageRoutes();
    return serveImageLink(c, deps);
  });

  app.use("/v1/*", createApiKeyAuth(deps.authenticate));
  app.get("/v1/tasks/:id/images/:name", async (c) => {
    const { redirectToTaskImage } = await loadImageRoutes();
    return redirectToTaskImage(c, deps);
  });
  // uploads: POST under the key; their GET, like the signed links, without
  app.get("/uploads/:name", async (c) => {
    const { serveUpload } = await loadImageRoutes();
    return serveUpload(c, deps);
  });
  app.post("/v1/uploads", limitBody(BODY_LIMITS["POST /v1/uploads"]), async (c) => {
    const { receiveUpload } = await loadImageRoutes();
    return receiveUpload(c, deps);
  });
  app.get("/v1/tasks/:id/events", async (c) => {
    const { DEFAULT_EVENTS, streamTaskEvents } = await loadTaskEvents();
    return streamTaskEvents(c, { ...deps, events: deps.events ?? DEFAULT_EVENTS });
  });

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

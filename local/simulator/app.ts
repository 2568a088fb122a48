import { Hono, type MiddlewareHandler } from "hono";
import { type CancelBehaviour, cancelTask } from "./cancel.ts";
import type { Engine } from "./engine.ts";
import { PartialFaultConfig } from "./faults.ts";
import {
  action,
  blend,
  change,
  describe,
  edits,
  fetchTask,
  imageSeed,
  imagine,
  listByCondition,
  modal,
  retexture,
  shorten,
  submit,
  video,
} from "./handlers.ts";
import { isAuthorized, type SimProfile } from "./profiles.ts";
import type { Reply } from "./reply.ts";

export interface SimulatorAppOptions {
  apiKey: string;
  /** How `POST /mj/task/{id}/cancel` answers (local/simulator/cancel.ts); default `new-api`. */
  cancel?: CancelBehaviour;
}

/** The speed-mode prefixes TA serves and NA strips (`/mj-fast/mj/...`). */
const MODE_PREFIXES = ["mj-fast", "mj-relax", "mj-turbo"];

async function send(engine: Engine, reply: Reply): Promise<Response> {
  switch (reply.kind) {
    case "json":
      return new Response(JSON.stringify(reply.body), {
        status: reply.status,
        headers: { "content-type": "application/json" },
      });
    case "text":
      return new Response(reply.body, {
        status: reply.status,
        headers: { "content-type": reply.contentType },
      });
    case "empty":
      return new Response(null, { status: reply.status });
    case "hold":
      await engine.hold();
      // closing the connection lets a stopping server finish once this answer is out
      return new Response(null, { status: 504, headers: { connection: "close" } });
  }
}

/**
 * The host's auth (profiles.ts). A refusal looks like that host's: new-api's OpenAI-style
 * envelope (401), trueai's `未登录` (403), novicezk's 401 with an empty body.
 */
function requireKey(profile: SimProfile, apiKey: string): MiddlewareHandler {
  return async (c, next) => {
    const headers = {
      authorization: c.req.header("authorization"),
      mjApiSecret: c.req.header("mj-api-secret"),
    };
    if (!isAuthorized(profile, apiKey, headers)) {
      if (profile === "novicezk") return c.body(null, 401);
      if (profile === "trueai") return c.json({ success: false, code: -1, message: "未登录" }, 403);
      return c.json(
        { error: { message: "Invalid API key", type: "comet_api_error", code: "invalid_api_key" } },
        401,
      );
    }
    await next();
  };
}

/** The `/mj` routes: the task API under auth, images and videos without. */
function createMjRoutes(engine: Engine, apiKey: string, cancel: CancelBehaviour): Hono {
  const mj = new Hono();
  mj.use("/submit/*", requireKey(engine.profile, apiKey));
  mj.use("/task/*", requireKey(engine.profile, apiKey));
  const prefixOf = (path: string) => path.split("/")[1] ?? "mj";
  for (const path of ["/submit/*", "/task/*"]) {
    mj.use(path, async (c, next) => {
      engine.countRequest(prefixOf(c.req.path));
      await next();
    });
  }

  // novicezk has imagine, change, describe and blend; the plus family has no /change; edits
  // goes through new-api's relay (router/relay-router.go), retexture only to trueai
  const plus = { imagine, action, modal, blend, describe, shorten, video, edits };
  const submitRoutes =
    engine.profile === "novicezk"
      ? { imagine, change, blend, describe }
      : engine.profile === "trueai"
        ? { ...plus, retexture }
        : plus;
  for (const [name, handler] of Object.entries(submitRoutes)) {
    mj.post(`/submit/${name}`, async (c) => {
      const text = await c.req.text();
      return send(
        engine,
        engine.withRequestMode(prefixOf(c.req.path), () => submit(engine, text, handler, name)),
      );
    });
  }
  mj.get("/task/:id/fetch", (c) => send(engine, fetchTask(engine, c.req.param("id"))));
  // novicezk has neither (its TaskController: fetch, list-by-condition, queue, list)
  if (engine.profile !== "novicezk") {
    mj.get("/task/:id/image-seed", (c) => send(engine, imageSeed(engine, c.req.param("id"))));
    mj.post("/task/:id/cancel", (c) => send(engine, cancelTask(engine, c.req.param("id"), cancel)));
  }
  for (const path of ["/task/list-by-condition", "/task/list-by-ids"]) {
    mj.post(path, async (c) => send(engine, listByCondition(engine, await c.req.text())));
  }

  mj.get("/image/:id", (c) => {
    const png = engine.image(c.req.param("id"));
    if (!png) return c.body(null, 404);
    const done = engine.task(c.req.param("id"))?.status === "SUCCESS";
    return c.body(new Uint8Array(png), 200, {
      "content-type": "image/png",
      "cache-control": done ? "public, max-age=86400" : "no-store",
    });
  });
  mj.get("/video/:file", (c) => {
    const bytes = engine.video(c.req.param("file").replace(/\.mp4$/, ""));
    if (!bytes) return c.body(null, 404);
    return c.body(new Uint8Array(bytes), 200, { "content-type": "video/mp4" });
  });
  return mj;
}

/**
 * The simulator's HTTP surface: the midjourney-proxy task API under `/mj` (and the speed-mode
 * prefixes), plus unauthenticated control routes under `/_sim`.
 */
export function createSimulatorApp(engine: Engine, options: SimulatorAppOptions): Hono {
  const app = new Hono();
  const mj = createMjRoutes(engine, options.apiKey, options.cancel ?? "new-api");
  app.route("/mj", mj);
  for (const prefix of MODE_PREFIXES) app.route(`/${prefix}/mj`, mj);

  app.get("/_sim/tasks", (c) => c.json(engine.tasks()));
  app.get("/_sim/stats", (c) => c.json(engine.stats()));
  app.get("/_sim/faults", (c) => c.json(engine.faults));
  app.put("/_sim/faults", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: "body is not JSON" }, 400);
    }
    const patch = PartialFaultConfig.safeParse(body);
    if (!patch.success) return c.json({ error: "invalid faults", issues: patch.error.issues }, 400);
    return c.json(engine.setFaults(patch.data));
  });

  app.onError((err, c) => {
    engine.log("simulator error", { error: err.message });
    return c.json({ success: false, code: -1, message: "操作失败" }, 500);
  });
  return app;
}

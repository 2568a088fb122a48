import type { Env, Hono } from "hono";
import { HonoBase } from "hono/hono-base";
import { LinearRouter } from "hono/router/linear-router";
import type { Logger } from "../core/ports.ts";
import { createErrorHandler, errorBody } from "./errors.ts";

/**
 * Every app shares the error boundary and the JSON 404 of the contract.
 *
 * Hono with its LinearRouter alone (Hono's `hono/quick` preset, without the trie fallback): a
 * Lambda answers few requests per container and each app has a handful of routes, so matching
 * them in turn beats the default router, which compiles every route into one RegExp on the
 * first request and carries two routers' code (~6 KB) into every bundle.
 * Same routes, same order of handlers, same answers.
 */
export function createBaseApp<E extends Env>(log: Logger): Hono<E> {
  // Hono is HonoBase with the default router: the same class to every caller
  const app = new HonoBase<E>({ router: new LinearRouter() }) as Hono<E>;
  app.onError(createErrorHandler(log));
  app.notFound((c) =>
    c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}.`), 404),
  );
  return app;
}

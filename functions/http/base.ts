import type { Env } from "hono";
import { Hono } from "hono";
import type { Logger } from "../core/ports.ts";
import { withLogScope } from "../log.ts";
import { createErrorHandler, errorBody } from "./errors.ts";

/** Every app shares the error boundary and the JSON 404 of the contract. */
export function createBaseApp<E extends Env>(log: Logger): Hono<E> {
  const app = new Hono<E>();
  // each request its own log scope (within the invocation's, on Lambda): a task id it names
  // goes on its lines only
  app.use((_c, next) => withLogScope({}, next));
  app.onError(createErrorHandler(log));
  app.notFound((c) =>
    c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}.`), 404),
  );
  return app;
}

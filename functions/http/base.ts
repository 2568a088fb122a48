import type { Env } from "hono";
import { Hono } from "hono";
import type { Logger } from "../core/ports.ts";
import { createErrorHandler, errorBody } from "./errors.ts";

/** Every app shares the error boundary and the JSON 404 of the contract. */
export function createBaseApp<E extends Env>(log: Logger): Hono<E> {
  const app = new Hono<E>();
  app.onError(createErrorHandler(log));
  app.notFound((c) =>
    c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}.`), 404),
  );
  return app;
}

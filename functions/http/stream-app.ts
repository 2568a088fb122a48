import type { Authenticate } from "../core/api-keys.ts";
import { type AuthEnv, createApiKeyAuth } from "./auth.ts";
import { createBaseApp } from "./base.ts";
import { mountTaskEvents, type TaskEventsDeps } from "./task-events.ts";

export interface StreamAppDeps extends TaskEventsDeps {
  authenticate: Authenticate;
}

/**
 * The stream function: `GET /v1/tasks/{id}/events` alone, behind a response-streaming Lambda
 * function URL (docs/deploy.md "Live progress"). The URL is open to the internet, so the API
 * key is checked here exactly as behind API Gateway; every other path is the contract's 404.
 */
export function createStreamApp(deps: StreamAppDeps) {
  const app = createBaseApp<AuthEnv>(deps.log);
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.use("/v1/*", createApiKeyAuth(deps.authenticate));
  mountTaskEvents(app, deps);
  return app;
}

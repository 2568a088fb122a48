import type { Logger } from "../core/ports.ts";
import { type SubmitDeps, submitImagine } from "../core/submit.ts";
import { type AuthEnv, createApiKeyAuth } from "./auth.ts";
import { createBaseApp } from "./base.ts";
import { ImagineBody } from "./schemas.ts";
import { limitBody, readBody, readIdempotencyKey } from "./validate.ts";

export interface SubmitAppDeps extends SubmitDeps {
  apiKeys: readonly { owner: string; key: string }[];
  log: Logger;
}

/** Body limits: imagine carries up to five data-URI images. */
export const SUBMIT_LIMITS = { imagine: 8 * 1024 * 1024 } as const;

/** The submit function: every route that starts an upstream job. */
export function createSubmitApp(deps: SubmitAppDeps) {
  const app = createBaseApp<AuthEnv>(deps.log);
  app.use("/v1/*", createApiKeyAuth(deps.apiKeys));

  app.post("/v1/imagine", limitBody(SUBMIT_LIMITS.imagine), async (c) => {
    const key = readIdempotencyKey(c);
    const body = await readBody(c, ImagineBody);
    const task = await submitImagine(deps, c.get("owner"), body, key);
    return c.json(task, 202);
  });

  return app;
}

import { BODY_LIMITS } from "../contract/limits.ts";
import {
  ActionBody,
  BlendBody,
  DescribeBody,
  EditBody,
  ImagineBody,
  ModalBody,
  RetextureBody,
  ShortenBody,
  VideoBody,
} from "../contract/submit.ts";
import type { Authenticate } from "../core/api-keys.ts";
import { cancelTask } from "../core/cancel.ts";
import type { Logger } from "../core/ports.ts";
import { type SubmitDeps, submitImagine } from "../core/submit.ts";
import {
  getImageSeed,
  submitAction,
  submitBlend,
  submitDescribe,
  submitEdit,
  submitModal,
  submitRetexture,
  submitShorten,
  submitVideo,
} from "../core/workflow.ts";
import { type AuthEnv, createApiKeyAuth } from "./auth.ts";
import { createBaseApp } from "./base.ts";
import { limitBody, pathTaskId, readBody, readIdempotencyKey } from "./validate.ts";

export interface SubmitAppDeps extends SubmitDeps {
  /** Who a Bearer key belongs to (functions/core/api-keys.ts createAuthenticator). */
  authenticate: Authenticate;
  log: Logger;
}

/** The submit function: every route that starts (or completes) an upstream job, and the seed. */
export function createSubmitApp(deps: SubmitAppDeps) {
  const app = createBaseApp<AuthEnv>(deps.log);
  app.use("/v1/*", createApiKeyAuth(deps.authenticate));

  app.post("/v1/imagine", limitBody(BODY_LIMITS["POST /v1/imagine"]), async (c) => {
    const key = readIdempotencyKey(c);
    const body = await readBody(c, ImagineBody);
    const task = await submitImagine(deps, c.get("owner"), body, key);
    return c.json(task, 202);
  });

  app.post(
    "/v1/tasks/:id/actions",
    limitBody(BODY_LIMITS["POST /v1/tasks/{id}/actions"]),
    async (c) => {
      const id = pathTaskId(c.req.param("id"));
      const key = readIdempotencyKey(c);
      const body = await readBody(c, ActionBody);
      return c.json(await submitAction(deps, c.get("owner"), id, body, key), 202);
    },
  );

  app.post(
    "/v1/tasks/:id/modal",
    limitBody(BODY_LIMITS["POST /v1/tasks/{id}/modal"]),
    async (c) => {
      const id = pathTaskId(c.req.param("id"));
      const key = readIdempotencyKey(c);
      const body = await readBody(c, ModalBody);
      return c.json(await submitModal(deps, c.get("owner"), id, body, key), 202);
    },
  );

  app.post("/v1/blend", limitBody(BODY_LIMITS["POST /v1/blend"]), async (c) => {
    const key = readIdempotencyKey(c);
    const body = await readBody(c, BlendBody);
    return c.json(await submitBlend(deps, c.get("owner"), body, key), 202);
  });

  app.post("/v1/describe", limitBody(BODY_LIMITS["POST /v1/describe"]), async (c) => {
    const key = readIdempotencyKey(c);
    const body = await readBody(c, DescribeBody);
    return c.json(await submitDescribe(deps, c.get("owner"), body, key), 202);
  });

  app.post("/v1/shorten", limitBody(BODY_LIMITS["POST /v1/shorten"]), async (c) => {
    const key = readIdempotencyKey(c);
    const body = await readBody(c, ShortenBody);
    return c.json(await submitShorten(deps, c.get("owner"), body, key), 202);
  });

  app.post("/v1/video", limitBody(BODY_LIMITS["POST /v1/video"]), async (c) => {
    const key = readIdempotencyKey(c);
    const body = await readBody(c, VideoBody);
    return c.json(await submitVideo(deps, c.get("owner"), body, key), 202);
  });

  app.post("/v1/edits", limitBody(BODY_LIMITS["POST /v1/edits"]), async (c) => {
    const key = readIdempotencyKey(c);
    const body = await readBody(c, EditBody);
    return c.json(await submitEdit(deps, c.get("owner"), body, key), 202);
  });

  app.post("/v1/retexture", limitBody(BODY_LIMITS["POST /v1/retexture"]), async (c) => {
    const key = readIdempotencyKey(c);
    const body = await readBody(c, RetextureBody);
    return c.json(await submitRetexture(deps, c.get("owner"), body, key), 202);
  });

  // served by submit: it asks the upstream to stop the job, and only submit holds the upstream key
  app.post(
    "/v1/tasks/:id/cancel",
    limitBody(BODY_LIMITS["POST /v1/tasks/{id}/cancel"]),
    async (c) => {
      const id = pathTaskId(c.req.param("id"));
      return c.json(await cancelTask(deps, c.get("owner"), id), 202);
    },
  );

  // served by submit, not read: it asks the upstream, and only submit holds the upstream key
  app.get("/v1/tasks/:id/seed", async (c) => {
    const id = pathTaskId(c.req.param("id"));
    return c.json(await getImageSeed(deps, c.get("owner"), id));
  });

  return app;
}

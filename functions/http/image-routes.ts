import type { Env, Hono } from "hono";
import { BODY_LIMITS } from "../contract/limits.ts";
import { TaskId } from "../contract/task.ts";
import { UploadBody } from "../contract/uploads.ts";
import { NotFoundError } from "../core/errors.ts";
import { imageKey, isImageName } from "../core/image-keys.ts";
import type { Clock, ImageStore, TaskQueries } from "../core/ports.ts";
import { getTask } from "../core/queries.ts";
import { createUpload, uploadKeyOf } from "../core/uploads.ts";
import type { AuthEnv } from "./auth.ts";
import { limitBody, readBody } from "./validate.ts";

/**
 * The base of the links this API signs: PUBLIC_URL (any path kept, no trailing slash), never
 * the request's Host header, which whoever sends the request chooses.
 */
export function linkOrigin(publicUrl: string): string {
  return publicUrl.replace(/\/+$/, "");
}

const noSuchImage = () => new NotFoundError("No such image, or the link is invalid or expired.");

/**
 * `GET /images/{id}/{name}?expires=&sig=`: a durable copy at a signed link, with no API key
 * (an `<img src>` cannot send one). Only stores the API serves itself answer (the local disk
 * store); on AWS the links are S3's own, and this route answers 404. A link that is tampered
 * with, expired or unknown is 404, like a task that is not yours.
 */
export function mountImageLinks<E extends Env>(app: Hono<E>, deps: { images?: ImageStore }) {
  app.get("/images/:id/:name", async (c) => {
    const id = c.req.param("id");
    const name = c.req.param("name");
    const images = deps.images;
    if (!images?.verifyLink || !TaskId.safeParse(id).success || !isImageName(name)) {
      throw noSuchImage();
    }
    const key = imageKey(id, name);
    const expires = c.req.query("expires");
    if (!images.verifyLink(key, { expires, sig: c.req.query("sig") })) throw noSuchImage();
    const object = await images.get(key);
    if (!object) throw noSuchImage();
    const maxAge = Math.max(0, Number(expires) - Math.floor(Date.now() / 1000));
    return c.body(object.body, 200, {
      "content-type": object.contentType,
      "content-length": String(object.bytes),
      "cache-control": `private, max-age=${maxAge}, immutable`,
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; sandbox",
    });
  });
}

/**
 * `GET /v1/tasks/{id}/images/{name}` (the owner's API key): a 302 to a fresh signed link of
 * that copy (`curl -L`); another owner's task, or a name the task does not have, is 404.
 */
export function mountTaskImages(
  app: Hono<AuthEnv>,
  deps: { store: TaskQueries; images?: ImageStore; publicUrl: string },
) {
  app.get("/v1/tasks/:id/images/:name", async (c) => {
    const id = TaskId.safeParse(c.req.param("id"));
    if (!id.success || !deps.images) throw noSuchImage();
    const task = await getTask(deps, c.get("owner"), id.data);
    const image = task.images.find((i) => i.name === c.req.param("name"));
    if (!image) throw noSuchImage();
    const url = await deps.images.url(imageKey(task.id, image.name), {
      origin: linkOrigin(deps.publicUrl),
    });
    c.header("cache-control", "no-store");
    return c.redirect(url, 302);
  });
}

/**
 * `POST /v1/uploads` (the owner's key) and `GET /uploads/{name}` (no key: the upstream fetches
 * it from a prompt, and the unguessable name is the credential). Served by read, which already
 * holds the image store; the bytes go through the function both ways, so its body limit bounds
 * them (docs/images.md "Uploads").
 */
export function mountUploads<E extends Env>(
  app: Hono<E>,
  deps: { images?: ImageStore; publicUrl: string; clock?: Clock; retentionDays?: number },
) {
  const now = () => deps.clock?.now() ?? new Date();
  app.get("/uploads/:name", async (c) => {
    const key = uploadKeyOf(c.req.param("name"), now());
    const object = key ? await deps.images?.get(key) : null;
    if (!object) throw new NotFoundError("No such upload, or it has expired.");
    return c.body(object.body, 200, {
      "content-type": object.contentType,
      "content-length": String(object.bytes),
      "cache-control": "public, max-age=86400, immutable",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; sandbox",
    });
  });
  app.post("/v1/uploads", limitBody(BODY_LIMITS["POST /v1/uploads"]), async (c) => {
    const body = await readBody(c, UploadBody);
    if (!deps.images)
      throw new NotFoundError("Uploads need an image store (IMAGE_DIR or IMAGE_BUCKET).");
    const upload = await createUpload(
      {
        images: deps.images,
        clock: { now },
        retentionDays: deps.retentionDays ?? 90,
        origin: linkOrigin(deps.publicUrl),
      },
      body.image,
    );
    return c.json(upload, 201);
  });
}

/**
 * Where a task's durable copies live in the image store: `tasks/<task id>/<file name>`.
 * Shared with infra/storage.ts (the bucket's lifecycle rule covers this prefix), so this module
 * imports nothing.
 */
export const IMAGE_KEY_PREFIX = "tasks/";

/** A file name we give a copy: `grid.png`, `quadrant-2.png`, `image-1.jpeg`, `thumbnail.webp` … */
const NAME = /^[a-z]+(?:-[1-9][0-9]?)?\.[a-z0-9]{2,5}$/;
const TASK_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function isImageName(name: string): boolean {
  return NAME.test(name);
}

/** The store key of one copy; only ever built from a task id and a name we gave. */
export function imageKey(taskId: string, name: string): string {
  if (!TASK_ID.test(taskId) || !isImageName(name)) {
    throw new Error(`not an image key: ${taskId}/${name}`);
  }
  return `${IMAGE_KEY_PREFIX}${taskId}/${name}`;
}

/** The task id and name inside a key built by {@link imageKey}, else null. */
export function parseImageKey(key: string): { taskId: string; name: string } | null {
  if (!key.startsWith(IMAGE_KEY_PREFIX)) return null;
  const [taskId = "", name = "", ...rest] = key.slice(IMAGE_KEY_PREFIX.length).split("/");
  if (rest.length > 0 || !TASK_ID.test(taskId) || !isImageName(name)) return null;
  return { taskId, name };
}

/** Where owners' uploads (`POST /v1/uploads`) live: `uploads/<expires>.<random>.<ext>`. */
export const UPLOAD_KEY_PREFIX = "uploads/";

/**
 * An upload's file name: the epoch second it expires at, 128 random bits (base64url: the name is
 * the credential, unguessable) and its type's extension.
 */
const UPLOAD_NAME = /^([0-9]{10,12})\.([A-Za-z0-9_-]{22})\.(png|jpeg|gif|webp)$/;

export function isUploadName(name: string): boolean {
  return UPLOAD_NAME.test(name);
}

/** The store key of an upload named by {@link isUploadName}. */
export function uploadKey(name: string): string {
  if (!isUploadName(name)) throw new Error(`not an upload name: ${name}`);
  return `${UPLOAD_KEY_PREFIX}${name}`;
}

/** The name and expiry (epoch seconds) inside an upload key, else null. */
export function parseUploadKey(key: string): { name: string; expires: number } | null {
  if (!key.startsWith(UPLOAD_KEY_PREFIX)) return null;
  const match = UPLOAD_NAME.exec(key.slice(UPLOAD_KEY_PREFIX.length));
  return match ? { name: match[0], expires: Number(match[1]) } : null;
}

import { imageKey } from "./image-keys.ts";
import type { ImageStore } from "./ports.ts";
import type { Button, Task, TaskAction, TaskStatus } from "./task.ts";

/** Why a copy attempt failed, as recorded in `imagesError` (`<code>: <detail>`). */
export type ImageCopyErrorCode =
  | "bad_url"
  | "blocked_address"
  | "unreachable"
  | "timeout"
  | "bad_status"
  | "too_many_redirects"
  | "too_large"
  | "not_an_image"
  | "undecodable";

/**
 * A copy that failed because of its source (or what the source sent): recorded on the task,
 * retried a bounded number of times. The upstream URLs stay on the task either way.
 */
export class ImageCopyError extends Error {
  override name = "ImageCopyError";
  constructor(
    readonly code: ImageCopyErrorCode,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }

  /** What `imagesError` shows: stable code first, for programs; detail after, for people. */
  get reason(): string {
    return `${this.code}: ${this.message}`;
  }
}

/** Our own image store failed (not the source's fault): the attempt is not counted. */
export class ImageStorageError extends Error {
  override name = "ImageStorageError";
}

/** The file extension of each content type a copy can have (magic bytes decide the type). */
export const EXTENSIONS: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp",
  "video/mp4": "mp4",
  "video/webm": "webm",
};

export const CONTENT_TYPES: Record<string, string> = Object.fromEntries(
  Object.entries(EXTENSIONS).map(([type, ext]) => [ext, type]),
);

/** Actions whose image is a 2×2 grid of four pictures (Midjourney's U1–U4 buttons pick one). */
const GRID_ACTIONS: ReadonlySet<TaskAction> = new Set([
  "IMAGINE",
  "VARIATION",
  "LOW_VARIATION",
  "HIGH_VARIATION",
  "REROLL",
  "ZOOM",
  "CUSTOM_ZOOM",
  "PAN",
  "INPAINT",
  "BLEND",
  "EDIT",
  "RETEXTURE",
]);

export function isGridTask(task: { action: TaskAction; buttons: Button[] }): boolean {
  return GRID_ACTIONS.has(task.action) || task.buttons.some((b) => /^U[1-4]$/.test(b.label));
}

/**
 * Whether reaching `status` with these results makes a task need a durable copy: a SUCCESS
 * with an image or a video (a shorten's text result has nothing to copy).
 */
export function needsImageCopy(update: {
  status: TaskStatus;
  imageUrl?: string | null;
  imageUrls?: string[];
  videoUrl?: string | null;
  videoUrls?: string[];
}): boolean {
  return (
    update.status === "SUCCESS" &&
    Boolean(
      update.imageUrl ||
        (update.imageUrls?.length ?? 0) > 0 ||
        update.videoUrl ||
        (update.videoUrls?.length ?? 0) > 0,
    )
  );
}

/** One upstream file to copy, and what it is. */
export interface CopySource {
  kind: "grid" | "image" | "video";
  url: string;
  /**
   * position in `imageUrls` (or, for a video, `videoUrls`; 1-based) for their entries; null for
   * `imageUrl` and `videoUrl`
   */
  index: number | null;
}

/**
 * Entries of `imageUrls` copied per task (Midjourney sends four): the rest stay upstream URLs
 * only. Bounds one task's downloads, and keeps every copy's name within `image-1` … `image-99`.
 */
export const MAX_COPIED_IMAGE_URLS = 16;

/**
 * What to copy from a SUCCESS task: `imageUrl` (a grid for grid actions, split later into its
 * quadrants; else a single image), each other entry among the first
 * {@link MAX_COPIED_IMAGE_URLS} of `imageUrls`, `videoUrl`, and each other entry among as many
 * of `videoUrls` (a video is stored as it came: no grid, no thumbnail).
 */
export function planImageCopy(
  task: Pick<Task, "action" | "buttons" | "imageUrl" | "imageUrls" | "videoUrl"> &
    Partial<Pick<Task, "videoUrls">>,
): CopySource[] {
  const plan: CopySource[] = [];
  if (task.imageUrl) {
    plan.push({ kind: isGridTask(task) ? "grid" : "image", url: task.imageUrl, index: null });
  }
  task.imageUrls.slice(0, MAX_COPIED_IMAGE_URLS).forEach((url, i) => {
    if (url && url !== task.imageUrl && !plan.some((p) => p.url === url)) {
      plan.push({ kind: "image", url, index: i + 1 });
    }
  });
  if (task.videoUrl) plan.push({ kind: "video", url: task.videoUrl, index: null });
  (task.videoUrls ?? []).slice(0, MAX_COPIED_IMAGE_URLS).forEach((url, i) => {
    if (url && !plan.some((p) => p.url === url)) plan.push({ kind: "video", url, index: i + 1 });
  });
  return plan;
}

/**
 * The task as the API shows it: a fresh, expiring link on each durable copy (signed now: links
 * are never stored, so a stored task never carries a dead one), and `imageUrl`, `imageUrls`,
 * `videoUrl` and `videoUrls` pointing at the copies of the upstream files they named, which
 * outlive the upstream's links. The originals stay in `upstreamImageUrl`, `upstreamImageUrls`,
 * `upstreamVideoUrl` and `upstreamVideoUrls`. A URL without a copy (none made yet, or the copy failed) is left as it is.
 */
export async function withCopyUrls<T extends Task>(
  store: ImageStore | undefined,
  task: T,
  origin: string,
): Promise<T> {
  if (!store || task.images.length === 0) return task;
  const images = await Promise.all(
    task.images.map(async (image) => ({
      ...image,
      url: await store.url(imageKey(task.id, image.name), { origin }),
    })),
  );
  // each copied file names the upstream URL it came from (quadrants and thumbnails name none)
  const copies = new Map<string, string>();
  for (const image of images) {
    if (image.source && image.url && !copies.has(image.source)) copies.set(image.source, image.url);
  }
  const copyOf = (url: string) => copies.get(url) ?? url;
  return {
    ...task,
    images,
    imageUrl: task.upstreamImageUrl === null ? null : copyOf(task.upstreamImageUrl),
    imageUrls: task.upstreamImageUrls.map(copyOf),
    videoUrl: task.upstreamVideoUrl === null ? null : copyOf(task.upstreamVideoUrl),
    videoUrls: task.upstreamVideoUrls.map(copyOf),
  };
}

/**
 * The validity window of a signed link: links made within the same half-TTL are identical
 * (so browsers cache the image across reads), and each stays valid between TTL/2 and TTL.
 */
export function linkWindow(now: Date, ttlSeconds: number): { signedAt: Date; expiresAt: Date } {
  const half = Math.max(1, Math.floor(ttlSeconds / 2)) * 1000;
  const signedAt = Math.floor(now.getTime() / half) * half;
  return { signedAt: new Date(signedAt), expiresAt: new Date(signedAt + ttlSeconds * 1000) };
}

import { forEachLimited } from "./concurrency.ts";
import { imageKey } from "./image-keys.ts";
import { EXTENSIONS, ImageCopyError, ImageStorageError, planImageCopy } from "./images.ts";
import type {
  Clock,
  ImageCopyJob,
  ImageCopyTaskStore,
  ImageProcessor,
  ImageSource,
  ImageStore,
  Logger,
  SourceFile,
  StoredImage,
} from "./ports.ts";
import type { Task } from "./task.ts";

export interface ImageCopyDeps {
  store: ImageCopyTaskStore;
  images: ImageStore;
  source: ImageSource;
  processor: ImageProcessor;
  clock: Clock;
  log: Logger;
}

export interface ImageCopyOptions {
  /** Attempts per task before the copy is given up (`imagesStatus` "failed"). */
  maxAttempts: number;
  /** Wait before the first retry; it doubles with each failed attempt, up to an hour. */
  retrySeconds: number;
  /** Tasks read per page of the index. */
  batchSize?: number;
  /** Tasks copied at once. */
  concurrency?: number;
  /** Start no new copy after this long (a scheduled run has a time limit; the next run goes on). */
  timeBudgetMs?: number;
  /** Longer side of the thumbnail, in pixels. */
  thumbnailSize?: number;
}

export interface ImageCopyReport {
  /** tasks whose copies were recorded */
  copied: number;
  /** tasks whose attempt failed and that will be tried again */
  retrying: number;
  /** tasks given up on this run (`imagesStatus` "failed") */
  failed: number;
  /** attempts that failed on our own storage: not counted against the task, left due */
  storageErrors: number;
  durationMs: number;
}

export const MAX_RETRY_SECONDS = 3600;

/** When the attempt after `attempts` failed ones is due: retrySeconds, doubling, capped. */
export function nextAttemptAt(now: Date, attempts: number, retrySeconds: number): Date {
  const wait = Math.min(MAX_RETRY_SECONDS, retrySeconds * 2 ** Math.max(0, attempts - 1));
  return new Date(now.getTime() + wait * 1000);
}

/**
 * Copies the media of every SUCCESS task that is due (the sparse index the SUCCESS write
 * marks) into the image store, and records the result on the task with one conditional write
 * that never touches its status: the copies (`imagesStatus` "done"), or the reason of a failed
 * attempt and when to try again, until `maxAttempts` (then "failed"). Copies are idempotent
 * (same keys, same bytes), so two runs at once, or a run that dies half-way, are harmless.
 */
export async function copyDueImages(
  deps: ImageCopyDeps,
  options: ImageCopyOptions,
): Promise<ImageCopyReport> {
  const batchSize = options.batchSize ?? 10;
  // two at a time: a 2048² grid takes ~200 MB while sharp splits it, in a 512 MB Lambda
  const concurrency = options.concurrency ?? 2;
  const startedAt = Date.now();
  const inBudget = () =>
    options.timeBudgetMs === undefined || Date.now() - startedAt < options.timeBudgetMs;
  const report: ImageCopyReport = {
    copied: 0,
    retrying: 0,
    failed: 0,
    storageErrors: 0,
    durationMs: 0,
  };
  // Only what was due when the run started: a retry scheduled by this run waits for the next.
  const dueBy = deps.clock.now();
  const seen = new Set<string>();
  let after: string | undefined;
  do {
    const page = await deps.store.listImageCopiesDue({ dueBy, limit: batchSize, after });
    const fresh = page.items.filter((job) => !seen.has(job.task.id));
    for (const job of fresh) seen.add(job.task.id);
    await forEachLimited(fresh, concurrency, async (job) => {
      if (!inBudget()) return;
      try {
        await copyOne(deps, options, job, report);
      } catch (error) {
        // the task store failed while recording: nothing was recorded, the task stays due
        report.storageErrors++;
        deps.log.error("image copy not recorded", {
          taskId: job.task.id,
          error: (error as Error).name,
          message: (error as Error).message,
        });
      }
    });
    after = page.after ?? undefined;
  } while (after && inBudget());
  report.durationMs = Date.now() - startedAt;
  if (report.copied + report.retrying + report.failed + report.storageErrors > 0) {
    deps.log.info("image copies finished", { ...report });
  }
  return report;
}

async function copyOne(
  deps: ImageCopyDeps,
  options: ImageCopyOptions,
  job: ImageCopyJob,
  report: ImageCopyReport,
): Promise<void> {
  const { task } = job;
  const attempts = job.attempts + 1;
  try {
    const images = await copyTaskImages(deps, task, options.thumbnailSize ?? 320);
    const outcome = await deps.store.recordImagesCopied(
      task.id,
      { images, attempts },
      deps.clock.now(),
    );
    if (outcome === "recorded") report.copied++;
    deps.log.info("images copied", {
      taskId: task.id,
      images: images.length,
      bytes: images.reduce((sum, image) => sum + image.bytes, 0),
      result: outcome,
    });
  } catch (error) {
    if (error instanceof ImageStorageError) {
      report.storageErrors++;
      deps.log.error("image store failed", { taskId: task.id, message: error.message });
      return;
    }
    const reason =
      error instanceof ImageCopyError
        ? error.reason
        : `internal: ${(error as Error).name}: ${(error as Error).message}`;
    const givesUp = attempts >= options.maxAttempts;
    const now = deps.clock.now();
    const outcome = await deps.store.recordImageCopyFailure(
      task.id,
      {
        attempts,
        reason: reason.slice(0, 500),
        retryAt: givesUp ? null : nextAttemptAt(now, attempts, options.retrySeconds),
      },
      now,
    );
    if (outcome === "recorded") {
      if (givesUp) report.failed++;
      else report.retrying++;
    }
    deps.log.warn("image copy failed", {
      taskId: task.id,
      upstreamTaskId: task.upstreamTaskId,
      attempts,
      givesUp,
      code: error instanceof ImageCopyError ? error.code : "internal",
    });
  }
}

/**
 * Downloads a task's media and writes the copies: the files as they came (grid, images,
 * video), the grid's four quadrants, and one thumbnail (of the grid, or the first image).
 * Names depend only on the task and the files' types, so a second run overwrites the same
 * keys with the same bytes.
 */
export async function copyTaskImages(
  deps: Pick<ImageCopyDeps, "images" | "source" | "processor">,
  task: Task,
  thumbnailSize: number,
): Promise<StoredImage[]> {
  const copies: StoredImage[] = [];
  const put = async (image: StoredImage, bytes: Uint8Array) => {
    // a name we cannot store under is this task's trouble, counted against it, never our
    // store's (which would leave the task due, its downloads repeated every run)
    const key = imageKey(task.id, image.name);
    try {
      await deps.images.put(key, bytes, image.contentType);
    } catch (error) {
      throw new ImageStorageError(`put ${image.name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    copies.push(image);
  };
  let thumbnailOf: SourceFile | null = null;
  for (const source of planImageCopy(task)) {
    const file = await deps.source.fetch(source.url, source.kind === "video" ? "video" : "image");
    const ext = EXTENSIONS[file.contentType] ?? "bin";
    const common = {
      contentType: file.contentType,
      bytes: file.bytes.byteLength,
      source: source.url,
    };
    if (source.kind === "video") {
      await put(
        {
          kind: "video",
          name: source.index === null ? `video.${ext}` : `video-${source.index}.${ext}`,
          index: source.index,
          width: null,
          height: null,
          ...common,
        },
        file.bytes,
      );
      continue;
    }
    const size = await deps.processor.measure(file);
    const name =
      source.kind === "grid"
        ? `grid.${ext}`
        : source.index === null
          ? `image.${ext}`
          : `image-${source.index}.${ext}`;
    await put({ kind: source.kind, name, index: source.index, ...size, ...common }, file.bytes);
    if (source.kind === "grid") {
      const quadrants = await deps.processor.splitGrid(file);
      for (const [i, quadrant] of quadrants.entries()) {
        await put(
          {
            kind: "quadrant",
            name: `quadrant-${i + 1}.${EXTENSIONS[quadrant.contentType] ?? "bin"}`,
            index: i + 1,
            width: quadrant.width,
            height: quadrant.height,
            contentType: quadrant.contentType,
            bytes: quadrant.bytes.byteLength,
            source: null,
          },
          quadrant.bytes,
        );
      }
    }
    thumbnailOf ??= file;
  }
  if (thumbnailOf) {
    const thumbnail = await deps.processor.thumbnail(thumbnailOf, thumbnailSize);
    await put(
      {
        kind: "thumbnail",
        name: `thumbnail.${EXTENSIONS[thumbnail.contentType] ?? "bin"}`,
        index: null,
        width: thumbnail.width,
        height: thumbnail.height,
        contentType: thumbnail.contentType,
        bytes: thumbnail.bytes.byteLength,
        source: null,
      },
      thumbnail.bytes,
    );
  }
  return copies;
}

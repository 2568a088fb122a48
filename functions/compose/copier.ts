import { copyDueImages, type ImageCopyReport } from "../core/image-copy.ts";
import { createDocumentClient, systemClock } from "../deps.ts";
import { createSharpProcessor } from "../images/processor.ts";
import { createImageSource, type Resolver } from "../images/source.ts";
import { loggerFor } from "../log.ts";
import { createImageCopyStore } from "../store/task-store.ts";
import { createImageStore } from "./images.ts";
import type { Overrides, SettingsOf } from "./settings.ts";

/**
 * The image copier as one callable run: the reconciler Lambda runs it after each reconcile
 * (functions/lambda/reconcile.ts), the local stack also on a short interval. Kept out of compose.ts
 * so that only the reconciler's bundle carries sharp and the download code.
 */
export function composeImageCopier(
  config: SettingsOf<"reconcile">,
  overrides: Overrides & { resolve?: Resolver } = {},
): (run?: { timeBudgetMs?: number }) => Promise<ImageCopyReport> {
  const clock = overrides.clock ?? systemClock;
  const log = loggerFor(config, overrides, "copy-images");
  const deps = {
    store: createImageCopyStore({
      client: overrides.client ?? createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT }),
      tableName: config.TABLE_NAME,
      log,
    }),
    images: overrides.images ?? createImageStore(config, { clock, signsLinks: false }),
    source: createImageSource({
      maxBytes: config.IMAGE_MAX_BYTES,
      timeoutMs: config.IMAGE_FETCH_TIMEOUT_MS,
      allowPrivate: config.ALLOW_PRIVATE_IMAGE_SOURCES,
      resolve: overrides.resolve,
    }),
    processor: createSharpProcessor(),
    clock,
    log,
  };
  return (run = {}) =>
    copyDueImages(deps, {
      maxAttempts: config.IMAGE_COPY_MAX_ATTEMPTS,
      retrySeconds: config.IMAGE_COPY_RETRY_SECONDS,
      ...run,
    });
}

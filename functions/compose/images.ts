import { type Config, ConfigError } from "../config.ts";
import type { Clock, ImageStore } from "../core/ports.ts";
import { createFsImageStore } from "../images/fs-store.ts";
import { createS3ImageStore } from "../images/s3-store.ts";

/** The settings that choose and configure the image store. */
export type ImageStoreSettings = Pick<Config, "IMAGE_BUCKET" | "IMAGE_S3_ENDPOINT" | "IMAGE_DIR"> &
  Partial<Pick<Config, "IMAGE_URL_SECRET" | "IMAGE_URL_TTL_SECONDS">>;

/**
 * The image store the settings name: the S3 bucket (AWS), else the folder (the local stack).
 * `signsLinks`: this function hands out links (read), so the folder store needs its secret.
 */
export function createImageStore(
  config: ImageStoreSettings,
  options: { clock: Clock; signsLinks: boolean },
): ImageStore {
  if (config.IMAGE_BUCKET) {
    return createS3ImageStore({
      bucket: config.IMAGE_BUCKET,
      endpoint: config.IMAGE_S3_ENDPOINT,
      urlTtlSeconds: config.IMAGE_URL_TTL_SECONDS ?? 3600,
      clock: options.clock,
    });
  }
  if (!config.IMAGE_DIR) {
    throw new ConfigError(
      "paperboat: setting IMAGE_BUCKET is missing (or IMAGE_DIR, for image copies on disk)",
    );
  }
  if (options.signsLinks && !config.IMAGE_URL_SECRET) {
    throw new ConfigError("paperboat: setting IMAGE_URL_SECRET is missing (IMAGE_DIR needs it)");
  }
  return createFsImageStore({
    dir: config.IMAGE_DIR,
    urlSecret: config.IMAGE_URL_SECRET,
    urlTtlSeconds: config.IMAGE_URL_TTL_SECONDS ?? 3600,
    clock: options.clock,
  });
}

import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, extname, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { parseImageKey, parseUploadKey } from "../core/image-keys.ts";
import { signImageLink, verifyImageLink } from "../core/image-links.ts";
import { CONTENT_TYPES, linkWindow } from "../core/images.ts";
import type { Clock, ImageStore, StoredObject } from "../core/ports.ts";

/** Where the API serves the files of the disk store: `GET /images/{id}/{name}?expires=&sig=`. */
export const IMAGE_LINK_PATH = "/images";

export interface FsImageStoreOptions {
  /** DATA_DIR/images on the local stack (IMAGE_DIR). */
  dir: string;
  /** Signs the links (IMAGE_URL_SECRET); a store that only writes (the copier) has none. */
  urlSecret?: string;
  /** How long a link stays valid, at most (IMAGE_URL_TTL_SECONDS). */
  urlTtlSeconds: number;
  clock: Clock;
}

/**
 * The local stack's image store: files under `dir` (kept with the rest of DATA_DIR), served by
 * the read function at HMAC-signed, expiring links, so an `<img src>` needs no API key.
 */
export function createFsImageStore(options: FsImageStoreOptions): ImageStore {
  const root = resolve(options.dir);

  function pathOf(key: string): string {
    if (!parseImageKey(key) && !parseUploadKey(key)) throw new Error(`not an image key: ${key}`);
    const path = resolve(root, ...key.split("/"));
    if (!path.startsWith(root + sep)) throw new Error(`not an image key: ${key}`);
    return path;
  }

  return {
    async put(key, bytes) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      // write then rename: a reader never sees half a file, a crash leaves no torn copy
      const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
      try {
        await writeFile(temporary, bytes);
        await rename(temporary, path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },

    async get(key): Promise<StoredObject | null> {
      const path = pathOf(key);
      const info = await stat(path).catch(() => null);
      if (!info?.isFile()) return null;
      return {
        body: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
        contentType: CONTENT_TYPES[extname(path).slice(1)] ?? "application/octet-stream",
        bytes: info.size,
      };
    },

    async url(key, request) {
      const parsed = parseImageKey(key);
      if (!parsed) throw new Error(`not an image key: ${key}`);
      if (!options.urlSecret) throw new Error("this image store signs no links (no secret)");
      const expires = Math.floor(
        linkWindow(options.clock.now(), options.urlTtlSeconds).expiresAt.getTime() / 1000,
      );
      const sig = signImageLink(options.urlSecret, key, expires);
      return `${request.origin}${IMAGE_LINK_PATH}/${parsed.taskId}/${parsed.name}?expires=${expires}&sig=${sig}`;
    },

    verifyLink(key, query) {
      if (!options.urlSecret) return false;
      return verifyImageLink(options.urlSecret, key, query, options.clock.now());
    },
  };
}

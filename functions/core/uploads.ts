import { randomBytes } from "node:crypto";
import type { UploadResponse } from "../contract/uploads.ts";
import { ValidationError } from "./errors.ts";
import { isUploadName, parseUploadKey, uploadKey } from "./image-keys.ts";
import type { Clock, ImageStore } from "./ports.ts";

/** Where an upload is served: `GET /uploads/{name}`, no API key (the name is the credential). */
export const UPLOAD_LINK_PATH = "/uploads";

/** With TASK_RETENTION_DAYS=0 (keep everything) an upload's link still needs an end: 100 years. */
const KEEP_FOREVER_DAYS = 36_500;

/** The type the first bytes show (never what the client declared), or null: not an image. */
export function sniffImage(bytes: Uint8Array): { contentType: string; ext: string } | null {
  const starts = (sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { contentType: "image/png", ext: "png" };
  if (starts([0xff, 0xd8, 0xff])) return { contentType: "image/jpeg", ext: "jpeg" };
  if (starts([0x47, 0x49, 0x46, 0x38])) return { contentType: "image/gif", ext: "gif" };
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8))
    return { contentType: "image/webp", ext: "webp" };
  return null;
}

export interface UploadDeps {
  images: ImageStore;
  clock: Clock;
  /** TASK_RETENTION_DAYS: how long the owner's things are kept; 0 keeps them. */
  retentionDays: number;
  /** The base of the link (PUBLIC_URL, no trailing slash). */
  origin: string;
}

/**
 * `POST /v1/uploads`: keeps the image as our own copy and answers a link to it that works
 * without an API key (the upstream fetches it from a prompt) until the owner's retention ends.
 */
export async function createUpload(deps: UploadDeps, dataUri: string): Promise<UploadResponse> {
  const bytes = Buffer.from(dataUri.slice(dataUri.indexOf(",") + 1), "base64");
  const type = sniffImage(bytes);
  if (!type) {
    throw new ValidationError([
      { path: "image", message: "the data URI's bytes are not a PNG, JPEG, GIF or WebP image" },
    ]);
  }
  const days = deps.retentionDays > 0 ? deps.retentionDays : KEEP_FOREVER_DAYS;
  const expires = Math.floor(deps.clock.now().getTime() / 1000) + days * 86_400;
  const name = `${expires}.${randomBytes(16).toString("base64url")}.${type.ext}`;
  await deps.images.put(uploadKey(name), bytes, type.contentType);
  return {
    url: `${deps.origin}${UPLOAD_LINK_PATH}/${name}`,
    expiresAt: new Date(expires * 1000).toISOString(),
  };
}

/** The upload a link names, if it is one of ours and not yet expired; else null. */
export function uploadKeyOf(name: string, now: Date): string | null {
  if (!isUploadName(name)) return null;
  const key = uploadKey(name);
  const parsed = parseUploadKey(key);
  return parsed && parsed.expires * 1000 > now.getTime() ? key : null;
}

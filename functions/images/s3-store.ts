import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { linkWindow } from "../core/images.ts";
import type { Clock, ImageStore, StoredObject } from "../core/ports.ts";

export interface S3ImageStoreOptions {
  /** IMAGE_BUCKET: the linked bucket's name. */
  bucket: string;
  /** IMAGE_S3_ENDPOINT: an S3-compatible server instead of AWS (tests); path-style, local keys. */
  endpoint?: string;
  region?: string;
  /** How long a presigned URL stays valid, at most (IMAGE_URL_TTL_SECONDS). */
  urlTtlSeconds: number;
  clock: Clock;
}

/** An S3 client for the bucket, or for an S3-compatible endpoint (path-style, local keys). */
export function createS3Client(options: { endpoint?: string; region?: string }): S3Client {
  return options.endpoint
    ? new S3Client({
        endpoint: options.endpoint,
        region: options.region ?? "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        // plain single-shot uploads: S3-compatible test servers do not speak aws-chunked
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      })
    : new S3Client(options.region ? { region: options.region } : {});
}

/**
 * The AWS image store: one private bucket. Reads are S3 presigned GET URLs, signed when a task
 * is read with the function's own credentials (they need s3:GetObject on the bucket, which the
 * link grants), so images never pass through Lambda or API Gateway (whose 6 MB and 10 MB
 * limits a 4× upscale can exceed).
 */
export function createS3ImageStore(options: S3ImageStoreOptions): ImageStore {
  const client = createS3Client(options);
  const bucket = options.bucket;
  return {
    async put(key, bytes, contentType) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentType: contentType,
          ContentLength: bytes.byteLength,
          // a key's bytes never change (copies are idempotent): caches may keep them
          CacheControl: "private, max-age=31536000, immutable",
        }),
      );
    },

    async get(key): Promise<StoredObject | null> {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!object.Body) return null;
        return {
          body: object.Body.transformToWebStream() as ReadableStream<Uint8Array>,
          contentType: object.ContentType ?? "application/octet-stream",
          bytes: object.ContentLength ?? 0,
        };
      } catch (error) {
        if (
          error instanceof NoSuchKey ||
          (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404)
        ) {
          return null;
        }
        throw error;
      }
    },

    async url(key) {
      // signed at the start of the window: the same URL for every read within it
      const { signedAt, expiresAt } = linkWindow(options.clock.now(), options.urlTtlSeconds);
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
        signingDate: signedAt,
        expiresIn: Math.round((expiresAt.getTime() - signedAt.getTime()) / 1000),
      });
    },
  };
}

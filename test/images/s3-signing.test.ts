import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { describe, expect, it } from "vitest";
import { imageKey } from "../../functions/core/image-keys.ts";
import { createS3ImageStore } from "../../functions/images/s3-store.ts";

/**
 * The image store signs its S3 links itself (functions/images/s3-store.ts: the SigV4 signer the
 * DynamoDB client bundles, no S3 client). The link a user opens must be exactly the one the AWS
 * SDK's own presigner makes for the same object, time and credentials, or S3 refuses it; the
 * SDK (a dev dependency only) is the reference here, since neither S3 nor a server that checks
 * signatures is reachable offline.
 */

const credentials = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE//token+with/slashes=",
};
const at = new Date("2026-11-25T10:00:00.000Z");

async function sdkLink(key: string, bucket: string, region: string, expiresIn: number) {
  // without the optional checksum parameters, which the store's links leave out
  const client = new S3Client({
    region,
    credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
    signingDate: at,
    expiresIn,
  });
}

describe("the S3 store's links", () => {
  it.each([
    ["us-east-1", "paperboat-prod-imagesbucket-a1b2c3"],
    ["eu-west-3", "paperboat-dev-images"],
  ])("are the AWS SDK presigner's, parameter for parameter (%s)", async (region, bucket) => {
    const store = createS3ImageStore({
      bucket,
      region,
      credentials,
      urlTtlSeconds: 3600,
      clock: { now: () => at },
    });
    for (const key of [
      imageKey("01JDB3K6Z5Q8N2X4V7W9Y1A3C5", "grid.png"),
      imageKey("01JDB3K6Z5Q8N2X4V7W9Y1A3C5", "quadrant-4.webp"),
      "uploads/01JDB3K6Z5Q8N2X4V7W9Y1A3C5.png",
    ]) {
      const ours = new URL(await store.url(key, { origin: "http://127.0.0.1:1" }));
      const expires = Number(ours.searchParams.get("X-Amz-Expires"));
      const theirs = new URL(await sdkLink(key, bucket, region, expires));
      expect(ours.origin + ours.pathname).toBe(theirs.origin + theirs.pathname);
      expect(Object.fromEntries(ours.searchParams)).toEqual(
        Object.fromEntries(theirs.searchParams),
      );
    }
  });

  it("change with the key, so one object's link opens no other", async () => {
    const store = createS3ImageStore({
      bucket: "paperboat-images",
      region: "us-east-1",
      credentials,
      urlTtlSeconds: 3600,
      clock: { now: () => at },
    });
    const a = new URL(await store.url("images/A/grid.png", { origin: "" }));
    const b = new URL(await store.url("images/B/grid.png", { origin: "" }));
    expect(a.searchParams.get("X-Amz-Signature")).not.toBe(b.searchParams.get("X-Amz-Signature"));
  });
});

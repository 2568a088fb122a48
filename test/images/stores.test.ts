import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageKey } from "../../functions/core/image-keys.ts";
import type { Clock, ImageStore } from "../../functions/core/ports.ts";
import { createFsImageStore } from "../../functions/images/fs-store.ts";
import { createS3ImageStore } from "../../functions/images/s3-store.ts";
import { type S3Server, startS3 } from "../s3.ts";

/**
 * Both image stores behind the same port: the disk store of the local stack, and the S3 store
 * against an S3-compatible server over real HTTP (s3rver; AWS itself is not reachable here).
 */

const TASK = "01JDB3K6Z5Q8N2X4V7W9Y1A3C5";
const BYTES = new Uint8Array(Buffer.from("\x89PNG\r\n\x1a\n a picture"));
const text = async (body: ReadableStream<Uint8Array>) =>
  Buffer.from(await new Response(body).arrayBuffer());

function movableClock(start: string) {
  let now = new Date(start);
  const clock: Clock = { now: () => now };
  return { clock, advance: (seconds: number) => (now = new Date(now.getTime() + seconds * 1000)) };
}

describe.each(["disk", "s3"] as const)("the %s store", (kind) => {
  let store: ImageStore;
  let dir: string;
  let s3: S3Server;
  beforeAll(async () => {
    const { clock } = movableClock("2026-11-25T10:00:00.000Z");
    if (kind === "disk") {
      dir = await mkdtemp(join(tmpdir(), "paperboat-store-"));
      store = createFsImageStore({ dir, urlSecret: "s".repeat(32), urlTtlSeconds: 3600, clock });
    } else {
      s3 = await startS3("paperboat-test-images");
      store = createS3ImageStore({
        bucket: s3.bucket,
        endpoint: s3.endpoint,
        urlTtlSeconds: 3600,
        clock: { now: () => new Date() },
      });
    }
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await s3?.stop();
  });

  it("keeps what is put, with its type and size, and overwrites it idempotently", async () => {
    const key = imageKey(TASK, "grid.png");
    await store.put(key, BYTES, "image/png");
    await store.put(key, BYTES, "image/png");
    const object = await store.get(key);
    expect(object).toMatchObject({ contentType: "image/png", bytes: BYTES.byteLength });
    expect((await text(object?.body as ReadableStream<Uint8Array>)).equals(BYTES)).toBe(true);
  });

  it("answers null for a key never put", async () => {
    expect(await store.get(imageKey(TASK, "quadrant-4.png"))).toBeNull();
  });

  it("hands out a URL that opens the object with no credentials", async () => {
    const key = imageKey(TASK, "grid.png");
    const url = await store.url(key, { origin: "http://127.0.0.1:1" });
    if (kind === "s3") {
      const parsed = new URL(url);
      expect(parsed.origin).toBe(s3.endpoint);
      expect(parsed.pathname).toBe(`/${s3.bucket}/${key}`);
      expect(parsed.searchParams.get("X-Amz-Expires")).not.toBeNull();
      expect(Number(parsed.searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(3600);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/png");
      expect(Buffer.from(await response.arrayBuffer()).equals(BYTES)).toBe(true);
      expect(store.verifyLink).toBeUndefined();
    } else {
      expect(url).toMatch(
        new RegExp(
          `^http://127\\.0\\.0\\.1:1/images/${TASK}/grid\\.png\\?expires=\\d+&sig=[\\w-]{43}$`,
        ),
      );
    }
    // the same URL for reads within one window (browsers cache the image)
    expect(await store.url(key, { origin: "http://127.0.0.1:1" })).toBe(url);
  });
});

describe("the disk store's links", () => {
  it("verify only for their key and signature, and until they expire", async () => {
    const dir = await mkdtemp(join(tmpdir(), "paperboat-store-"));
    try {
      const { clock, advance } = movableClock("2026-11-25T10:00:00.000Z");
      const store = createFsImageStore({
        dir,
        urlSecret: "k".repeat(32),
        urlTtlSeconds: 600,
        clock,
      });
      const other = createFsImageStore({
        dir,
        urlSecret: "o".repeat(32),
        urlTtlSeconds: 600,
        clock,
      });
      const key = imageKey(TASK, "thumbnail.webp");
      const link = new URL(await store.url(key, { origin: "http://x" }));
      const query = {
        expires: link.searchParams.get("expires") ?? "",
        sig: link.searchParams.get("sig") ?? "",
      };
      // valid between half the TTL and the TTL: here 10:10 (window start 10:00 + 600 s)
      expect(Number(query.expires)).toBe(Date.parse("2026-11-25T10:10:00.000Z") / 1000);
      expect(store.verifyLink?.(key, query)).toBe(true);
      expect(store.verifyLink?.(imageKey(TASK, "grid.png"), query)).toBe(false);
      expect(
        store.verifyLink?.(key, { ...query, expires: String(Number(query.expires) + 1) }),
      ).toBe(false);
      const flipped = `${query.sig.startsWith("A") ? "B" : "A"}${query.sig.slice(1)}`;
      expect(store.verifyLink?.(key, { ...query, sig: flipped })).toBe(false);
      expect(store.verifyLink?.(key, { expires: query.expires })).toBe(false);
      expect(store.verifyLink?.(key, { ...query, expires: "1e12" })).toBe(false);
      expect(other.verifyLink?.(key, query)).toBe(false);
      advance(599);
      expect(store.verifyLink?.(key, query)).toBe(true);
      advance(1);
      expect(store.verifyLink?.(key, query)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses keys that are not image keys, and leaves no temporary files behind", async () => {
    const dir = await mkdtemp(join(tmpdir(), "paperboat-store-"));
    try {
      const { clock } = movableClock("2026-11-25T10:00:00.000Z");
      const store = createFsImageStore({ dir, urlTtlSeconds: 600, clock });
      for (const key of ["tasks/../../etc/passwd", `tasks/${TASK}/../x.png`, "other/a.png"]) {
        await expect(store.put(key, BYTES, "image/png")).rejects.toThrow(/not an image key/);
      }
      await Promise.all(
        Array.from({ length: 8 }, () => store.put(imageKey(TASK, "grid.png"), BYTES, "image/png")),
      );
      expect(await readdir(join(dir, "tasks", TASK))).toEqual(["grid.png"]);
      // a store without a secret (the copier's) writes but signs no links
      await expect(store.url(imageKey(TASK, "grid.png"), { origin: "http://x" })).rejects.toThrow(
        /signs no links/,
      );
      expect(store.verifyLink?.(imageKey(TASK, "grid.png"), { expires: "1", sig: "x" })).toBe(
        false,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_RETRY_SECONDS, nextAttemptAt } from "../../functions/core/image-copy.ts";
import { imageKey, isImageName, parseImageKey } from "../../functions/core/image-keys.ts";
import { signImageLink, verifyImageLink } from "../../functions/core/image-links.ts";
import {
  isGridTask,
  linkWindow,
  needsImageCopy,
  planImageCopy,
  withCopyUrls,
} from "../../functions/core/images.ts";
import { type Button, Task, type TaskAction, type TaskImage } from "../../functions/core/task.ts";
import { createFsImageStore } from "../../functions/images/fs-store.ts";

const ID = "01JDB3K6Z5Q8N2X4V7W9Y1A3C5";
const U1: Button = {
  customId: "MJ::JOB::upsample::1::h",
  label: "U1",
  emoji: "",
  style: 2,
  type: 2,
};

describe("planImageCopy: what a SUCCESS task's copy takes", () => {
  const task = (
    action: TaskAction,
    fields: { imageUrl?: string | null; imageUrls?: string[]; videoUrl?: string | null },
    buttons: Button[] = [],
  ) => ({ action, buttons, imageUrl: null, imageUrls: [], videoUrl: null, ...fields });

  it.each([
    ["an imagine's grid", task("IMAGINE", { imageUrl: "g" }), [["grid", "g", null]]],
    ["a blend's grid", task("BLEND", { imageUrl: "g" }), [["grid", "g", null]]],
    ["an upscale's single image", task("UPSCALE", { imageUrl: "u" }), [["image", "u", null]]],
    [
      "an unknown action with U buttons: a grid",
      task("ACTION", { imageUrl: "g" }, [U1]),
      [["grid", "g", null]],
    ],
    [
      "imageUrls beside the grid, without repeating it",
      task("IMAGINE", { imageUrl: "g", imageUrls: ["a", "g", "b", "a"] }),
      [
        ["grid", "g", null],
        ["image", "a", 1],
        ["image", "b", 3],
      ],
    ],
    [
      "a video and its image",
      task("VIDEO", { imageUrl: "i", videoUrl: "v" }),
      [
        ["image", "i", null],
        ["video", "v", null],
      ],
    ],
    ["nothing for a text result", task("SHORTEN", {}), []],
  ] as const)("%s", (_what, input, expected) => {
    expect(planImageCopy(input).map((p) => [p.kind, p.url, p.index])).toEqual(expected);
  });

  it("knows grids by action or by their U1–U4 buttons", () => {
    expect(isGridTask({ action: "VARIATION", buttons: [] })).toBe(true);
    expect(isGridTask({ action: "UPSCALE", buttons: [] })).toBe(false);
    expect(isGridTask({ action: "ACTION", buttons: [U1] })).toBe(true);
  });

  it.each([
    [{ status: "SUCCESS", imageUrl: "g" }, true],
    [{ status: "SUCCESS", imageUrls: ["a"] }, true],
    [{ status: "SUCCESS", videoUrl: "v" }, true],
    [{ status: "SUCCESS", imageUrl: null, imageUrls: [] }, false],
    [{ status: "FAILURE", imageUrl: "g" }, false],
    [{ status: "IN_PROGRESS", imageUrl: "preview" }, false],
  ] as const)("needsImageCopy(%j) = %s", (update, expected) => {
    expect(needsImageCopy(update as Parameters<typeof needsImageCopy>[0])).toBe(expected);
  });
});

describe("retries", () => {
  it("wait retrySeconds, doubling with each failed attempt, at most an hour", () => {
    const now = new Date("2026-11-25T10:00:00.000Z");
    const waits = [1, 2, 3, 4, 5, 6, 7, 8].map(
      (attempts) => (nextAttemptAt(now, attempts, 60).getTime() - now.getTime()) / 1000,
    );
    expect(waits).toEqual([60, 120, 240, 480, 960, 1920, 3600, 3600]);
    expect(MAX_RETRY_SECONDS).toBe(3600);
    expect(nextAttemptAt(now, 3, 0)).toEqual(now);
  });
});

describe("links", () => {
  it("share one window: the same expiry for every read within half the TTL", () => {
    const a = linkWindow(new Date("2026-11-25T10:00:00.000Z"), 3600);
    const b = linkWindow(new Date("2026-11-25T10:29:59.999Z"), 3600);
    const c = linkWindow(new Date("2026-11-25T10:30:00.000Z"), 3600);
    expect(a).toEqual(b);
    expect(a.expiresAt.toISOString()).toBe("2026-11-25T11:00:00.000Z");
    expect(c.expiresAt.toISOString()).toBe("2026-11-25T11:30:00.000Z");
  });

  it("verify only the key and expiry they were signed for, with the same secret, in time", () => {
    const key = imageKey(ID, "grid.png");
    const now = new Date("2026-11-25T10:00:00.000Z");
    const expires = now.getTime() / 1000 + 60;
    const sig = signImageLink("a".repeat(32), key, expires);
    const q = { expires: String(expires), sig };
    expect(verifyImageLink("a".repeat(32), key, q, now)).toBe(true);
    expect(verifyImageLink("b".repeat(32), key, q, now)).toBe(false);
    expect(verifyImageLink("a".repeat(32), imageKey(ID, "quadrant-1.png"), q, now)).toBe(false);
    expect(verifyImageLink("a".repeat(32), key, { ...q, expires: String(expires + 1) }, now)).toBe(
      false,
    );
    expect(verifyImageLink("a".repeat(32), key, q, new Date(expires * 1000))).toBe(false);
    expect(verifyImageLink("a".repeat(32), key, { expires: "1e9", sig }, now)).toBe(false);
    expect(verifyImageLink("a".repeat(32), key, { sig }, now)).toBe(false);
  });
});

describe("image keys", () => {
  it.each(["grid.png", "quadrant-4.png", "image-12.jpeg", "thumbnail.webp", "video.mp4"])(
    "%s is a name we give",
    (name) => {
      expect(isImageName(name)).toBe(true);
      expect(parseImageKey(imageKey(ID, name))).toEqual({ taskId: ID, name });
    },
  );

  it.each(["../x.png", "grid", "Grid.png", "a/b.png", "quadrant-0.png", ".png", "grid.png/"])(
    "%s is not",
    (name) => {
      expect(isImageName(name)).toBe(false);
      expect(() => imageKey(ID, name)).toThrow(/not an image key/);
    },
  );

  it("refuses keys outside tasks/<id>/", () => {
    expect(parseImageKey(`other/${ID}/grid.png`)).toBeNull();
    expect(parseImageKey(`tasks/${ID}/x/grid.png`)).toBeNull();
    expect(parseImageKey("tasks/not-an-id/grid.png")).toBeNull();
  });
});

describe("withCopyUrls: the task as read, its result URLs on the copies", () => {
  const store = createFsImageStore({
    dir: join(tmpdir(), "paperboat-never-written"),
    urlSecret: "s".repeat(32),
    urlTtlSeconds: 3600,
    clock: { now: () => new Date("2026-11-25T10:00:00.000Z") },
  });
  const image = (kind: TaskImage["kind"], name: string, source: string | null): TaskImage => ({
    kind,
    name,
    index: null,
    url: null,
    width: kind === "video" ? null : 64,
    height: kind === "video" ? null : 64,
    contentType: "image/png",
    bytes: 1,
    source,
  });
  const stored = Task.parse({
    id: ID,
    owner: "alice",
    action: "IMAGINE",
    status: "SUCCESS",
    progress: 100,
    prompt: "p",
    upstreamTaskId: "1",
    parentId: null,
    imageUrl: "https://cdn/grid.png",
    imageUrls: ["https://cdn/grid.png", "https://cdn/2.png", "https://cdn/never-copied.png"],
    videoUrl: "https://cdn/v.mp4",
    buttons: [],
    failReason: null,
    metadata: {},
    createdAt: "2026-11-25T09:59:00.000Z",
    updatedAt: "2026-11-25T10:00:00.000Z",
    finishedAt: "2026-11-25T10:00:00.000Z",
    upstreamImageUrl: "https://cdn/grid.png",
    upstreamImageUrls: [
      "https://cdn/grid.png",
      "https://cdn/2.png",
      "https://cdn/never-copied.png",
    ],
    upstreamVideoUrl: "https://cdn/v.mp4",
  });
  const origin = "http://127.0.0.1:3000";
  const link = (name: string) =>
    new RegExp(`^${origin}/images/${ID}/${name.replace(".", "\\.")}\\?expires=\\d+&sig=`);

  it("points each URL at the copy of the file it named; the originals stay in upstream*", async () => {
    const read = await withCopyUrls(
      store,
      {
        ...stored,
        imagesStatus: "done",
        images: [
          image("grid", "grid.png", "https://cdn/grid.png"),
          image("quadrant", "quadrant-1.png", null),
          image("image", "image-2.png", "https://cdn/2.png"),
          image("video", "video.mp4", "https://cdn/v.mp4"),
          image("thumbnail", "thumbnail.webp", null),
        ],
      },
      origin,
    );
    expect(read.imageUrl).toMatch(link("grid.png"));
    expect(read.imageUrls[0]).toBe(read.imageUrl);
    expect(read.imageUrls[1]).toMatch(link("image-2.png"));
    // no copy of that one: it stays the upstream's
    expect(read.imageUrls[2]).toBe("https://cdn/never-copied.png");
    expect(read.videoUrl).toMatch(link("video.mp4"));
    expect(read.images.map((i) => i.url)).toEqual([
      read.imageUrl,
      expect.stringMatching(link("quadrant-1.png")),
      read.imageUrls[1],
      read.videoUrl,
      expect.stringMatching(link("thumbnail.webp")),
    ]);
    expect([read.upstreamImageUrl, read.upstreamImageUrls, read.upstreamVideoUrl]).toEqual([
      stored.imageUrl,
      stored.imageUrls,
      stored.videoUrl,
    ]);
  });

  it("leaves a task without copies (or without a store) as it was stored", async () => {
    expect(await withCopyUrls(store, stored, origin)).toEqual(stored);
    expect(await withCopyUrls(undefined, stored, origin)).toEqual(stored);
  });
});

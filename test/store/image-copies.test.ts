import { beforeAll, describe, expect, it } from "vitest";
import type { StoredImage, TaskStore, TaskUpdate } from "../../functions/core/ports.ts";
import { newTask } from "../../functions/core/submit.ts";
import type { TaskAction } from "../../functions/core/task.ts";
import { createIdFactory } from "../../functions/deps.ts";
import { itemToTask, taskToItem } from "../../functions/store/task-store.ts";
import { createTestStore } from "../helpers.ts";

/**
 * The copy index and the copier's writes, on DynamoDB Local: the SUCCESS write marks, the
 * copier's records are conditional and never touch the status.
 */

const newId = createIdFactory();
const at = new Date("2026-11-25T10:00:00.000Z");
const later = (seconds: number) => new Date(at.getTime() + seconds * 1000);
let store: TaskStore;

beforeAll(async () => {
  ({ store } = await createTestStore());
});

const SUCCESS: TaskUpdate = {
  status: "SUCCESS",
  progress: 100,
  upstreamTaskId: "1773314942177684",
  imageUrl: "https://cdn.example.org/grid.png",
  imageUrls: [],
  videoUrl: null,
  buttons: [],
  prompts: [],
  finishedAt: at.toISOString(),
};

const GRID: StoredImage = {
  kind: "grid",
  name: "grid.png",
  index: null,
  width: 512,
  height: 512,
  contentType: "image/png",
  bytes: 1234,
  source: "https://cdn.example.org/grid.png",
};

async function fresh(action: TaskAction = "IMAGINE") {
  const task = newTask({ id: newId(), owner: "alice", action, prompt: "a boat", now: at });
  await store.create(task);
  return task;
}

/** Ids due by `when`, from the index. */
async function dueIds(when: Date): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const page = await store.listImageCopiesDue({ dueBy: when, limit: 2, after });
    ids.push(...page.items.map((j) => j.task.id));
    after = page.after ?? undefined;
  } while (after);
  return ids;
}

describe("the SUCCESS write marks tasks to copy", () => {
  it.each([
    ["a SUCCESS with an image", "pending", SUCCESS],
    [
      "a SUCCESS with only imageUrls",
      "pending",
      { ...SUCCESS, imageUrl: null, imageUrls: ["https://x/1.png"] },
    ],
    [
      "a SUCCESS with only a video",
      "pending",
      { ...SUCCESS, imageUrl: null, videoUrl: "https://x/v.mp4" },
    ],
    ["a SUCCESS without media (shorten)", null, { ...SUCCESS, imageUrl: null }],
    ["a FAILURE", null, { status: "FAILURE", failReason: "no", upstreamTaskId: "1" }],
    [
      "progress with a preview image",
      null,
      { status: "IN_PROGRESS", progress: 40, imageUrl: "https://x/p.png" },
    ],
  ] as const)("%s → imagesStatus %s", async (_what, expected, update) => {
    const task = await fresh();
    const result = await store.advance(task.id, update as TaskUpdate, at);
    expect(result.outcome).toBe("applied");
    expect(result.task?.imagesStatus).toBe(expected);
    expect((await dueIds(later(1))).includes(task.id)).toBe(expected === "pending");
  });

  it("marks once: a duplicate SUCCESS after the copy is recorded changes nothing", async () => {
    const task = await fresh();
    await store.advance(task.id, SUCCESS, at);
    expect(await store.recordImagesCopied(task.id, { images: [GRID], attempts: 1 }, later(5))).toBe(
      "recorded",
    );
    expect((await store.advance(task.id, SUCCESS, later(6))).outcome).toBe("stale");
    const after = await store.get(task.id);
    expect(after).toMatchObject({ status: "SUCCESS", imagesStatus: "done", images: [GRID] });
    expect(await dueIds(later(3600))).not.toContain(task.id);
  });
});

describe("the copy index", () => {
  it("lists only what is due, soonest first, page by page", async () => {
    const { store: own } = await createTestStore();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const task = newTask({ id: newId(), owner: "bob", action: "IMAGINE", prompt: "b", now: at });
      await own.create(task);
      await own.advance(task.id, SUCCESS, later(i));
      ids.push(task.id);
    }
    // the second one failed once and waits a minute
    await own.recordImageCopyFailure(
      ids[1] as string,
      { attempts: 1, reason: "timeout: slow", retryAt: later(61) },
      later(5),
    );
    const listed = async (when: Date) => {
      const out: string[] = [];
      let after: string | undefined;
      do {
        const page = await own.listImageCopiesDue({ dueBy: when, limit: 2, after });
        out.push(...page.items.map((j) => j.task.id));
        after = page.after ?? undefined;
      } while (after);
      return out;
    };
    expect(await listed(later(2))).toEqual([ids[0], ids[2]]);
    expect(await listed(later(60))).toEqual([ids[0], ids[2], ids[3], ids[4]]);
    expect(await listed(later(61))).toEqual([ids[0], ids[2], ids[3], ids[4], ids[1]]);
    const page = await own.listImageCopiesDue({ dueBy: later(61), limit: 5 });
    expect(page.items.find((j) => j.task.id === ids[1])?.attempts).toBe(1);
    expect(page.items.find((j) => j.task.id === ids[0])?.attempts).toBe(0);
  });
});

describe("the copier's records", () => {
  it("records the copies once, without touching status, and a late webhook stays stale", async () => {
    const task = await fresh();
    const applied = await store.advance(task.id, SUCCESS, at);
    const marked = applied.task;
    expect(await store.recordImagesCopied(task.id, { images: [GRID], attempts: 1 }, later(9))).toBe(
      "recorded",
    );
    expect(await store.recordImagesCopied(task.id, { images: [], attempts: 2 }, later(10))).toBe(
      "stale",
    );
    const after = await store.get(task.id);
    expect(after).toMatchObject({
      status: "SUCCESS",
      progress: 100,
      imageUrl: SUCCESS.imageUrl,
      images: [{ ...GRID, url: null }],
      imagesStatus: "done",
      imagesError: null,
      updatedAt: later(9).toISOString(),
      finishedAt: marked?.finishedAt,
    });
    expect(
      (await store.advance(task.id, { status: "IN_PROGRESS", progress: 50 }, later(11))).outcome,
    ).toBe("stale");
  });

  it("counts each failed attempt once, moves the retry, and gives up when told", async () => {
    const task = await fresh();
    await store.advance(task.id, SUCCESS, at);
    const fail = (attempts: number, retryAt: Date | null) =>
      store.recordImageCopyFailure(
        task.id,
        { attempts, reason: `bad_status: attempt ${attempts}`, retryAt },
        later(attempts),
      );
    expect(await fail(1, later(60))).toBe("recorded");
    // another run recording the same attempt: not counted twice
    expect(await fail(1, later(60))).toBe("stale");
    expect(await fail(3, later(60))).toBe("stale");
    expect(await store.get(task.id)).toMatchObject({
      imagesStatus: "pending",
      imagesError: "bad_status: attempt 1",
    });
    expect(await dueIds(later(59))).not.toContain(task.id);
    expect(await dueIds(later(60))).toContain(task.id);

    expect(await fail(2, null)).toBe("recorded");
    expect(await store.get(task.id)).toMatchObject({
      status: "SUCCESS",
      imagesStatus: "failed",
      imagesError: "bad_status: attempt 2",
      images: [],
      imageUrl: SUCCESS.imageUrl,
    });
    expect(await dueIds(later(99_999))).not.toContain(task.id);
    // given up: neither a late success record nor another failure applies
    expect(await store.recordImagesCopied(task.id, { images: [GRID], attempts: 3 }, later(9))).toBe(
      "stale",
    );
    expect(await fail(3, later(90))).toBe("stale");
  });

  it("answers stale for a task that does not exist, or was never marked", async () => {
    const unknown = newId();
    expect(await store.recordImagesCopied(unknown, { images: [], attempts: 1 }, at)).toBe("stale");
    const task = await fresh();
    expect(
      await store.recordImageCopyFailure(task.id, { attempts: 1, reason: "x", retryAt: null }, at),
    ).toBe("stale");
    expect(await store.get(unknown)).toBeNull();
  });
});

describe("items", () => {
  it("store copies without their links, and leave the fields out until there are copies", async () => {
    const task = newTask({ id: newId(), owner: "a", action: "IMAGINE", prompt: "p", now: at });
    const item = taskToItem(task);
    expect(item).not.toHaveProperty("images");
    expect(item).not.toHaveProperty("imagesStatus");
    expect(itemToTask(item)).toEqual(task);
    const copied = {
      ...task,
      images: [{ ...GRID, url: "https://signed" }],
      imagesStatus: "done" as const,
    };
    const stored = taskToItem(copied);
    expect(stored.images).toEqual([GRID]);
    expect(itemToTask(stored).images).toEqual([{ ...GRID, url: null }]);
  });
});

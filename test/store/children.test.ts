import { beforeAll, describe, expect, it } from "vitest";
import type { TaskStore } from "../../functions/core/ports.ts";
import { newTask } from "../../functions/core/submit.ts";
import { createIdFactory } from "../../functions/deps.ts";
import { createTestStore } from "../helpers.ts";

const newId = createIdFactory();
const now = new Date();
let store: TaskStore;

beforeAll(async () => {
  ({ store } = await createTestStore());
});

describe("children on the parent item", () => {
  it("a child's creation records its id on the parent, newest first, read back with the parent", async () => {
    const parent = newTask({ id: newId(), owner: "alice", action: "IMAGINE", prompt: "p", now });
    await store.create(parent);
    expect(await store.getTree(parent.id)).toEqual({ task: parent, childIds: [] });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const child = newTask({
        id: newId(),
        owner: "alice",
        action: "UPSCALE",
        prompt: "p",
        parentId: parent.id,
        now,
      });
      await store.create(child);
      ids.push(child.id);
    }
    const tree = await store.getTree(parent.id);
    expect(tree?.childIds).toEqual([...ids].reverse());
    expect(tree?.task).toEqual(parent);
  });

  it("refuses a child whose parent does not exist, and writes neither", async () => {
    const orphan = newTask({
      id: newId(),
      owner: "alice",
      action: "UPSCALE",
      prompt: "p",
      parentId: newId(),
      now,
    });
    await expect(store.create(orphan)).rejects.toThrow();
    expect(await store.get(orphan.id)).toBeNull();
  });
});

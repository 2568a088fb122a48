import { beforeAll, describe, expect, it } from "vitest";
import type { TaskStore } from "../../functions/core/ports.ts";
import { newTask } from "../../functions/core/submit.ts";
import { createIdFactory } from "../../functions/deps.ts";
import { createTestStore } from "../helpers.ts";

const newId = createIdFactory();
const at = new Date("2026-11-25T10:00:00.000Z");
let store: TaskStore;

beforeAll(async () => {
  ({ store } = await createTestStore());
});

async function fresh(owner = "alice") {
  const task = newTask({ id: newId(), owner, action: "IMAGINE", prompt: "a boat", now: at });
  await store.create(task);
  return task;
}

describe("task store: one conditional write per state change", () => {
  it("creates a task once; a second create with the same id fails", async () => {
    const task = await fresh();
    expect(await store.get(task.id)).toEqual(task);
    await expect(store.create(task)).rejects.toThrow();
  });

  it.each([
    [
      "SUBMITTED then IN_PROGRESS 30",
      [{ status: "SUBMITTED" }, { status: "IN_PROGRESS", progress: 30 }],
      ["applied", "applied"],
    ],
    [
      "progress never goes down",
      [
        { status: "IN_PROGRESS", progress: 60 },
        { status: "IN_PROGRESS", progress: 30 },
      ],
      ["applied", "stale"],
    ],
    [
      "equal progress is a duplicate",
      [
        { status: "IN_PROGRESS", progress: 60 },
        { status: "IN_PROGRESS", progress: 60 },
      ],
      ["applied", "stale"],
    ],
    [
      "nothing after SUCCESS",
      [
        { status: "SUCCESS", progress: 100 },
        { status: "IN_PROGRESS", progress: 99 },
      ],
      ["applied", "stale"],
    ],
    [
      "FAILURE after SUCCESS is ignored",
      [{ status: "SUCCESS", progress: 100 }, { status: "FAILURE" }],
      ["applied", "stale"],
    ],
    [
      "SUBMITTED after IN_PROGRESS is ignored",
      [
        { status: "IN_PROGRESS", progress: 5 },
        { status: "SUBMITTED", progress: 0 },
      ],
      ["applied", "stale"],
    ],
    // docs/api.md: a gateway may reveal a modal late (new-api's 21→1 rewrite, QuantumNous/new-api
    // relay/mjproxy_handler.go), so MODAL may follow SUBMITTED, never IN_PROGRESS
    [
      "MODAL may follow SUBMITTED",
      [
        { status: "SUBMITTED", progress: 0 },
        { status: "MODAL", progress: 0 },
      ],
      ["applied", "applied"],
    ],
    [
      "SUBMITTED after MODAL is ignored (only the modal's own answer leaves MODAL)",
      [
        { status: "MODAL", progress: 0 },
        { status: "SUBMITTED", progress: 0 },
      ],
      ["applied", "stale"],
    ],
    [
      "MODAL after IN_PROGRESS is ignored",
      [
        { status: "IN_PROGRESS", progress: 3 },
        { status: "MODAL", progress: 0 },
      ],
      ["applied", "stale"],
    ],
  ] as const)("%s", async (_name, updates, outcomes) => {
    const task = await fresh();
    const results = [];
    for (const update of updates)
      results.push((await store.advance(task.id, { ...update }, at)).outcome);
    expect(results).toEqual(outcomes);
  });

  it("webhook writes in flight together each move their own task, and read back as sent", async () => {
    // apply's UpdateItems go out through one sender (functions/store/update-item.ts): nothing
    // of one write may leak into another in flight at the same time
    const tasks = await Promise.all(Array.from({ length: 8 }, () => fresh()));
    const outcomes = await Promise.all(
      tasks.map((task, i) =>
        store.apply(
          task.id,
          { status: "IN_PROGRESS", progress: 10 + i, upstreamTaskId: `up-${i}` },
          at,
        ),
      ),
    );
    expect(outcomes).toEqual(tasks.map(() => "applied"));
    const stored = await Promise.all(tasks.map((task) => store.get(task.id)));
    expect(stored.map((t) => [t?.status, t?.progress, t?.upstreamTaskId])).toEqual(
      tasks.map((_, i) => ["IN_PROGRESS", 10 + i, `up-${i}`]),
    );
    // the same step again is a duplicate; a final one still applies
    expect(await store.apply(tasks[0]?.id ?? "", { status: "IN_PROGRESS", progress: 10 }, at)).toBe(
      "stale",
    );
    expect(await store.apply(tasks[1]?.id ?? "", { status: "SUCCESS", progress: 100 }, at)).toBe(
      "applied",
    );
    expect((await store.get(tasks[1]?.id ?? ""))?.status).toBe("SUCCESS");
  });

  it("binds a task to one upstream task: another upstream id cannot move it", async () => {
    const task = await fresh();
    expect(
      (
        await store.advance(
          task.id,
          { status: "SUBMITTED", progress: 0, upstreamTaskId: "111" },
          at,
        )
      ).outcome,
    ).toBe("applied");
    const other = await store.advance(
      task.id,
      { status: "SUCCESS", progress: 100, upstreamTaskId: "222" },
      at,
    );
    expect(other.outcome).toBe("stale");
    expect(other.task?.status).toBe("SUBMITTED");
    expect((await store.get(task.id))?.upstreamTaskId).toBe("111");
  });

  it("a submit answer may move NOT_START to MODAL", async () => {
    const task = await fresh();
    const r = await store.advance(
      task.id,
      { status: "MODAL", progress: 0, upstreamTaskId: "9" },
      at,
      { allowModal: true },
    );
    expect(r.outcome).toBe("applied");
    expect(r.task?.status).toBe("MODAL");
  });

  it("a stale update reports the stored task; an unknown id reports none", async () => {
    const task = await fresh();
    await store.advance(task.id, { status: "SUCCESS", progress: 100, buttons: [] }, at);
    const stale = await store.advance(task.id, { status: "IN_PROGRESS", progress: 10 }, at);
    expect(stale).toMatchObject({ outcome: "stale", task: { id: task.id, status: "SUCCESS" } });
    expect(await store.advance(newId(), { status: "SUBMITTED" }, at)).toEqual({
      outcome: "stale",
      task: null,
    });
  });

  it("FAILURE keeps the progress the task had", async () => {
    const task = await fresh();
    await store.advance(task.id, { status: "IN_PROGRESS", progress: 46 }, at);
    const r = await store.advance(task.id, { status: "FAILURE", failReason: "boom" }, at);
    expect(r.task).toMatchObject({ status: "FAILURE", progress: 46, failReason: "boom" });
  });

  it("lists an owner's tasks newest first, by status, in pages, and unfinished ones from the sparse index", async () => {
    const owner = `paging_${newId()}`;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await fresh(owner)).id);
    await store.advance(ids[1] as string, { status: "SUCCESS", progress: 100 }, at);
    await store.advance(ids[4] as string, { status: "SUCCESS", progress: 100 }, at);

    const seen: string[] = [];
    let afterId: string | undefined;
    do {
      const page = await store.listByOwner(owner, { limit: 3, afterId });
      seen.push(...page.items.map((t) => t.id));
      afterId = page.lastId ?? undefined;
    } while (afterId);
    expect(seen).toEqual([...ids].reverse());

    const done = await store.listByOwner(owner, { status: "SUCCESS", limit: 10 });
    expect(done.items.map((t) => t.id)).toEqual([ids[4], ids[1]]);
    const first = await store.listByOwner(owner, { status: "NOT_START", limit: 2 });
    const second = await store.listByOwner(owner, {
      status: "NOT_START",
      limit: 10,
      afterId: first.lastId ?? "",
    });
    expect([...first.items, ...second.items].map((t) => t.id)).toEqual([
      ids[6],
      ids[5],
      ids[3],
      ids[2],
      ids[0],
    ]);

    const unfinished: string[] = [];
    let after: string | undefined;
    do {
      const page = await store.listUnfinished({ limit: 50, afterId: after });
      unfinished.push(...page.items.map((t) => t.id));
      after = page.lastId ?? undefined;
    } while (after);
    expect(unfinished).toEqual(expect.arrayContaining([ids[0], ids[2], ids[3], ids[5], ids[6]]));
    expect(unfinished).not.toContain(ids[1]);
    expect(unfinished).not.toContain(ids[4]);
  });
});

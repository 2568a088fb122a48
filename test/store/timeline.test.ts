import { beforeAll, describe, expect, it } from "vitest";
import type { TaskStore } from "../../functions/core/ports.ts";
import { newTask } from "../../functions/core/submit.ts";
import { taskRank } from "../../functions/core/task.ts";
import { stateOfRank, stepsAfter } from "../../functions/core/watch.ts";
import { createIdFactory } from "../../functions/deps.ts";
import { createTestStore } from "../helpers.ts";

/**
 * The recorded states of a task (TaskStore.getTimeline), which the live stream sends: the
 * creating put records the first, each applied advance appends its own in the same write, and
 * a stale write (late, duplicate, out of order) records nothing.
 */
const newId = createIdFactory();
const at = new Date("2026-06-01T12:00:00.000Z");
let store: TaskStore;

beforeAll(async () => {
  ({ store } = await createTestStore());
});

describe("a task's recorded states", () => {
  it("records the creation and every applied write, in order; stale writes add nothing", async () => {
    const task = newTask({ id: newId(), owner: "alice", action: "IMAGINE", prompt: "p", now: at });
    await store.create(task);
    expect((await store.getTimeline(task.id))?.steps).toEqual([0]);

    expect(await store.apply(task.id, { status: "SUBMITTED", upstreamTaskId: "1" }, at)).toBe(
      "applied",
    );
    expect(await store.apply(task.id, { status: "IN_PROGRESS", progress: 40 }, at)).toBe("applied");
    // a late and a duplicate webhook
    expect(await store.apply(task.id, { status: "IN_PROGRESS", progress: 20 }, at)).toBe("stale");
    expect(await store.apply(task.id, { status: "IN_PROGRESS", progress: 40 }, at)).toBe("stale");
    const done = await store.advance(task.id, { status: "SUCCESS", progress: 100 }, at);
    expect(done.outcome).toBe("applied");
    expect(await store.apply(task.id, { status: "FAILURE" }, at)).toBe("stale");

    const timeline = await store.getTimeline(task.id);
    if (!timeline) throw new Error("the task is gone");
    expect(timeline.steps).toEqual([0, 1000, 2040, 3100]);
    expect(timeline.task.status).toBe("SUCCESS");
    // the steps do not show in the task itself
    expect(timeline.task).not.toHaveProperty("steps");
    expect(
      stepsAfter(timeline, null).map((s) => `${s.id}:${s.task.status}:${s.task.progress}`),
    ).toEqual(["1:NOT_START:0", "2:SUBMITTED:0", "3:IN_PROGRESS:40", "4:SUCCESS:100"]);
    expect(stepsAfter(timeline, 2).map((s) => s.id)).toEqual([3, 4]);
    // an older state shows nothing that only the finished task has
    const [progress, done2] = stepsAfter(timeline, 2);
    expect(progress?.task).toMatchObject({ finishedAt: null, buttons: [], failReason: null });
    expect(done2?.task).toEqual({ ...timeline.task, children: [] });
    expect(stepsAfter(timeline, 4)).toEqual([]);
  });

  it.each([
    ["NOT_START", 0],
    ["SUBMITTED", 0],
    ["MODAL", 0],
    ["IN_PROGRESS", 0],
    ["IN_PROGRESS", 57],
    ["IN_PROGRESS", 100],
  ] as const)("reads %s %i back from its rank", (status, progress) => {
    expect(stateOfRank(taskRank(status, progress), "SUCCESS")).toEqual({ status, progress });
  });

  it.each(["SUCCESS", "FAILURE", "CANCEL"] as const)(
    "reads the shared terminal rank as the task's own %s",
    (status) => {
      expect(stateOfRank(taskRank(status, 100), status)).toEqual({ status, progress: 100 });
    },
  );
});

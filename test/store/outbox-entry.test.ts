import { describe, expect, it } from "vitest";
import { outboxEntry, readOutboxEntry } from "../../functions/store/outbox-entry.ts";

const taskId = "01KB7Y6G4Q9W8XJ3M2N5P6R7S8";
const at = "2026-11-25T10:00:00.000Z";

describe("outbox entries", () => {
  it.each([
    ["IN_PROGRESS", 46, "task.progress", `evt_${taskId}_IN_PROGRESS_46`],
    ["SUCCESS", 100, "task.succeeded", `evt_${taskId}_SUCCESS`],
    ["FAILURE", 100, "task.failed", `evt_${taskId}_FAILURE`],
    ["CANCEL", 100, "task.failed", `evt_${taskId}_CANCEL`],
    ["MODAL", 0, "task.modal", `evt_${taskId}_MODAL`],
  ] as const)("%s %d is stored as one string and read back whole", (status, progress, type, id) => {
    const event = { id, type, status, progress, at };
    const stored = outboxEntry(event);
    expect(typeof stored).toBe("string");
    expect(readOutboxEntry(taskId, stored)).toEqual(event);
  });

  it("reads the map an item written before entries were strings holds", () => {
    const event = { id: "evt_x", type: "task.progress", status: "IN_PROGRESS", progress: 5, at };
    expect(readOutboxEntry(taskId, event)).toEqual(event);
  });

  it.each([
    ["no event for the status", `SUBMITTED 0 ${at}`],
    ["an unknown status", `DONE 100 ${at}`],
    ["no progress", `IN_PROGRESS  ${at}`],
    ["a progress that is not a number", `IN_PROGRESS x ${at}`],
    ["no time", "IN_PROGRESS 5"],
    ["more parts", `IN_PROGRESS 5 ${at} extra`],
    ["a map without its time", { id: "e", type: "task.progress", status: "X", progress: 1 }],
    ["a number", 7],
  ])("skips an entry with %s", (_name, entry) => {
    expect(readOutboxEntry(taskId, entry)).toBeNull();
  });
});

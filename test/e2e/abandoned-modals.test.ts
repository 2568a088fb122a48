import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { monotonicFactory } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTask } from "../../functions/core/submit.ts";
import type { Task } from "../../functions/core/task.ts";
import { createDocumentClient } from "../../functions/deps.ts";
import { createTaskStore, taskToItem } from "../../functions/store/task-store.ts";
import { api, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * Abandoned modals must not starve the reconciler: a task waiting in MODAL waits for its
 * owner, so it stays out of the pages the reconciler walks (oldest first, a bounded number per
 * run), and one left waiting past the modal deadline (24 h) is cancelled with a reason.
 */
let stack: TestStack;
let alice: ReturnType<typeof api>;
const client = () => createDocumentClient({ endpoint: stack.dynamodbEndpoint });

beforeAll(async () => {
  stack = await startTestStack();
  alice = api(stack, OWNERS.alice.key);
});
afterAll(() => stack.stop());

/** `count` tasks waiting in MODAL, created `ageMs` ago, written as the store writes them. */
async function seedModals(count: number, ageMs: number): Promise<Task[]> {
  const at = new Date(Date.now() - ageMs);
  const newId = monotonicFactory();
  const tasks = Array.from({ length: count }, (_, i) => ({
    ...newTask({
      id: newId(at.getTime()),
      owner: "alice",
      action: "VARIATION",
      prompt: `remix ${i}`,
      now: at,
    }),
    status: "MODAL" as const,
    upstreamTaskId: `9${String(i).padStart(15, "0")}`,
  }));
  const db = client();
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < tasks.length; i += 25) {
    const batch = tasks.slice(i, i + 25);
    writes.push(
      db.send(
        new BatchWriteCommand({
          RequestItems: {
            [stack.tableName]: batch.map((t) => ({ PutRequest: { Item: taskToItem(t) } })),
          },
        }),
      ),
    );
    if (writes.length >= 8) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  return tasks;
}

describe("abandoned modals", () => {
  it("6,000 old MODAL tasks do not keep a new lost-webhook task from converging in one run", async () => {
    await seedModals(6000, 2 * 3600_000);
    const lost = await alice.imagine({
      prompt: "a boat whose webhooks never come --sim-drop-hooks",
    });
    expect(lost.status).toBe(202);
    await stack.simulator?.idle();
    expect((await alice.task(lost.body.id)).body.status).toBe("SUBMITTED");

    // one run, with the default page budget (100 pages of 50): before modals had their own
    // partition, the 6,000 older modals filled every page and the new task was never reached
    const report = await stack.reconcileOnce();
    expect((await alice.task(lost.body.id)).body.status).toBe("SUCCESS");
    expect(report.checked).toBeLessThan(50);
    expect(report.modalsCancelled).toBe(0);
  }, 120_000);

  it("cancels a modal left waiting past 24 h, with a reason, and keeps a younger one", async () => {
    const [old] = await seedModals(1, 25 * 3600_000);
    const [young] = await seedModals(1, 23 * 3600_000);
    const report = await stack.reconcileOnce();
    expect(report.modalsCancelled).toBeGreaterThanOrEqual(1);
    const cancelled = (await alice.task(old?.id ?? "")).body;
    expect(cancelled).toMatchObject({ status: "CANCEL", finishedAt: expect.any(String) });
    expect(cancelled.failReason).toMatch(/no modal was submitted within 24 h/);
    expect((await alice.task(young?.id ?? "")).body.status).toBe("MODAL");
  });

  it("a task that becomes MODAL leaves the reconciler's pages, and comes back once its modal is submitted", async () => {
    const store = createTaskStore({ client: client(), tableName: stack.tableName });
    const grid = await alice.imagine({ prompt: "a grid to remix" });
    const done = await (async () => {
      for (;;) {
        const t = (await alice.task(grid.body.id)).body;
        if (t.status === "SUCCESS") return t;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const v1 = done.buttons.find((b: { label: string }) => b.label === "V1").customId;
    const child = await alice.call("POST", `/v1/tasks/${done.id}/actions`, {
      customId: v1,
      enableRemix: true,
    });
    expect(child.body.status).toBe("MODAL");
    const unfinishedIds = async () => {
      const ids: string[] = [];
      let afterId: string | undefined;
      do {
        const page = await store.listUnfinished({ limit: 1000, afterId });
        ids.push(...page.items.map((t) => t.id));
        afterId = page.lastId ?? undefined;
      } while (afterId);
      return ids;
    };
    expect(await unfinishedIds()).not.toContain(child.body.id);
    const modal = await alice.call("POST", `/v1/tasks/${child.body.id}/modal`, {
      // its webhooks are lost: only the reconciler can finish it, so it must be in its pages
      prompt: "a grid at night --sim-drop-hooks",
    });
    expect(modal.body.status).toBe("SUBMITTED");
    expect(await unfinishedIds()).toContain(child.body.id);
  });
});

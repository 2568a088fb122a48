import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeReconciler } from "../../functions/compose/reconcile.ts";
import { newTask } from "../../functions/core/submit.ts";
import { createDocumentClient, createIdFactory } from "../../functions/deps.ts";
import { silentLogger } from "../../functions/log.ts";
import { createTaskStore } from "../../functions/store/task-store.ts";
import { api, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

let stack: TestStack;
let alice: ReturnType<typeof api>;

beforeAll(async () => {
  stack = await startTestStack();
  alice = api(stack, OWNERS.alice.key);
});
afterAll(() => stack.stop());

function reconciler(deadlineSeconds = 3600, now = () => new Date()) {
  return composeReconciler(
    {
      TABLE_NAME: stack.tableName,
      DYNAMODB_ENDPOINT: stack.dynamodbEndpoint,
      MJ_API_BASE_URL: stack.upstreamUrl,
      MJ_API_KEY: "sim-local-key",
      MJ_API_AUTH: "bearer",
      MODAL_DEADLINE_SECONDS: 86_400,
      TASK_DEADLINE_SECONDS: deadlineSeconds,
      UPSTREAM_TIMEOUT_MS: 5000,
    },
    { log: silentLogger, clock: { now } },
  );
}

describe("the reconciler", () => {
  it("is safe to run twice at once: each task is finished exactly once", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++)
      ids.push((await alice.imagine({ prompt: `twice ${i} --sim-drop-hooks` })).body.id);
    await stack.simulator?.idle();
    const [a, b] = await Promise.all([reconciler()(), reconciler()()]);
    // both saw the tasks; every task's SUCCESS was written by exactly one of them
    expect(a.applied + b.applied).toBe(ids.length);
    for (const id of ids) expect((await alice.task(id)).body.status).toBe("SUCCESS");
    const again = await reconciler()();
    expect(again.applied).toBe(0);
  });

  it("fails a task stuck past the deadline with a reason that says so, and only that one", async () => {
    const client = createDocumentClient({ endpoint: stack.dynamodbEndpoint });
    const store = createTaskStore({ client, tableName: stack.tableName });
    const newId = createIdFactory();
    const stuck = newTask({
      id: newId(),
      owner: "alice",
      action: "IMAGINE",
      prompt: "lost in submit",
      now: new Date(Date.now() - 2 * 3600_000),
    });
    await store.create(stuck);
    const fresh = (await alice.imagine({ prompt: "still fine --sim-drop-hooks" })).body;

    const report = await reconciler(3600)();
    expect(report.expired).toBe(1);
    const failed = (await alice.task(stuck.id)).body;
    expect(failed).toMatchObject({ status: "FAILURE" });
    expect(failed.failReason).toMatch(/no result from the upstream within 3600 s/);
    expect((await alice.task(fresh.id)).body.status).not.toBe("FAILURE");
  });

  it("reads only the unfinished tasks: finished ones leave the index", async () => {
    await stack.simulator?.idle();
    await reconciler()();
    const report = await reconciler()();
    expect(report.checked).toBe(0);
    expect(report.pages).toBe(1);
  });

  it("stops starting pages when its time budget is spent", async () => {
    for (let i = 0; i < 3; i++) await alice.imagine({ prompt: `budget ${i} --sim-drop-hooks` });
    await stack.simulator?.idle();
    const run = composeReconciler(
      {
        TABLE_NAME: stack.tableName,
        DYNAMODB_ENDPOINT: stack.dynamodbEndpoint,
        MJ_API_BASE_URL: stack.upstreamUrl,
        MJ_API_KEY: "sim-local-key",
        MJ_API_AUTH: "bearer",
        MODAL_DEADLINE_SECONDS: 86_400,
        TASK_DEADLINE_SECONDS: 3600,
        UPSTREAM_TIMEOUT_MS: 5000,
      },
      { log: silentLogger },
    );
    const cut = await run({ timeBudgetMs: 0, batchSize: 1 });
    expect(cut.pages).toBe(1);
    const whole = await run({ batchSize: 1 });
    expect(whole.pages).toBeGreaterThanOrEqual(3);
    expect(whole.applied).toBeGreaterThanOrEqual(2);
  });
});

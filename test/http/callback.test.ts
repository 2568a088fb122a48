import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskStore } from "../../functions/core/ports.ts";
import { createStateToken } from "../../functions/core/state-token.ts";
import { newTask } from "../../functions/core/submit.ts";
import { createIdFactory, systemClock } from "../../functions/deps.ts";
import { createCallbackApp } from "../../functions/http/callback-app.ts";
import { silentLogger } from "../../functions/log.ts";
import { createTestStore } from "../helpers.ts";
import { serveOverHttp } from "../serve.ts";

const secret = randomBytes(32).toString("base64url");
const newId = createIdFactory();
let store: TaskStore;
let server: Awaited<ReturnType<typeof serveOverHttp>>;

beforeAll(async () => {
  ({ store } = await createTestStore());
  const app = createCallbackApp({
    store,
    clock: systemClock,
    log: silentLogger,
    callbackSecret: secret,
  });
  server = await serveOverHttp(app.fetch);
});
afterAll(() => server.close());

async function post(body: unknown) {
  const response = await fetch(`${server.url}/hooks/midjourney`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function freshTask() {
  const task = newTask({
    id: newId(),
    owner: "alice",
    action: "IMAGINE",
    prompt: "cat",
    now: new Date(),
  });
  await store.create(task);
  return task;
}

const hash = "0ddb91a0-af46-4ae9-8e8e-c271074eb6e6";
const buttons = [1, 2, 3, 4].map((n) => ({
  customId: `MJ::JOB::upsample::${n}::${hash}`,
  emoji: "",
  label: `U${n}`,
  type: 2,
  style: 2,
}));

/** The webhooks a real upstream sends for one job, in order (docs/upstreams.md §6). */
function lifecycle(taskId: string, upstreamId: string, outcome: "SUCCESS" | "FAILURE") {
  const state = createStateToken(secret, taskId);
  const base = {
    id: upstreamId,
    action: "IMAGINE",
    prompt: "cat",
    state,
    submitTime: 1689231405854,
    properties: { notifyHook: "x" },
  };
  const steps = [0, 15, 31, 46, 62, 78, 93].map((p) => ({
    ...base,
    status: "IN_PROGRESS",
    progress: `${p}%`,
    imageUrl: `https://cdn.example/preview-${p}.png`,
    buttons: [],
  }));
  const last =
    outcome === "SUCCESS"
      ? {
          ...base,
          status: "SUCCESS",
          progress: "100%",
          finishTime: 1689231544312,
          imageUrl: "https://cdn.example/grid.png",
          buttons,
        }
      : {
          ...base,
          status: "FAILURE",
          progress: "",
          finishTime: 1689231544312,
          failReason: "[Invalid parameter] Invalid value",
        };
  return [{ ...base, status: "SUBMITTED", progress: "0%", buttons: null }, ...steps, last];
}

const visible = (t: Record<string, unknown> | null) => {
  if (!t) return t;
  const { updatedAt: _u, ...rest } = t;
  return rest;
};

describe("callback", () => {
  it("applies a webhook sequence and answers 200 to each", async () => {
    const task = await freshTask();
    for (const hook of lifecycle(task.id, "1748339029401828", "SUCCESS")) {
      expect((await post(hook)).status).toBe(200);
    }
    expect(await store.get(task.id)).toMatchObject({
      status: "SUCCESS",
      progress: 100,
      upstreamTaskId: "1748339029401828",
      imageUrl: "https://cdn.example/grid.png",
      buttons,
      finishedAt: new Date(1689231544312).toISOString(),
    });
  });

  it("property: any permutation of the webhooks, with duplicates, ends in the same task", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("SUCCESS" as const, "FAILURE" as const),
        fc.array(fc.nat({ max: 8 }), { maxLength: 12 }),
        fc.infiniteStream(fc.nat()),
        async (outcome, extra, randomness) => {
          const [reference, shuffled] = [await freshTask(), await freshTask()];
          for (const hook of lifecycle(reference.id, "555", outcome)) await post(hook);

          const hooks = lifecycle(shuffled.id, "555", outcome);
          const deliveries = [...hooks.keys(), ...extra];
          const it = randomness[Symbol.iterator]();
          for (let i = deliveries.length - 1; i > 0; i--) {
            const j = (it.next().value as number) % (i + 1);
            [deliveries[i], deliveries[j]] = [deliveries[j] as number, deliveries[i] as number];
          }
          for (const index of deliveries) {
            const { status } = await post(hooks[index]);
            if (status !== 200) return false;
          }
          const [a, b] = [await store.get(reference.id), await store.get(shuffled.id)];
          expect(visible(b as never)).toEqual({
            ...(visible(a as never) as object),
            id: shuffled.id,
            createdAt: b?.createdAt,
          });
          return true;
        },
      ),
      { numRuns: 40 },
    );
    // ~800 webhooks over DynamoDB Local: about 25 s on two idle cores, so more than the suite's
    // 30 s default allows when CI runs it beside the other workers
  }, 120_000);

  it.each([
    ["no state", { state: undefined }],
    ["a forged token", { state: `pb1.${"0".repeat(26)}.${"A".repeat(43)}` }],
    ["garbage", { state: "hello" }],
  ])("rejects %s with 401 and changes nothing", async (_name, override) => {
    const task = await freshTask();
    const hook = { ...lifecycle(task.id, "1", "SUCCESS").at(-1), ...override };
    const answer = await post(hook);
    expect(answer).toEqual({
      status: 401,
      body: { error: { code: "unauthorized", message: expect.any(String) } },
    });
    expect(await store.get(task.id)).toEqual(task);
  });

  it("rejects another task's valid token spliced onto this task id (tampered state) with 401", async () => {
    const [victim, attacker] = [await freshTask(), await freshTask()];
    const good = createStateToken(secret, attacker.id);
    const tampered = good.replace(attacker.id, victim.id);
    const answer = await post({ ...lifecycle(victim.id, "1", "SUCCESS").at(-1), state: tampered });
    expect(answer.status).toBe(401);
    expect(await store.get(victim.id)).toEqual(victim);
  });

  it("rejects a token signed with another secret", async () => {
    const task = await freshTask();
    const state = createStateToken("another-secret-of-sufficient-length", task.id);
    expect((await post({ ...lifecycle(task.id, "1", "SUCCESS").at(-1), state })).status).toBe(401);
  });

  it("answers 400 for a body that is not JSON or not a task", async () => {
    const task = await freshTask();
    const state = createStateToken(secret, task.id);
    expect((await post("{not json")).body.error.code).toBe("invalid_json");
    const notTask = await post({ state, hello: "world" });
    expect(notTask.status).toBe(400);
    expect(notTask.body.error.code).toBe("validation_failed");
    expect(await store.get(task.id)).toEqual(task);
  });

  it("ignores an unknown status and a webhook for a task that does not exist, with 200", async () => {
    const task = await freshTask();
    const state = createStateToken(secret, task.id);
    expect(await post({ state, id: "1", status: "PAUSED" })).toEqual({
      status: 200,
      body: { result: "ignored" },
    });
    const ghost = createStateToken(secret, newId());
    expect(await post({ state: ghost, id: "1", status: "SUCCESS" })).toEqual({
      status: 200,
      body: { result: "stale" },
    });
    expect(await store.get(task.id)).toEqual(task);
  });

  // last: the server closes the connection after a 413, which a pooled client may reuse
  it("answers 413 for a body over the limit and changes nothing", async () => {
    const task = await freshTask();
    const state = createStateToken(secret, task.id);
    const huge = await post({ state, id: "1", status: "SUCCESS", prompt: "x".repeat(300 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("payload_too_large");
    expect(await store.get(task.id)).toEqual(task);
  });
});

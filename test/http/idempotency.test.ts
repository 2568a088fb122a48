import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTask, requestFingerprint } from "../../functions/core/submit.ts";
import { createDocumentClient } from "../../functions/deps.ts";
import { createIdempotencyStore } from "../../functions/store/idempotency-store.ts";
import { createTaskStore } from "../../functions/store/task-store.ts";
import { api, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

let stack: TestStack;
let alice: ReturnType<typeof api>;
let offsetMs = 0;

beforeAll(async () => {
  stack = await startTestStack({
    // a clock this file can move forward, to see keys expire
    overrides: { clock: { now: () => new Date(Date.now() + offsetMs) } },
    simulator: { stepMs: 20 },
  });
  alice = api(stack, OWNERS.alice.key);
});
afterAll(() => stack.stop());

let n = 0;
const freshKey = () => `key-${Date.now()}-${n++}`;
const jobsFor = (taskId: string) =>
  (stack.simulator?.tasks() ?? []).filter(
    (t) => typeof t.state === "string" && t.state.includes(`.${taskId}.`),
  ).length;

describe("Idempotency-Key", () => {
  it("replays the first answer, status and body, without a second upstream job", async () => {
    const key = freshKey();
    const first = await alice.imagine(
      { prompt: "once", metadata: { a: 1 } },
      { "idempotency-key": key },
    );
    const again = await alice.imagine(
      { metadata: { a: 1 }, prompt: "once" },
      { "idempotency-key": key },
    );
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(jobsFor(first.body.id)).toBe(1);
  });

  it("replays an upstream refusal too (a new attempt takes a new key)", async () => {
    const key = freshKey();
    const submitsBefore = stack.simulator?.stats().submits ?? 0;
    const first = await alice.imagine(
      { prompt: "full --sim-submit=queueFull" },
      { "idempotency-key": key },
    );
    const again = await alice.imagine(
      { prompt: "full --sim-submit=queueFull" },
      { "idempotency-key": key },
    );
    expect(first.status).toBe(429);
    expect(again.status).toBe(429);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("retry-after")).toBe(first.headers.get("retry-after"));
    expect((stack.simulator?.stats().submits ?? 0) - submitsBefore).toBe(1);
  });

  it("answers 409 when the key comes back with a different body", async () => {
    const key = freshKey();
    await alice.imagine({ prompt: "first" }, { "idempotency-key": key });
    const other = await alice.imagine({ prompt: "second" }, { "idempotency-key": key });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_conflict");
  });

  it("keeps keys per owner", async () => {
    const key = freshKey();
    const a = await alice.imagine({ prompt: "shared key" }, { "idempotency-key": key });
    const b = await api(stack, OWNERS.bob.key).imagine(
      { prompt: "shared key" },
      { "idempotency-key": key },
    );
    expect(b.status).toBe(202);
    expect(b.body.id).not.toBe(a.body.id);
  });

  it.each([
    ["over 255 characters", "k".repeat(256)],
    ["a control character", "abc\tdef"],
    ["non-ASCII", "clé"],
  ])("rejects a key with %s (400) and records nothing", async (_name, key) => {
    const before = (await alice.list("?limit=100")).body.items.length;
    const answer = await alice.imagine({ prompt: "p" }, { "idempotency-key": key });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({
      code: "validation_failed",
      details: [{ path: "Idempotency-Key" }],
    });
    expect((await alice.list("?limit=100")).body.items.length).toBe(before);
  });

  it("property: concurrent retries with one key start exactly one upstream job and agree", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 8 }),
        fc.array(fc.nat({ max: 30 }), { minLength: 8, maxLength: 8 }),
        async (copies, delays) => {
          const key = freshKey();
          const answers = await Promise.all(
            Array.from({ length: copies }, async (_, i) => {
              await new Promise((r) => setTimeout(r, delays[i]));
              return alice.imagine({ prompt: `concurrent ${key}` }, { "idempotency-key": key });
            }),
          );
          const accepted = answers.filter((a) => a.status === 202);
          const running = answers.filter((a) => a.status === 409);
          expect(accepted.length + running.length).toBe(copies);
          expect(accepted.length).toBeGreaterThanOrEqual(1);
          for (const r of running) expect(r.body.error.code).toBe("idempotency_conflict");
          const ids = new Set(accepted.map((a) => a.body.id));
          expect(ids.size).toBe(1);
          expect(jobsFor([...ids][0] as string)).toBe(1);
          // once the first answer is recorded, every retry gets it
          const later = await alice.imagine(
            { prompt: `concurrent ${key}` },
            { "idempotency-key": key },
          );
          expect(later.status).toBe(202);
          expect(later.body.id).toBe([...ids][0]);
        },
      ),
      { numRuns: 15 },
    );
  });

  it("lets a key be used again after 24 hours", async () => {
    const key = freshKey();
    const first = await alice.imagine({ prompt: "yesterday" }, { "idempotency-key": key });
    offsetMs = 25 * 60 * 60 * 1000;
    try {
      const later = await alice.imagine({ prompt: "today" }, { "idempotency-key": key });
      expect(later.status).toBe(202);
      expect(later.body.id).not.toBe(first.body.id);
    } finally {
      offsetMs = 0;
    }
  });

  /** A key reserved with its task by a request that then died (the process was killed). */
  async function orphan(prompt: string) {
    const key = freshKey();
    const client = createDocumentClient({ endpoint: stack.dynamodbEndpoint });
    const idempotency = createIdempotencyStore({ client, tableName: stack.tableName });
    const task = newTask({
      id: `01JDB3K6Z5Q8N2X4V7W9Y1A3${String(++n).padStart(2, "0")}`,
      owner: "alice",
      action: "IMAGINE",
      prompt,
      now: new Date(),
    });
    const past = new Date(Date.now() - 60_000).toISOString();
    await idempotency.reserveAndCreate(
      {
        owner: "alice",
        key,
        fingerprint: requestFingerprint("POST /v1/imagine", { prompt }),
        taskId: task.id,
        createdAt: past,
        lockedUntil: past,
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
        result: null,
      },
      task,
      new Date(),
    );
    return { key, task, client };
  }

  it("after a first request that died before the upstream answered, fails its task as a lost answer, once", async () => {
    const { key, task } = await orphan("orphan");
    const answer = await alice.imagine({ prompt: "orphan" }, { "idempotency-key": key });
    expect(answer.status).toBe(502);
    expect(answer.body.error.code).toBe("upstream_unavailable");
    expect(answer.body.task).toMatchObject({ id: task.id, status: "FAILURE" });
    // the task never waits for a job nobody knows of, and the key keeps this answer
    expect((await alice.task(task.id)).body.status).toBe("FAILURE");
    const again = await alice.imagine({ prompt: "orphan" }, { "idempotency-key": key });
    expect(again).toMatchObject({ status: 502, body: answer.body });
  });

  it("after a first request that died, answers 202 with its task when the job's webhook proved it started", async () => {
    const { key, task } = await orphan("orphan proven");
    const store = createTaskStore({
      client: createDocumentClient({ endpoint: stack.dynamodbEndpoint }),
      tableName: stack.tableName,
    });
    await store.apply(
      task.id,
      { status: "IN_PROGRESS", progress: 15, upstreamTaskId: "1700000000000001" },
      new Date(),
    );
    const answer = await alice.imagine({ prompt: "orphan proven" }, { "idempotency-key": key });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ id: task.id, status: "IN_PROGRESS" });
  });
});

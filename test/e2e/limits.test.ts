import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "../../functions/deps.ts";
import { keys } from "../../functions/store/keys.ts";
import { type DynamoDbProxy, startDynamoDbProxy } from "../../local/dynamodb-proxy.ts";
import { manualClock } from "../clock.ts";
import { api, dynamodbEndpoint, eventually } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * Owners' limits and usage (docs/operating.md) through the real stack, DynamoDB Local and real
 * HTTP. The clock is one the test moves (the UTC day of a job follows it). Prompts carry
 * `--sim-drop-hooks` where a test sends the simulator's own task JSON as webhooks by hand.
 */
let stack: TestStack;
/** In front of DynamoDB Local, forwarding everything until a test asks it to throttle. */
let proxy: DynamoDbProxy;
const clock = manualClock(Date.parse("2026-06-01T12:00:00.000Z"));
const client = createDocumentClient({ endpoint: dynamodbEndpoint() });

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  stack = await startTestStack({
    dynamodbEndpoint: proxy.endpoint,
    overrides: { clock },
    simulator: { stepMs: 15, seed: 7 },
  });
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.stop();
});

const admin = () => api(stack, stack.adminKey);
const uniqueOwner = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}`;

/** A new owner with a key of its own, and its limits set. */
async function ownerWith(limits: Record<string, unknown>) {
  const owner = uniqueOwner("limited");
  const created = await admin().call("POST", "/v1/admin/keys", { owner });
  expect(created.status).toBe(201);
  const set = await admin().call("PUT", `/v1/admin/owners/${owner}/limits`, limits);
  expect(set.status).toBe(200);
  return { owner, client: api(stack, created.body.key) };
}

/** The owner's count of tasks holding a slot, as stored. */
async function running(owner: string): Promise<number> {
  const { Item } = await client.send(
    new GetCommand({ TableName: stack.tableName, Key: keys.quota(owner) }),
  );
  return Number(Item?.running ?? 0);
}

const postWebhook = (body: unknown) =>
  fetch(`${stack.url}/hooks/midjourney`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));

/** The simulator's task once its job has finished (its webhooks were dropped). */
async function upstreamFinished(upstreamTaskId: string) {
  await stack.simulator?.idle();
  return eventually(
    async () => stack.simulator?.tasks().find((t) => t.id === upstreamTaskId),
    (t) => t?.status === "SUCCESS" || t?.status === "FAILURE",
  );
}

describe("PUT /v1/admin/owners/{owner}/limits", () => {
  it("answers the limits; null removes one, a field left out keeps it", async () => {
    const owner = uniqueOwner("set");
    const first = await admin().call("PUT", `/v1/admin/owners/${owner}/limits`, {
      concurrent: 3,
      perDay: 10,
    });
    expect(first).toMatchObject({ status: 200, body: { owner, concurrent: 3, perDay: 10 } });
    const second = await admin().call("PUT", `/v1/admin/owners/${owner}/limits`, {
      perDay: null,
    });
    expect(second.body).toEqual({ owner, concurrent: 3, perDay: null });
  });

  it.each([
    [{ concurrent: -1 }, "concurrent"],
    [{ perDay: 1.5 }, "perDay"],
    [{ concurrent: "3" }, "concurrent"],
    [{ burst: 3 }, ""],
  ])("refuses %j with 400", async (body, field) => {
    const answer = await admin().call("PUT", "/v1/admin/owners/someone/limits", body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
    if (field) expect(answer.body.error.details[0].path).toBe(field);
  });

  it("refuses an owner's key (401), on limits and on any owner's usage", async () => {
    const { client: owner } = await ownerWith({});
    const put = await owner.call("PUT", "/v1/admin/owners/x/limits", { concurrent: 1 });
    expect(put.status).toBe(401);
    expect(put.body.error.code).toBe("unauthorized");
    expect((await owner.call("GET", "/v1/admin/usage?owner=x")).status).toBe(401);
  });
});

describe("the concurrent limit", () => {
  it("50 submits at once against a limit of 5: exactly 5 accepted, 45 answered 429 quota_exceeded", async () => {
    const { owner, client: alice } = await ownerWith({ concurrent: 5 });
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        alice.imagine({ prompt: `racing boat ${i} --sim-drop-hooks` }),
      ),
    );
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 429);
    expect(accepted).toHaveLength(5);
    expect(refused).toHaveLength(45);
    for (const r of refused) {
      expect(r.body.error.code).toBe("quota_exceeded");
      expect(r.headers.get("retry-after")).toBe("30");
    }
    expect(await running(owner)).toBe(5);
    // nothing was recorded for the refused ones
    expect((await alice.list("?limit=100")).body.items).toHaveLength(5);
  });

  it("a finished task gives its slot back once: SUCCESS (its webhook sent twice), FAILURE, CANCEL", async () => {
    const { owner, client: alice } = await ownerWith({ concurrent: 1 });
    const first = await alice.imagine({ prompt: "a boat that succeeds --sim-drop-hooks" });
    expect(first.status).toBe(202);
    expect((await alice.imagine({ prompt: "one too many" })).status).toBe(429);

    const truth = await upstreamFinished(first.body.upstreamTaskId);
    expect((await postWebhook(truth)).body).toEqual({ result: "applied" });
    expect((await postWebhook(truth)).body).toEqual({ result: "stale" });
    expect(await running(owner)).toBe(0);

    const failing = await alice.imagine({
      prompt: "a boat that fails --sim-fail --sim-drop-hooks",
    });
    expect(failing.status).toBe(202);
    expect(await running(owner)).toBe(1);
    const failed = await upstreamFinished(failing.body.upstreamTaskId);
    expect(failed?.status).toBe("FAILURE");
    expect((await postWebhook(failed)).body).toEqual({ result: "applied" });
    expect((await postWebhook(failed)).body).toEqual({ result: "stale" });
    expect(await running(owner)).toBe(0);

    // a refusal at submit (code 24) ends the task at once: its slot comes straight back
    const banned = await alice.imagine({ prompt: "a banned boat --sim-banned" });
    expect(banned.status).toBe(422);
    expect(await running(owner)).toBe(0);

    const cancelled = await alice.imagine({ prompt: "a boat to cancel --sim-drop-hooks" });
    expect(cancelled.status).toBe(202);
    const cancel = await alice.call("POST", `/v1/tasks/${cancelled.body.id}/cancel`);
    expect(cancel.status).toBe(202);
    expect((await alice.call("POST", `/v1/tasks/${cancelled.body.id}/cancel`)).status).toBe(409);
    expect(await running(owner)).toBe(0);

    expect((await alice.imagine({ prompt: "the next boat --sim-drop-hooks" })).status).toBe(202);
    expect(await running(owner)).toBe(1);
  });
});

describe("a slot whose release failed", () => {
  it("comes back at the reconciler's next run, once: the owner is not stuck at its limit", async () => {
    const { owner, client: alice } = await ownerWith({ concurrent: 1 });
    const first = await alice.imagine({ prompt: "a boat whose slot sticks --sim-drop-hooks" });
    expect(first.status).toBe(202);
    const truth = await upstreamFinished(first.body.upstreamTaskId);

    // the finishing webhook's second write (the slot's return) is throttled past the SDK's retries
    proxy.setFault({ kind: "throttle", operations: ["TransactWriteItems"], times: 3 });
    expect((await postWebhook(truth)).body).toEqual({ result: "applied" });
    proxy.setFault(null);
    expect((await alice.task(first.body.id)).body.status).toBe("SUCCESS");
    expect(await running(owner)).toBe(1);
    const stuck = await alice.imagine({ prompt: "waits for the slot --sim-drop-hooks" });
    expect(stuck.status).toBe(429);

    // past the grace period the reconciler finds it in the index and gives the slot back (the
    // index is sorted by task id, a ULID stamped with the real time: the clock moves past that)
    clock.advance(Math.max(0, Date.now() - clock.now().getTime()) + 3 * 60_000);
    const report = await stack.reconcileOnce();
    expect(report.slotsReleased).toBe(1);
    expect(await running(owner)).toBe(0);

    // once: a second run, and the webhook again, give nothing more back
    expect((await alice.imagine({ prompt: "takes the slot --sim-drop-hooks" })).status).toBe(202);
    expect((await stack.reconcileOnce()).slotsReleased).toBe(0);
    expect((await postWebhook(truth)).body).toEqual({ result: "stale" });
    expect(await running(owner)).toBe(1);
  });
});

describe("the daily limit", () => {
  it("counts jobs per UTC day: over it, 429 until the next UTC midnight", async () => {
    const { client: alice } = await ownerWith({ perDay: 2 });
    for (let i = 0; i < 2; i++) {
      expect((await alice.imagine({ prompt: `daily boat ${i} --sim-drop-hooks` })).status).toBe(
        202,
      );
    }
    const refused = await alice.imagine({ prompt: "a third boat --sim-drop-hooks" });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("quota_exceeded");
    const now = clock.now();
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    expect(Number(refused.headers.get("retry-after"))).toBe(
      Math.ceil((midnight - now.getTime()) / 1000),
    );
    clock.advance(midnight - now.getTime());
    expect((await alice.imagine({ prompt: "the next day's boat --sim-drop-hooks" })).status).toBe(
      202,
    );
  });
});

describe("usage", () => {
  it("counts jobs by action and mode, and failures, per UTC day; the owner and the operator read it", async () => {
    const { owner, client: alice } = await ownerWith({});
    const today = clock.now().toISOString().slice(0, 10);
    await alice.imagine({ prompt: "a relaxed boat --sim-drop-hooks", mode: "relax" });
    await alice.imagine({ prompt: "a fast boat --sim-drop-hooks", mode: "fast" });
    const plain = await alice.imagine({ prompt: "a plain boat" });
    expect((await alice.imagine({ prompt: "a banned boat --sim-banned" })).status).toBe(422);
    await eventually(
      () => alice.task(plain.body.id),
      (r) => r.body.status === "SUCCESS",
    );
    const describe = await alice.call("POST", "/v1/describe", {
      base64:
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAYAAADED76LAAAAJUlEQVR4AYXBAQEAIAyAMCSNmUxnU99AtrXPfXxIkCBBggQJEgY0tgIxGO+7HAAAAABJRU5ErkJggg==",
    });
    expect(describe.status).toBe(202);

    const expected = {
      jobs: { IMAGINE: 4, DESCRIBE: 1 },
      modes: { relax: 1, fast: 1 },
      failed: 1,
    };
    const mine = await alice.call("GET", `/v1/usage?from=${today}&to=${today}`);
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({ days: [{ date: today, ...expected }], totals: expected });
    const theirs = await admin().call("GET", `/v1/admin/usage?owner=${owner}&to=${today}`);
    expect(theirs.body).toEqual(mine.body);
    // another owner's counters are not the caller's
    const other = await ownerWith({});
    expect((await other.client.call("GET", "/v1/usage")).body).toEqual({
      days: [],
      totals: { jobs: {}, modes: {}, failed: 0 },
    });
  });

  it.each([
    "?from=2026-13-01",
    "?from=yesterday",
    "?from=2026-06-02&to=2026-06-01",
    "?from=2024-01-01&to=2026-01-01",
    "?owner=x",
  ])("refuses %s with 400", async (query) => {
    const { client: alice } = await ownerWith({});
    const answer = await alice.call("GET", `/v1/usage${query}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
  });
});

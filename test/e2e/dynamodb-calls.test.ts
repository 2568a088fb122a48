import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DynamoDbProxy, startDynamoDbProxy } from "../../local/dynamodb-proxy.ts";
import { api, dynamodbEndpoint, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * What each operation costs in DynamoDB requests, counted by operation by a proxy in front of
 * DynamoDB Local (local/dynamodb-proxy.ts), through the real stack, the simulator and real HTTP.
 * These are the billed requests of the cost table of docs/deploy.md: a change here is a change in price.
 * Prompts carry `--sim-drop-hooks` so that no webhook of the simulator's lands inside a count;
 * webhooks are then sent by hand, with the simulator's own task JSON.
 */
let proxy: DynamoDbProxy;
let stack: TestStack;
let alice: ReturnType<typeof api>;
const callbackSecret = "dynamodb-calls-secret-0123456789";

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  stack = await startTestStack({ dynamodbEndpoint: proxy.endpoint, callbackSecret });
  alice = api(stack, OWNERS.alice.key);
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.stop();
});

/** The requests `action` made, by operation, once nothing else is in flight. */
async function requestsOf<T>(action: () => Promise<T>): Promise<[Record<string, number>, T]> {
  await stack.simulator?.idle();
  proxy.reset();
  const result = await action();
  return [proxy.counts(), result];
}

/** A task whose upstream job has finished but none of whose webhooks were sent. */
async function finishedUpstreamWithoutWebhooks(prompt: string) {
  const submitted = await alice.imagine({ prompt: `${prompt} --sim-drop-hooks` });
  expect(submitted.status).toBe(202);
  await stack.simulator?.idle();
  const truth = stack.simulator?.tasks().find((t) => t.id === submitted.body.upstreamTaskId);
  expect(truth?.status).toBe("SUCCESS");
  return { task: submitted.body, truth };
}

const postWebhook = (body: unknown) =>
  fetch(`${stack.url}/hooks/midjourney`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));

describe("DynamoDB requests per operation", () => {
  // the task, the owner's slot and day count (checked against its limits) and the day's usage
  // are one transaction (docs/operating.md)
  it("a submit without Idempotency-Key: 1 TransactWriteItems (task, slot, usage) + 1 UpdateItem (the answer), no read", async () => {
    const [counts, answer] = await requestsOf(() =>
      alice.imagine({ prompt: "a paper boat at sunrise --sim-drop-hooks" }),
    );
    expect(answer.status).toBe(202);
    expect(counts).toEqual({ TransactWriteItems: 1, UpdateItem: 1 });
  });

  it("a submit with an Idempotency-Key: 1 TransactWriteItems (key, task, slot, usage) + 2 UpdateItem (answer, kept result), no read", async () => {
    const key = `calls-${Date.now()}`;
    const [counts, answer] = await requestsOf(() =>
      alice.imagine({ prompt: "an idempotent boat --sim-drop-hooks" }, { "idempotency-key": key }),
    );
    expect(answer.status).toBe(202);
    expect(counts).toEqual({ TransactWriteItems: 1, UpdateItem: 2 });

    // its retry is answered from the record the failed transaction returns: one request
    const [retryCounts, retry] = await requestsOf(() =>
      alice.imagine({ prompt: "an idempotent boat --sim-drop-hooks" }, { "idempotency-key": key }),
    );
    expect(retry.status).toBe(202);
    expect(retry.body.id).toBe(answer.body.id);
    expect(retryCounts).toEqual({ TransactWriteItems: 1 });
  });

  it("an edit costs what imagine does: 1 TransactWriteItems + 1 UpdateItem, no read", async () => {
    const [counts, answer] = await requestsOf(() =>
      alice.call("POST", "/v1/edits", {
        image: "https://example.org/boat.png",
        prompt: "an edited boat --sim-drop-hooks",
      }),
    );
    expect(answer.status).toBe(202);
    expect(counts).toEqual({ TransactWriteItems: 1, UpdateItem: 1 });
  });

  it("an upload and a GET of its link touch no table: 0 requests", async () => {
    const png =
      "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    const [counts, answer] = await requestsOf(() =>
      alice.call("POST", "/v1/uploads", { image: png }),
    );
    expect(answer.status).toBe(201);
    expect(counts).toEqual({});
    const [getCounts, file] = await requestsOf(() => fetch(answer.body.url));
    expect(file.status).toBe(200);
    expect(getCounts).toEqual({});
  });

  it("a webhook: 1 UpdateItem and no read; one that finishes the task adds 1 TransactWriteItems (its slot back, the task out of the release index), a duplicate does not", async () => {
    const { task, truth } = await finishedUpstreamWithoutWebhooks("a webhook's boat");

    const [counts, applied] = await requestsOf(() => postWebhook(truth));
    expect(applied).toEqual({ status: 200, body: { result: "applied" } });
    expect(counts).toEqual({ UpdateItem: 1, TransactWriteItems: 1 });

    const [duplicateCounts, duplicate] = await requestsOf(() => postWebhook(truth));
    expect(duplicate).toEqual({ status: 200, body: { result: "stale" } });
    expect(duplicateCounts).toEqual({ UpdateItem: 1 });

    expect((await alice.task(task.id)).body.status).toBe("SUCCESS");
  });

  it("a webhook that fails the task: 1 UpdateItem + 1 TransactWriteItems (its slot back and the day's failure count)", async () => {
    const submitted = await alice.imagine({ prompt: "a failing boat --sim-fail --sim-drop-hooks" });
    expect(submitted.status).toBe(202);
    await stack.simulator?.idle();
    const truth = stack.simulator?.tasks().find((t) => t.id === submitted.body.upstreamTaskId);
    expect(truth?.status).toBe("FAILURE");
    const [counts, applied] = await requestsOf(() => postWebhook(truth));
    expect(applied.body).toEqual({ result: "applied" });
    expect(counts).toEqual({ UpdateItem: 1, TransactWriteItems: 1 });
  });

  it("usage: 1 Query (GET /v1/usage, one item per owner per day)", async () => {
    const [counts, usage] = await requestsOf(() => alice.call("GET", "/v1/usage"));
    expect(usage.status).toBe(200);
    expect(usage.body.totals.jobs.IMAGINE).toBeGreaterThan(0);
    expect(counts).toEqual({ Query: 1 });
  });

  it("health: 1 Query (GET /health, the upstreams' recorded states)", async () => {
    const [counts, health] = await requestsOf(() => fetch(`${stack.url}/health`));
    expect(health.status).toBe(200);
    expect(counts).toEqual({ Query: 1 });
  });

  it("a webhook whose state does not verify makes no request at all", async () => {
    const { truth } = await finishedUpstreamWithoutWebhooks("a forged boat");
    const forged = { ...truth, state: `${truth?.state}x` };
    const [counts, answer] = await requestsOf(() => postWebhook(forged));
    expect(answer.status).toBe(401);
    expect(counts).toEqual({});
  });

  // children's ids live on the parent item (appended by each child's creating transaction)
  it("GET /v1/tasks/{id} of a finished task (SUCCESS, nine buttons), children included: 1 GetItem", async () => {
    const { task, truth } = await finishedUpstreamWithoutWebhooks("a finished read boat");
    expect((await postWebhook(truth)).body).toEqual({ result: "applied" });
    const [counts, read] = await requestsOf(() => alice.task(task.id));
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ status: "SUCCESS" });
    expect(read.body.buttons).toHaveLength(9);
    expect(counts).toEqual({ GetItem: 1 });
  });

  it("GET /v1/tasks/{id} of an unfinished task: 1 GetItem, and 1 GetItem for another owner (404)", async () => {
    const submitted = await alice.imagine({ prompt: "a read boat --sim-drop-hooks" });
    const [counts, read] = await requestsOf(() => alice.task(submitted.body.id));
    expect(read.status).toBe(200);
    expect(counts).toEqual({ GetItem: 1 });

    const bob = api(stack, OWNERS.bob.key);
    const [otherCounts, other] = await requestsOf(() => bob.task(submitted.body.id));
    expect(other.status).toBe(404);
    expect(otherCounts).toEqual({ GetItem: 1 });
  });

  it("a cancel: 1 GetItem + 1 UpdateItem (the CANCEL, its event inside) + 1 TransactWriteItems (its slot back); 1 GetItem when refused (finished: 409, another owner's: 404)", async () => {
    const submitted = await alice.imagine({ prompt: "a cancelled boat --sim-drop-hooks" });
    const cancel = (key = OWNERS.alice.key) =>
      api(stack, key).call("POST", `/v1/tasks/${submitted.body.id}/cancel`);
    const [otherCounts, other] = await requestsOf(() => cancel(OWNERS.bob.key));
    expect(other.status).toBe(404);
    expect(otherCounts).toEqual({ GetItem: 1 });

    const [counts, cancelled] = await requestsOf(() => cancel());
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.status).toBe("CANCEL");
    expect(counts).toEqual({ GetItem: 1, UpdateItem: 1, TransactWriteItems: 1 });

    const [againCounts, again] = await requestsOf(() => cancel());
    expect(again.status).toBe(409);
    expect(againCounts).toEqual({ GetItem: 1 });
  });

  it("a list page: 1 Query, filtered by status or not, first page or next", async () => {
    for (let i = 0; i < 3; i++)
      await alice.imagine({ prompt: `a listed boat ${i} --sim-drop-hooks` });

    const [counts, first] = await requestsOf(() => alice.list("?limit=2"));
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(counts).toEqual({ Query: 1 });

    const [nextCounts, next] = await requestsOf(() =>
      alice.list(`?limit=2&cursor=${first.body.nextCursor}`),
    );
    expect(next.status).toBe(200);
    expect(nextCounts).toEqual({ Query: 1 });

    const [statusCounts, byStatus] = await requestsOf(() =>
      alice.list("?status=SUBMITTED&limit=5"),
    );
    expect(byStatus.status).toBe(200);
    expect(byStatus.body.items.length).toBeGreaterThan(0);
    expect(statusCounts).toEqual({ Query: 1 });
  });
});

describe("outbound webhooks' DynamoDB requests", () => {
  it("the upstream's webhook for a task with a webhookUrl is still 2 writes (the SUCCESS, its slot); delivering it costs 2 Query, 1 TransactWriteItems, 1 GetItem (the secret) and 2 UpdateItem", async () => {
    const receiver = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(204).end());
    });
    await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
    try {
      const port = (receiver.address() as AddressInfo).port;
      const submitted = await alice.imagine({
        prompt: "a boat with a hook --sim-drop-hooks",
        webhookUrl: `http://127.0.0.1:${port}/hook`,
      });
      await stack.dispatchOnce(); // nothing queued yet: SUBMITTED makes no event
      await stack.simulator?.idle();
      const truth = stack.simulator?.tasks().find((t) => t.id === submitted.body.upstreamTaskId);
      const [counts, applied] = await requestsOf(() => postWebhook(truth));
      expect(applied.body).toEqual({ result: "applied" });
      expect(counts).toEqual({ UpdateItem: 1, TransactWriteItems: 1 });

      // the dispatcher: the index, the owner's account endpoints (once per owner per run), the
      // outbox → delivery transaction, the owner's secret version, the claim and the record of
      // the attempt
      const [dispatchCounts, report] = await requestsOf(() => stack.dispatchOnce());
      expect(report).toMatchObject({ queued: 1, delivered: 1 });
      expect(dispatchCounts).toEqual({
        Query: 2,
        TransactWriteItems: 1,
        GetItem: 1,
        UpdateItem: 2,
      });
      // an idle dispatcher: one Query of an empty index
      const [idleCounts] = await requestsOf(() => stack.dispatchOnce());
      expect(idleCounts).toEqual({ Query: 1 });
    } finally {
      receiver.close();
      receiver.closeAllConnections();
    }
  });
});

describe("the reconciler's DynamoDB requests", () => {
  // a table of its own, so that the unfinished set is exactly what this test makes
  let own: TestStack;
  let owner: ReturnType<typeof api>;
  beforeAll(async () => {
    own = await startTestStack({ dynamodbEndpoint: proxy.endpoint, callbackSecret });
    owner = api(own, OWNERS.alice.key);
  });
  afterAll(() => own?.stop());

  it("reads 1 Query per page of 50 unfinished tasks, 1 for expired modals, 1 for slots not yet back, and never Scans: 120 tasks → 5 Query, 1 UpdateItem + 1 TransactWriteItems each (the SUCCESS, its slot back)", async () => {
    const count = 120;
    let next = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < count) {
          const i = next++;
          const submitted = await owner.imagine({ prompt: `a lost boat ${i} --sim-drop-hooks` });
          expect(submitted.status).toBe(202);
        }
      }),
    );
    await own.simulator?.idle();
    proxy.reset();
    const report = await own.reconcileOnce();
    expect(report).toMatchObject({ checked: count, applied: count, pages: 3 });
    // the pages, and one look at the MODAL partition for modals past their deadline
    expect(proxy.counts()).toEqual({ Query: 5, UpdateItem: count, TransactWriteItems: count });

    // now nothing is unfinished: an idle run is three Queries, whatever the table holds
    proxy.reset();
    const idle = await own.reconcileOnce();
    expect(idle).toMatchObject({ checked: 0, applied: 0, pages: 1 });
    expect(proxy.counts()).toEqual({ Query: 3 });
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createStateToken } from "../../functions/core/state-token.ts";
import { type DynamoDbProxy, startDynamoDbProxy } from "../../local/dynamodb-proxy.ts";
import { api, dynamodbEndpoint, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * DynamoDB failing under the service: a proxy in front of DynamoDB Local answers throttling or
 * 500s, exactly as DynamoDB does, after the SDK's own retries.
 */
let proxy: DynamoDbProxy;
let stack: TestStack;
let alice: ReturnType<typeof api>;
const callbackSecret = "store-faults-secret-0123456789";

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  stack = await startTestStack({ dynamodbEndpoint: proxy.endpoint, callbackSecret });
  alice = api(stack, OWNERS.alice.key);
});
afterEach(() => {
  proxy.setFault(null);
  proxy.reset();
});
afterAll(async () => {
  await stack.stop();
  await proxy.stop();
});

describe("when DynamoDB fails", () => {
  it.each(["error500"] as const)(
    "%s: webhooks get 503 and write nothing; the reconciler converges the task afterwards",
    async (kind) => {
      // the task is recorded while the store is healthy; its webhooks then meet the outage
      const failedBefore = stack.simulator?.stats().webhooksFailed ?? 0;
      proxy.setFault({ kind, operations: ["UpdateItem"] });
      const submitted = await alice.imagine({ prompt: `outage ${kind}` });
      // submit's own answer-write failed too: the client is told, the task exists (NOT_START)
      expect(submitted.status).toBe(503);
      expect(submitted.body.error.code).toBe("store_unavailable");
      expect(submitted.headers.get("retry-after")).toBe("1");
      const [task] = (await alice.list("?limit=1")).body.items;
      expect(task.status).toBe("NOT_START");

      await stack.simulator?.idle();
      expect((stack.simulator?.stats().webhooksFailed ?? 0) - failedBefore).toBeGreaterThan(3);

      // one webhook by hand, to read its answer
      const upstream = stack.simulator
        ?.tasks()
        .find((t) => t.state === createStateToken(callbackSecret, task.id));
      expect(upstream?.status).toBe("SUCCESS");
      const hook = await fetch(`${stack.url}/hooks/midjourney`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(upstream),
      });
      expect(hook.status).toBe(503);
      expect((await alice.task(task.id)).body).toEqual({ ...task, children: [] });

      proxy.setFault(null);
      // no webhook will come again; the reconciler cannot find it either without its upstream
      // id (the answer-write failed), so it stays NOT_START until its deadline...
      await stack.reconcileOnce();
      // ...unless a webhook is retried: a gateway's retry (or our manual one) now applies
      const retry = await fetch(`${stack.url}/hooks/midjourney`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(upstream),
      });
      expect(retry.status).toBe(200);
      expect((await alice.task(task.id)).body).toMatchObject({
        status: "SUCCESS",
        upstreamTaskId: upstream?.id,
      });
    },
  );

  it("a webhook lost to an outage after submit is recovered by the reconciler", async () => {
    const submitted = await alice.imagine({ prompt: "healthy submit" });
    expect(submitted.status).toBe(202);
    proxy.setFault({ kind: "error500", operations: ["UpdateItem"] });
    await stack.simulator?.idle();
    expect((await alice.task(submitted.body.id)).body.status).toBe("SUBMITTED");
    proxy.setFault(null);
    const report = await stack.reconcileOnce();
    expect(report.applied).toBeGreaterThanOrEqual(1);
    expect((await alice.task(submitted.body.id)).body).toMatchObject({
      status: "SUCCESS",
      progress: 100,
    });
  });

  it("a submit during a full outage is 503 and starts no upstream job", async () => {
    proxy.setFault({ kind: "error500" });
    const jobsBefore = stack.simulator?.stats().jobsCreated ?? 0;
    const answer = await alice.imagine({ prompt: "no store" });
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe("store_unavailable");
    const read = await alice.list();
    expect(read.status).toBe(503);
    await expect(stack.reconcileOnce()).rejects.toThrow();
    proxy.setFault(null);
    expect(stack.simulator?.stats().jobsCreated ?? 0).toBe(jobsBefore);
  });

  it("a short outage during submit's answer-write is retried within the request", async () => {
    // no webhooks (and nothing else) write meanwhile: the proxy counts this request's writes
    await stack.simulator?.idle();
    // what a healthy submit sends, to compare with
    let before = proxy.counts().UpdateItem ?? 0;
    expect((await alice.imagine({ prompt: "no outage --sim-drop-hooks" })).status).toBe(202);
    const healthy = (proxy.counts().UpdateItem ?? 0) - before;
    expect(healthy).toBeGreaterThan(0);

    // the first answer-write meets a 500; its retry, in the same request, goes through
    await stack.simulator?.idle();
    proxy.setFault({ kind: "error500", operations: ["UpdateItem"], times: 1 });
    before = proxy.counts().UpdateItem ?? 0;
    const answer = await alice.imagine({ prompt: "brief outage --sim-drop-hooks" });
    expect(proxy.faulted().UpdateItem).toBe(1);
    expect((proxy.counts().UpdateItem ?? 0) - before).toBe(healthy + 1);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({
      status: expect.stringMatching(/SUBMITTED|IN_PROGRESS|SUCCESS/),
      upstreamTaskId: expect.any(String),
    });
  });

  it("throttling: a webhook gets 503 after its one retry, and writes nothing", async () => {
    const submitted = await alice.imagine({ prompt: "throttled --sim-drop-hooks" });
    await stack.simulator?.idle();
    const upstream = stack.simulator?.tasks().find((t) => t.id === submitted.body.upstreamTaskId);
    proxy.setFault({ kind: "throttle", operations: ["UpdateItem"] });
    const before = proxy.counts().UpdateItem ?? 0;
    const hook = await fetch(`${stack.url}/hooks/midjourney`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(upstream),
    });
    expect(hook.status).toBe(503);
    expect((proxy.counts().UpdateItem ?? 0) - before).toBe(2);
    proxy.setFault(null);
    expect((await alice.task(submitted.body.id)).body.status).toBe("SUBMITTED");
  });
});

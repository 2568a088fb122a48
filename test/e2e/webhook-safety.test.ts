import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeDispatcher } from "../../functions/compose/dispatch.ts";
import { silentLogger } from "../../functions/log.ts";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * What receivers cannot do to us, and what we cannot be made to do: the address guard at
 * submit and at every delivery (as on AWS: ALLOW_PRIVATE_WEBHOOK_URLS off), a receiver that
 * never answers, concurrent dispatchers, and an event bus that fails for a while.
 */

async function startReceiver(hang = false) {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(String(req.headers["webhook-id"]));
    req.resume();
    if (!hang) req.on("end", () => res.writeHead(200).end("ok"));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    hits,
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

describe("the address guard, as on AWS", () => {
  let stack: TestStack;
  let alice: ReturnType<typeof api>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const lookups: string[] = [];

  beforeAll(async () => {
    receiver = await startReceiver();
    stack = await startTestStack({
      webhooks: {
        allowPrivate: false,
        dispatcher: {
          // `rebound.test` resolves to loopback, where the receiver listens: a private address
          resolve: async (host) => {
            lookups.push(host);
            return [{ address: "127.0.0.1", family: 4 }];
          },
        },
      },
    });
    alice = api(stack, OWNERS.alice.key);
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  it.each([
    ["http://example.com/hook", "https"],
    [`http://127.0.0.1:9/hook`, "https"],
    ["https://127.0.0.1/hook", "private, loopback or link-local"],
    ["https://10.1.2.3/hook", "private, loopback or link-local"],
    ["https://169.254.169.254/latest/meta-data", "private, loopback or link-local"],
    ["https://[::1]/hook", "private, loopback or link-local"],
    ["https://[fd00:ec2::254]/hook", "private, loopback or link-local"],
    ["https://localhost/hook", "localhost"],
    ["https://user:pass@example.com/hook", "credentials"],
  ])("refuses %s at submit with a 400 naming webhookUrl, recording nothing", async (url, why) => {
    const before = (await alice.list("?limit=100")).body.items.length;
    const answer = await alice.imagine({ prompt: "a boat", webhookUrl: url });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
    expect(answer.body.error.details).toEqual([
      { path: "webhookUrl", message: expect.stringContaining(why) },
    ]);
    expect((await alice.list("?limit=100")).body.items.length).toBe(before);
  });

  it("checks the address again at delivery: a name that resolves to a private address is never called", async () => {
    // accepted at submit (the name does not resolve here), refused at delivery
    const submitted = await alice.imagine({
      prompt: "a boat --sim-banned",
      webhookUrl: `https://rebound.test:${receiver.port}/hook`,
    });
    expect(submitted.status).toBe(422);
    await stack.dispatchOnce();
    const log = await alice.call("GET", `/v1/tasks/${submitted.body.task.id}/deliveries`);
    const [delivery] = log.body.items;
    expect(delivery.status).toBe("pending");
    expect(delivery.attempts[0]).toMatchObject({
      statusCode: null,
      error: expect.stringMatching(/^blocked_address: rebound\.test resolves to 127\.0\.0\.1/),
    });
    expect(lookups).toContain("rebound.test");
    expect(receiver.hits).toEqual([]);
  });
});

describe("receivers and dispatchers that misbehave", () => {
  let stack: TestStack;
  let alice: ReturnType<typeof api>;
  let hanging: Awaited<ReturnType<typeof startReceiver>>;
  let good: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    hanging = await startReceiver(true);
    good = await startReceiver();
    stack = await startTestStack({
      webhooks: { bus: { name: "safety" }, dispatcher: { webhookTimeoutMs: 400 } },
    });
    alice = api(stack, OWNERS.alice.key);
  });
  afterAll(async () => {
    await stack?.stop();
    await hanging?.stop();
    await good?.stop();
  });

  it("a receiver that never answers costs one timed-out attempt; the task and the API never wait for it", async () => {
    const submitted = await alice.imagine({
      prompt: "a boat for a silent receiver",
      webhookUrl: `${hanging.url}/hook`,
      webhookEvents: ["task.progress", "task.succeeded"],
    });
    // dispatching in the background the whole time, as the stack's interval does
    let stop = false;
    const background = (async () => {
      while (!stop) await stack.dispatchOnce();
    })();
    const done = await eventually(
      () => alice.task(submitted.body.id),
      (r) => r.body?.status === "SUCCESS",
    );
    stop = true;
    await background;
    expect(done.body.status).toBe("SUCCESS");
    const log = await alice.call("GET", `/v1/tasks/${submitted.body.id}/deliveries`);
    const attempts = log.body.items.flatMap((d: { attempts: unknown[] }) => d.attempts);
    expect(attempts.length).toBeGreaterThan(0);
    for (const a of attempts) {
      expect(a).toMatchObject({ statusCode: null, error: expect.stringMatching(/^timeout/) });
    }
    expect(hanging.hits.length).toBeGreaterThan(0);
  });

  it("four dispatchers at once make one attempt per delivery", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const refused = await alice.imagine({
        prompt: `a boat ${i} --sim-banned`,
        webhookUrl: `${good.url}/hook`,
      });
      ids.push(refused.body.task.id);
    }
    const before = good.hits.length;
    await Promise.all([
      stack.dispatchOnce(),
      stack.dispatchOnce(),
      stack.dispatchOnce(),
      stack.dispatchOnce(),
    ]);
    // dispatchOnce shares a run in flight; a second stack on the same table is a real second
    const other = await startTestStack({ tableName: stack.tableName });
    try {
      await Promise.all([stack.dispatchOnce(), other.dispatchOnce(), stack.dispatchOnce()]);
    } finally {
      await other.stop();
    }
    const hits = good.hits.slice(before);
    expect(hits.sort()).toEqual(ids.map((id) => `evt_${id}_FAILURE`).sort());
  });

  it("retries the event bus while it fails, and publishes each transition once", async () => {
    // first, what the silent receiver's test left due: its host timed out, so every run put
    // that host's other deliveries off to the next (their retries may still come due below)
    let left = await stack.dispatchOnce();
    while (left.deferred > 0) left = await stack.dispatchOnce();
    stack.eventBus?.failNext(3, "http500"); // the SDK's own retries use these up: one failed attempt
    const refused = await alice.imagine({ prompt: "a boat for the bus --sim-banned" });
    const first = await stack.dispatchOnce();
    // the bus delivery, and possibly a silent receiver's retry that came due meanwhile
    expect(first.retrying).toBeGreaterThanOrEqual(1);
    expect(stack.eventBus?.events().filter((e) => e.detail.id === refused.body.task.id)).toEqual(
      [],
    );
    // a second stack whose clock is 11 s on: the retry (10 s after the failure) is due
    const later = await startTestStack({
      tableName: stack.tableName,
      overrides: { clock: { now: () => new Date(Date.now() + 11_000) } },
      webhooks: { bus: { name: "safety", endpoint: stack.eventBus?.endpoint } },
    });
    try {
      const second = await later.dispatchOnce();
      expect(second.delivered).toBeGreaterThanOrEqual(1);
      await later.dispatchOnce();
    } finally {
      await later.stop();
    }
    const published = stack.eventBus?.events().filter((e) => e.detail.id === refused.body.task.id);
    expect(published?.map((e) => e.detailType)).toEqual(["task.failed"]);
    // the runs that first drain the silent receiver's deferred deliveries wait out its timeouts:
    // about 20 s on two idle cores, more than the suite's 30 s default allows under CI's load
  }, 90_000);
});

describe("the stream-triggered dispatch (functions/lambda/dispatch.ts `stream`)", () => {
  let stack: TestStack;
  let alice: ReturnType<typeof api>;
  let good: Awaited<ReturnType<typeof startReceiver>>;
  let dispatcher: ReturnType<typeof composeDispatcher>;

  beforeAll(async () => {
    good = await startReceiver();
    stack = await startTestStack();
    alice = api(stack, OWNERS.alice.key);
    dispatcher = composeDispatcher(
      {
        TABLE_NAME: stack.tableName,
        DYNAMODB_ENDPOINT: stack.dynamodbEndpoint,
        WEBHOOK_SECRET: stack.webhookSecret,
        ALLOW_PRIVATE_WEBHOOK_URLS: true,
        TASK_RETENTION_DAYS: 90,
      },
      { log: silentLogger },
    );
  });
  afterAll(async () => {
    await stack?.stop();
    await good?.stop();
  });

  it("works through exactly the items a stream batch names: an outbox, then a delivery made due by hand", async () => {
    const refused = await alice.imagine({
      prompt: "a streamed boat --sim-banned",
      webhookUrl: `${good.url}/hook`,
    });
    const id = refused.body.task.id;
    const taskKey = { pk: `TASK#${id}`, sk: "TASK" };
    // a record for an item with nothing to do, and the same record twice: one delivery
    const first = await dispatcher.runItems([taskKey, taskKey, { pk: "TASK#nothing", sk: "TASK" }]);
    expect(first).toMatchObject({ outboxes: 1, queued: 1, delivered: 1 });
    expect(good.hits).toEqual([`evt_${id}_FAILURE`]);

    // the record of the delivery's own writes: delivered, so nothing is due
    const deliveryKey = { pk: `TASK#${id}`, sk: `DELIVERY#webhook#evt_${id}_FAILURE` };
    expect(await dispatcher.runItems([deliveryKey])).toMatchObject({ attempts: 0 });

    // a manual retry's write makes it due: the stream's record of it sends it again
    const retried = await alice.call("POST", `/v1/tasks/${id}/deliveries/evt_${id}_FAILURE/retry`);
    expect(retried.status).toBe(202);
    expect(await dispatcher.runItems([deliveryKey])).toMatchObject({ attempts: 1, delivered: 1 });
    expect(good.hits).toEqual([`evt_${id}_FAILURE`, `evt_${id}_FAILURE`]);
  });
});

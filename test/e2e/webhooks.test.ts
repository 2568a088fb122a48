import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RETRY_SCHEDULE_SECONDS } from "../../functions/webhooks/schedule.ts";
import { type DynamoDbProxy, startDynamoDbProxy } from "../../local/dynamodb-proxy.ts";
import { api, dynamodbEndpoint, eventually, OWNERS, uniqueTableName } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * Outbound webhooks end to end: the whole local stack (submit → upstream simulator → callback →
 * outbox → dispatcher) delivering to real HTTP receivers on loopback, verified with the
 * `standardwebhooks` package as a client would. The dispatcher runs when a test calls
 * dispatchOnce() (on AWS the table's stream and a schedule run it).
 */

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
}

type Answer = { status: number; headers?: Record<string, string>; body?: string } | "hang";

async function startReceiver(answer: (r: Received) => Answer = () => ({ status: 204 })) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        path: req.url ?? "",
      };
      received.push(r);
      const a = answer(r);
      if (a !== "hang") res.writeHead(a.status, a.headers).end(a.body ?? "");
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    /** What reached `path`, as the events a receiver would dedupe by webhook-id. */
    at: (path: string) => received.filter((r) => r.path === path),
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

function verify(secret: string | string[], hook: Received) {
  const headers = {
    "webhook-id": String(hook.headers["webhook-id"]),
    "webhook-timestamp": String(hook.headers["webhook-timestamp"]),
    "webhook-signature": String(hook.headers["webhook-signature"]),
  };
  const secrets = Array.isArray(secret) ? secret : [secret];
  return secrets.map(
    (s) =>
      new Webhook(s).verify(hook.body, headers) as {
        type: string;
        id: string;
        timestamp: string;
        data: Record<string, any>;
      },
  )[0] as { type: string; id: string; timestamp: string; data: Record<string, any> };
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let stack: TestStack;
let alice: ReturnType<typeof api>;
let hookPath = 0;
/** A fresh path on the receiver per task, so each test reads only its own deliveries. */
const hook = (kind = "ok") => `/${kind}/${++hookPath}`;

beforeAll(async () => {
  receiver = await startReceiver((r) => {
    if (r.path.startsWith("/fail/")) return { status: 500, body: "x".repeat(5000) };
    if (r.path.startsWith("/gone/")) return { status: 410 };
    return { status: 204 };
  });
  stack = await startTestStack({ webhooks: { bus: { name: "paperboat-test" } } });
  alice = api(stack, OWNERS.alice.key);
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.stop();
});

const finished = (id: string) =>
  eventually(
    () => alice.task(id),
    (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
  );

/** Runs the dispatcher until it has nothing left that is due. */
async function drain(s: TestStack = stack) {
  for (let i = 0; i < 5; i++) {
    const report = await s.dispatchOnce();
    if (report.outboxes === 0 && report.attempts === 0) return;
  }
}

describe("outbound webhooks", () => {
  it("delivers one signed task.succeeded that verifies with standardwebhooks, and logs it", async () => {
    const secret = await alice.call("GET", "/v1/webhook-secret");
    expect(secret.status).toBe(200);
    expect(secret.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const path = hook();
    const submitted = await alice.imagine({
      prompt: "a paper boat --v 6.1",
      webhookUrl: `${receiver.url}${path}`,
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({
      webhookUrl: `${receiver.url}${path}`,
      webhookEvents: ["task.succeeded", "task.failed", "task.modal"],
    });
    const done = await finished(submitted.body.id);
    expect(done.body.status).toBe("SUCCESS");
    await drain();
    const got = receiver.at(path);
    expect(got).toHaveLength(1);
    const event = verify(secret.body.secret, got[0] as Received);
    expect(event.type).toBe("task.succeeded");
    expect(event.id).toBe(got[0]?.headers["webhook-id"]);
    expect(event.id).toBe(`evt_${submitted.body.id}_SUCCESS`);
    // the task as the API shows it
    const { children: _children, images: _i, imagesStatus: _s, ...shown } = done.body;
    expect(event.data).toMatchObject({ ...shown, images: [], updatedAt: expect.any(String) });

    const log = await alice.call("GET", `/v1/tasks/${submitted.body.id}/deliveries`);
    expect(log.status).toBe(200);
    expect(log.body.items).toEqual([
      expect.objectContaining({
        id: event.id,
        taskId: submitted.body.id,
        type: "task.succeeded",
        url: `${receiver.url}${path}`,
        status: "delivered",
        attemptCount: 1,
        nextAttemptAt: null,
      }),
    ]);
    expect(log.body.items[0].attempts).toEqual([
      expect.objectContaining({ statusCode: 204, error: null, manual: false }),
    ]);
    expect(log.body.items[0].attempts[0].latencyMs).toEqual(expect.any(Number));

    // the bus got the same transition, with the task as detail
    const onBus = stack.eventBus?.events().filter((e) => e.detail.id === submitted.body.id);
    expect(onBus?.map((e) => [e.source, e.detailType])).toEqual([["paperboat", "task.succeeded"]]);
    expect(onBus?.[0]?.detail).toMatchObject({ id: submitted.body.id, status: "SUCCESS" });
  });

  it("sends task.progress only to those who ask, one per progress step, before the final event", async () => {
    const withProgress = hook();
    const without = hook();
    const [a, b] = await Promise.all([
      alice.imagine({
        prompt: "a boat in steps",
        webhookUrl: `${receiver.url}${withProgress}`,
        webhookEvents: ["task.progress", "task.succeeded"],
      }),
      alice.imagine({ prompt: "a boat at once", webhookUrl: `${receiver.url}${without}` }),
    ]);
    // dispatch while the tasks run, as the stack's interval or the stream would
    await eventually(
      async () => {
        await drain();
        return alice.task(a.body.id);
      },
      (r) => r.body?.status === "SUCCESS",
    );
    await finished(b.body.id);
    await drain();
    const progress = receiver.at(withProgress).map((r) => JSON.parse(r.body));
    const types = progress.map((e) => e.type);
    expect(types.at(-1)).toBe("task.succeeded");
    expect(types.filter((t) => t === "task.progress").length).toBeGreaterThan(1);
    // one per step: distinct ids, and the progress each announces goes up
    const ids = progress.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const steps = progress.filter((e) => e.type === "task.progress").map((e) => e.data.progress);
    expect([...steps].sort((x, y) => x - y)).toEqual(steps);
    // each progress event names its step: the id, the status and progress it announces, a time
    for (const e of progress.filter((e) => e.type === "task.progress")) {
      expect(e.id).toBe(`evt_${a.body.id}_IN_PROGRESS_${e.data.progress}`);
      expect(e.data.status).toBe("IN_PROGRESS");
      expect(new Date(e.timestamp).toISOString()).toBe(e.timestamp);
    }
    expect(receiver.at(without).map((r) => JSON.parse(r.body).type)).toEqual(["task.succeeded"]);
  });

  it("sends exactly one event per transition when the upstream's webhooks come twice and shuffled", async () => {
    const path = hook();
    const submitted = await alice.imagine({
      prompt: "a boat --sim-duplicate --sim-reorder",
      webhookUrl: `${receiver.url}${path}`,
      webhookEvents: ["task.progress", "task.succeeded", "task.failed"],
    });
    await finished(submitted.body.id);
    await stack.simulator?.idle();
    await drain();
    await drain();
    const ids = receiver.at(path).map((r) => r.headers["webhook-id"]);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => String(id).endsWith("_SUCCESS"))).toHaveLength(1);
  });

  it("sends one task.succeeded when the upstream's webhooks are all lost and the reconciler finds the result", async () => {
    const path = hook();
    const submitted = await alice.imagine({
      prompt: "a boat whose webhooks are lost --sim-drop-hooks",
      webhookUrl: `${receiver.url}${path}`,
    });
    await stack.simulator?.idle();
    await drain();
    expect(receiver.at(path)).toHaveLength(0);
    await stack.reconcileOnce();
    await stack.reconcileOnce();
    await drain();
    expect(receiver.at(path).map((r) => r.headers["webhook-id"])).toEqual([
      `evt_${submitted.body.id}_SUCCESS`,
    ]);
  });

  it("announces task.failed for a refused prompt, and task.modal for a task waiting in MODAL", async () => {
    const refusedPath = hook();
    const refused = await alice.imagine({
      prompt: "a boat --sim-banned",
      webhookUrl: `${receiver.url}${refusedPath}`,
    });
    expect(refused.status).toBe(422);
    await drain();
    const failed = receiver.at(refusedPath).map((r) => JSON.parse(r.body));
    expect(failed).toEqual([
      expect.objectContaining({
        type: "task.failed",
        data: expect.objectContaining({ id: refused.body.task.id, status: "FAILURE" }),
      }),
    ]);

    const root = await finished((await alice.imagine({ prompt: "a boat to zoom" })).body.id);
    const u1 = await finished(
      (
        await alice.call("POST", `/v1/tasks/${root.body.id}/actions`, {
          customId: root.body.buttons.find((b: { label: string }) => b.label === "U1").customId,
        })
      ).body.id,
    );
    const modalPath = hook();
    const zoom = await alice.call("POST", `/v1/tasks/${u1.body.id}/actions`, {
      customId: u1.body.buttons.find((b: { label: string }) => b.label === "Custom Zoom").customId,
      webhookUrl: `${receiver.url}${modalPath}`,
    });
    expect(zoom.body.status).toBe("MODAL");
    await drain();
    expect(receiver.at(modalPath).map((r) => JSON.parse(r.body).type)).toEqual(["task.modal"]);
    expect(
      stack.eventBus
        ?.events()
        .filter((e) => e.detail.id === zoom.body.id)
        .map((e) => e.detailType),
    ).toEqual(["task.modal"]);
  });

  it("a child (a button) reports to its parent's webhookUrl, unless the click names its own", async () => {
    const path = hook();
    const parent = await alice.imagine({
      prompt: "a boat with children",
      webhookUrl: `${receiver.url}${path}`,
      webhookEvents: ["task.succeeded"],
    });
    const root = await finished(parent.body.id);
    const buttons: { label: string; customId: string }[] = root.body.buttons;
    const click = (label: string, extra: Record<string, unknown> = {}) =>
      alice.call("POST", `/v1/tasks/${root.body.id}/actions`, {
        customId: buttons.find((b) => b.label === label)?.customId,
        ...extra,
      });
    const inherited = await click("U1");
    expect(inherited.status).toBe(202);
    expect(inherited.body).toMatchObject({
      parentId: root.body.id,
      webhookUrl: `${receiver.url}${path}`,
      webhookEvents: ["task.succeeded"],
    });
    const ownPath = hook();
    const own = await click("U2", { webhookUrl: `${receiver.url}${ownPath}` });
    expect(own.body.webhookUrl).toBe(`${receiver.url}${ownPath}`);
    await finished(inherited.body.id);
    await finished(own.body.id);
    await drain();
    // the parent's receiver got the parent's and the inheriting child's events, not the other's
    const ids = receiver.at(path).map((r) => JSON.parse(r.body).data.id);
    expect(ids.sort()).toEqual([root.body.id, inherited.body.id].sort());
    expect(receiver.at(ownPath).map((r) => JSON.parse(r.body).data.id)).toEqual([own.body.id]);
  });

  it("stops at a 410: that delivery is stopped and the task's later events are never sent", async () => {
    const path = hook("gone");
    const submitted = await alice.imagine({
      prompt: "a boat nobody wants",
      webhookUrl: `${receiver.url}${path}`,
      webhookEvents: ["task.progress", "task.succeeded"],
    });
    // every event of the run is queued before the first delivery: the first one answers 410
    await finished(submitted.body.id);
    await drain();
    const got = receiver.at(path);
    expect(got).toHaveLength(1);
    expect(String(got[0]?.headers["webhook-id"])).toMatch(/_IN_PROGRESS_\d+$/);
    const log = await alice.call("GET", `/v1/tasks/${submitted.body.id}/deliveries`);
    expect(log.body.items.length).toBeGreaterThan(2);
    expect(log.body.items.map((d: { status: string }) => d.status)).toEqual(
      log.body.items.map(() => "stopped"),
    );
    expect(log.body.items[0].attempts).toEqual([expect.objectContaining({ statusCode: 410 })]);
    for (const d of log.body.items.slice(1)) expect(d.attempts).toEqual([]);
    // and nothing more is queued for that URL afterwards
    await drain();
    expect(receiver.at(path)).toHaveLength(1);
  });

  it("refuses webhookEvents without a webhookUrl, and unknown events", async () => {
    const noUrl = await alice.imagine({ prompt: "a boat", webhookEvents: ["task.succeeded"] });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.error.details[0].path).toBe("webhookEvents");
    const unknown = await alice.imagine({
      prompt: "a boat",
      webhookUrl: `${receiver.url}/x`,
      webhookEvents: ["task.exploded"],
    });
    expect(unknown.status).toBe(400);
  });

  it("answers 404 for another owner's task or an unknown delivery", async () => {
    const submitted = await alice.imagine({
      prompt: "a private boat",
      webhookUrl: `${receiver.url}${hook()}`,
    });
    const bob = api(stack, OWNERS.bob.key);
    expect((await bob.call("GET", `/v1/tasks/${submitted.body.id}/deliveries`)).status).toBe(404);
    const id = `evt_${submitted.body.id}_SUCCESS`;
    expect(
      (await bob.call("POST", `/v1/tasks/${submitted.body.id}/deliveries/${id}/retry`)).status,
    ).toBe(404);
    expect(
      (await alice.call("POST", `/v1/tasks/${submitted.body.id}/deliveries/nope/retry`)).status,
    ).toBe(404);
  });
});

describe("delivery that survives everything (a clock the test moves)", () => {
  let clocked: TestStack;
  let carol: ReturnType<typeof api>;
  const clock = { ms: Date.now(), now: () => new Date(clock.ms) };
  const tableName = uniqueTableName("wh");
  const webhookSecret = "a-fixed-webhook-master-secret";
  let proxy: DynamoDbProxy;

  beforeAll(async () => {
    proxy = await startDynamoDbProxy(dynamodbEndpoint());
    clocked = await startTestStack({
      tableName,
      dynamodbEndpoint: proxy.endpoint,
      overrides: { clock },
      webhooks: { secret: webhookSecret, dispatcher: { random: () => 0 } },
    });
    carol = api(clocked, OWNERS.alice.key);
  });
  afterAll(async () => {
    await clocked?.stop();
    await proxy?.stop();
  });

  /** Submits a prompt the upstream refuses: a task.failed is queued at once, no waiting. */
  async function failedTask(path: string) {
    const refused = await carol.imagine({
      prompt: "a doomed boat --sim-banned",
      webhookUrl: `${receiver.url}${path}`,
    });
    expect(refused.status).toBe(422);
    return refused.body.task.id as string;
  }

  const deliveries = async (id: string) =>
    (await carol.call("GET", `/v1/tasks/${id}/deliveries`)).body.items;

  /** Dispatches, moving the clock to each next attempt, until the task's delivery has ended. */
  async function untilSettled(id: string) {
    for (let round = 0; round < 20; round++) {
      await clocked.dispatchOnce();
      const [delivery] = await deliveries(id);
      if (delivery.status !== "pending") return;
      clock.ms = Date.parse(delivery.nextAttemptAt) + 1;
    }
  }

  it("retries a receiver that answers 500 on the exponential schedule for over 24 h, then marks it dead", async () => {
    const path = hook("fail");
    const id = await failedTask(path);
    const started = clock.ms;
    await untilSettled(id);
    const [delivery] = await deliveries(id);
    expect(delivery.status).toBe("dead");
    expect(delivery.nextAttemptAt).toBeNull();
    expect(delivery.attemptCount).toBe(RETRY_SCHEDULE_SECONDS.length + 1);
    expect(delivery.attempts).toHaveLength(RETRY_SCHEDULE_SECONDS.length + 1);
    for (const attempt of delivery.attempts) {
      expect(attempt).toMatchObject({ statusCode: 500, manual: false });
      // the receiver's answer is kept, cut at 1 KB
      expect(Buffer.byteLength(attempt.response)).toBeLessThanOrEqual(1024);
      expect(attempt.response).toMatch(/^x+$/);
    }
    // the gaps are the schedule (jitter pinned to 0 here), and the whole span is over 24 h
    const times = delivery.attempts.map((a: { at: string }) => Date.parse(a.at));
    const gaps = times.slice(1).map((t: number, i: number) => Math.round((t - times[i]) / 1000));
    expect(gaps).toEqual(RETRY_SCHEDULE_SECONDS.map((s) => s));
    expect(times.at(-1) - started).toBeGreaterThan(24 * 3600 * 1000);
    // every attempt reached the receiver with the same webhook-id and body
    const got = receiver.at(path);
    expect(got).toHaveLength(RETRY_SCHEDULE_SECONDS.length + 1);
    expect(new Set(got.map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
  });

  it("redelivers by hand: one more attempt, marked manual, with the same webhook-id", async () => {
    const path = hook("fail");
    const id = await failedTask(path);
    await untilSettled(id);
    const [dead] = await deliveries(id);
    expect(dead.status).toBe("dead");
    const retried = await carol.call("POST", `/v1/tasks/${id}/deliveries/${dead.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: dead.id, status: "pending" });
    await clocked.dispatchOnce();
    const [after] = await deliveries(id);
    expect(after.status).toBe("dead");
    expect(after.attemptCount).toBe(dead.attemptCount + 1);
    expect(after.attempts.at(-1)).toMatchObject({ manual: true, statusCode: 500 });
    const got = receiver.at(path);
    expect(new Set(got.map((r) => r.headers["webhook-id"]))).toEqual(new Set([dead.id]));
  });

  it("honours Retry-After", async () => {
    const slow = await startReceiver(() => ({ status: 503, headers: { "retry-after": "7200" } }));
    try {
      const refused = await carol.imagine({
        prompt: "a patient boat --sim-banned",
        webhookUrl: `${slow.url}/later`,
      });
      await clocked.dispatchOnce();
      const [delivery] = await deliveries(refused.body.task.id);
      expect(delivery.status).toBe("pending");
      expect(Date.parse(delivery.nextAttemptAt) - clock.ms).toBeGreaterThanOrEqual(
        7200 * 1000 - 5000,
      );
    } finally {
      await slow.stop();
    }
  });

  it("delivers what a stopped stack had queued, once, when it comes back on the same table", async () => {
    const path = hook();
    const id = await failedTask(path);
    // the status change and its event were written together; nothing was dispatched yet
    await clocked.stop();
    expect(receiver.at(path)).toHaveLength(0);
    clocked = await startTestStack({
      tableName,
      dynamodbEndpoint: proxy.endpoint,
      overrides: { clock },
      webhooks: { secret: webhookSecret, dispatcher: { random: () => 0 } },
    });
    carol = api(clocked, OWNERS.alice.key);
    await clocked.dispatchOnce();
    await clocked.dispatchOnce();
    const got = receiver.at(path);
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0]?.body ?? "{}")).toMatchObject({ type: "task.failed", data: { id } });
  });

  it("sends the same webhook-id again when a dispatcher dies between sending and recording", async () => {
    // the receiver answers 200, and at that moment the store goes away: the attempt is not
    // recorded, as if the dispatcher had died right after sending
    let first = true;
    const flaky = await startReceiver(() => {
      if (first) proxy.setFault({ kind: "error500", operations: ["UpdateItem"] });
      first = false;
      return { status: 200 };
    });
    try {
      const refused = await carol.imagine({
        prompt: "a boat sent twice --sim-banned",
        webhookUrl: `${flaky.url}/hook`,
      });
      await clocked.dispatchOnce();
      proxy.setFault(null);
      expect(flaky.received).toHaveLength(1);
      const [unrecorded] = await deliveries(refused.body.task.id);
      expect(unrecorded).toMatchObject({ status: "pending", attemptCount: 0 });
      // nobody sends it while the claim holds; once it lapses, the next run does
      await clocked.dispatchOnce();
      expect(flaky.received).toHaveLength(1);
      clock.ms += 61_000;
      await clocked.dispatchOnce();
      const [after] = await deliveries(refused.body.task.id);
      expect(after).toMatchObject({ status: "delivered", attemptCount: 1 });
      expect(flaky.received).toHaveLength(2);
      // one logical event: the receiver dedupes the second by its webhook-id
      const ids = flaky.received.map((r) => r.headers["webhook-id"]);
      expect(ids[0]).toBe(ids[1]);
      expect(flaky.received[0]?.body).toBe(flaky.received[1]?.body);
    } finally {
      proxy.setFault(null);
      await flaky.stop();
    }
  });

  it("retries a receiver that drops the connection, with the same webhook-id", async () => {
    let calls = 0;
    const dropping = createServer((req, res) => {
      calls++;
      if (calls === 1) {
        req.socket.destroy();
        return;
      }
      req.resume();
      req.on("end", () => res.writeHead(204).end());
    });
    await new Promise<void>((ok) => dropping.listen(0, "127.0.0.1", ok));
    try {
      const port = (dropping.address() as AddressInfo).port;
      const refused = await carol.imagine({
        prompt: "a boat on a bad line --sim-banned",
        webhookUrl: `http://127.0.0.1:${port}/hook`,
      });
      await clocked.dispatchOnce();
      const [first] = await deliveries(refused.body.task.id);
      expect(first).toMatchObject({ status: "pending", attemptCount: 1 });
      expect(first.attempts[0]).toMatchObject({
        statusCode: null,
        error: expect.stringMatching(/^unreachable/),
      });
      clock.ms = Date.parse(first.nextAttemptAt) + 1;
      await clocked.dispatchOnce();
      const [second] = await deliveries(refused.body.task.id);
      expect(second).toMatchObject({ status: "delivered", attemptCount: 2 });
      expect(calls).toBe(2);
    } finally {
      dropping.close();
      dropping.closeAllConnections();
    }
  });

  it("signs with both secrets during a rotation's grace period, then with the new one only", async () => {
    clock.ms = Date.now(); // standardwebhooks checks the timestamp against its own clock
    const before = (await carol.call("GET", "/v1/webhook-secret")).body.secret;
    const rotated = await carol.call("POST", "/v1/webhook-secret/rotate", {
      gracePeriodSeconds: 3600,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(before);
    expect(Date.parse(rotated.body.previousValidUntil)).toBe(clock.ms + 3600 * 1000);
    const path = hook();
    await failedTask(path);
    await clocked.dispatchOnce();
    const [during] = receiver.at(path);
    expect(String(during?.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verify(before, during as Received).type).toBe("task.failed");
    expect(verify(rotated.body.secret, during as Received).type).toBe("task.failed");

    clock.ms += 3601 * 1000;
    const later = hook();
    await failedTask(later);
    await clocked.dispatchOnce();
    const [after] = receiver.at(later);
    expect(String(after?.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    // verified as a receiver would at that time (its clock is an hour on, like ours)
    vi.useFakeTimers({ toFake: ["Date"], now: clock.ms });
    try {
      expect(verify(rotated.body.secret, after as Received).type).toBe("task.failed");
      expect(() => verify(before, after as Received)).toThrow(/signature/i);
    } finally {
      vi.useRealTimers();
    }
  });
});

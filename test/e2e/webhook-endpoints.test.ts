import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RETRY_SCHEDULE_SECONDS } from "../../functions/webhooks/schedule.ts";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * Account webhook endpoints end to end: the local stack (submit → simulator → callback →
 * outbox → dispatcher) delivering every task event of an owner to real receivers on loopback,
 * verified with the `standardwebhooks` package. The clock runs in real time until the retry
 * tests move it forward.
 */

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
}

let server: Server;
let base: string;
const received: Received[] = [];
const at = (path: string) => received.filter((r) => r.path === path);
const typesAt = (path: string, taskId: string) =>
  at(path)
    .map((r) => JSON.parse(r.body))
    .filter((e) => e.data.id === taskId)
    .map((e) => e.type);

let stack: TestStack;
let alice: ReturnType<typeof api>;
let bob: ReturnType<typeof api>;
const clock = { offsetMs: 0, now: () => new Date(Date.now() + clock.offsetMs) };
let paths = 0;
const path = (kind = "ok") => `/${kind}/${++paths}`;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        path: req.url ?? "",
      };
      received.push(r);
      res.writeHead(r.path.startsWith("/fail/") ? 500 : 204).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stack = await startTestStack({
    overrides: { clock },
    webhooks: { dispatcher: { random: () => 0 } },
  });
  alice = api(stack, OWNERS.alice.key);
  bob = api(stack, OWNERS.bob.key);
});
afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((ok) => {
    if (!server) return ok();
    server.close(() => ok());
    server.closeAllConnections();
  });
});
// each test starts with no endpoints
afterEach(async () => {
  for (const who of [alice, bob]) {
    for (const e of (await who.call("GET", "/v1/webhook-endpoints")).body.items) {
      await who.call("DELETE", `/v1/webhook-endpoints/${e.id}`);
    }
  }
});

async function drain() {
  for (let i = 0; i < 6; i++) {
    const report = await stack.dispatchOnce();
    if (report.outboxes === 0 && report.attempts === 0) return;
  }
}

async function addEndpoint(who: ReturnType<typeof api>, body: Record<string, unknown>) {
  const added = await who.call("POST", "/v1/webhook-endpoints", body);
  expect(added.status).toBe(201);
  return added.body as { id: string; url: string; events: string[] };
}

/** A prompt the upstream refuses: a task.failed is queued at once. */
async function failedTask(who: ReturnType<typeof api>) {
  const refused = await who.imagine({ prompt: "a doomed boat --sim-banned" });
  expect(refused.status).toBe(422);
  return refused.body.task.id as string;
}

const deliveries = async (who: ReturnType<typeof api>, id: string) =>
  (await who.call("GET", `/v1/tasks/${id}/deliveries`)).body.items as Record<string, any>[];

describe("account webhook endpoints", () => {
  it("get every event of the owner's tasks they ask for, signed with the owner's secret", async () => {
    const all = path();
    const failures = path();
    const progress = path();
    const a = await addEndpoint(alice, { url: `${base}${all}` });
    expect(a).toEqual({
      id: expect.stringMatching(/^ep_[0-9A-Z]{26}$/),
      url: `${base}${all}`,
      events: ["task.succeeded", "task.failed", "task.modal"],
    });
    const f = await addEndpoint(alice, { url: `${base}${failures}`, events: ["task.failed"] });
    const p = await addEndpoint(alice, {
      url: `${base}${progress}`,
      events: ["task.progress", "task.succeeded"],
    });
    const listed = await alice.call("GET", "/v1/webhook-endpoints");
    expect(listed.body.items.map((e: { id: string }) => e.id)).toEqual([a.id, f.id, p.id]);

    // one task succeeds (its own webhookUrl asks for progress), one is refused
    const own = path();
    const ok = await alice.imagine({
      prompt: "a paper boat --v 6.1",
      webhookUrl: `${base}${own}`,
      webhookEvents: ["task.progress", "task.succeeded"],
    });
    expect(ok.status).toBe(202);
    const refused = await failedTask(alice);
    await eventually(
      () => alice.task(ok.body.id),
      (r) => r.body?.status === "SUCCESS",
    );
    await drain();

    expect(typesAt(all, ok.body.id)).toEqual(["task.succeeded"]);
    expect(typesAt(all, refused)).toEqual(["task.failed"]);
    expect(typesAt(failures, ok.body.id)).toEqual([]);
    expect(typesAt(failures, refused)).toEqual(["task.failed"]);
    // progress steps reach the endpoint for a task whose own webhookEvents asked for them
    const steps = typesAt(progress, ok.body.id);
    expect(steps.at(-1)).toBe("task.succeeded");
    expect(steps.filter((t) => t === "task.progress").length).toBeGreaterThan(0);
    expect(steps).toEqual(typesAt(own, ok.body.id));
    expect(typesAt(progress, refused)).toEqual([]);

    // signed as a webhookUrl is: the owner's whsec_ secret, webhook-id = the event id
    const { secret } = (await alice.call("GET", "/v1/webhook-secret")).body;
    for (const hook of [...at(all), ...at(failures), ...at(progress)]) {
      const event = new Webhook(secret).verify(hook.body, {
        "webhook-id": String(hook.headers["webhook-id"]),
        "webhook-timestamp": String(hook.headers["webhook-timestamp"]),
        "webhook-signature": String(hook.headers["webhook-signature"]),
      }) as { id: string };
      expect(event.id).toBe(hook.headers["webhook-id"]);
    }

    // the task's log has one delivery per URL, the endpoint's id as its target
    const log = await deliveries(alice, refused);
    expect(log.map((d) => d.target).sort()).toEqual([a.id, f.id].sort());
    for (const d of log) {
      expect(d).toMatchObject({
        id: `evt_${refused}_FAILURE`,
        status: "delivered",
        attemptCount: 1,
      });
      expect(d.attempts).toEqual([expect.objectContaining({ statusCode: 204, error: null })]);
    }
    expect(log.find((d) => d.target === a.id)?.url).toBe(`${base}${all}`);
  });

  it("never get another owner's events, and another owner cannot see or delete them", async () => {
    const mine = path();
    const a = await addEndpoint(alice, { url: `${base}${mine}` });
    const bobs = await failedTask(bob);
    const alices = await failedTask(alice);
    await drain();
    expect(typesAt(mine, alices)).toEqual(["task.failed"]);
    expect(typesAt(mine, bobs)).toEqual([]);
    expect(await deliveries(bob, bobs)).toEqual([]);
    expect((await bob.call("GET", "/v1/webhook-endpoints")).body).toEqual({ items: [] });
    expect((await bob.call("DELETE", `/v1/webhook-endpoints/${a.id}`)).status).toBe(404);
    expect((await alice.call("GET", "/v1/webhook-endpoints")).body.items).toHaveLength(1);
  });

  it("refuses bad URLs and unknown events with 400, unknown ids with 404, an 11th endpoint with 409", async () => {
    for (const url of [
      "ftp://example.com/hook",
      "not a url",
      // the webhookUrl policy: http only to loopback (here), never credentials
      "http://example.com/hook",
      `http://user:pw@127.0.0.1:1/hook`,
    ]) {
      const refused = await alice.call("POST", "/v1/webhook-endpoints", { url });
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe("validation_failed");
      expect(refused.body.error.details[0].path).toBe("url");
    }
    const badEvents = await alice.call("POST", "/v1/webhook-endpoints", {
      url: `${base}/x`,
      events: ["task.exploded"],
    });
    expect(badEvents.status).toBe(400);
    const extra = await alice.call("POST", "/v1/webhook-endpoints", { url: `${base}/x`, x: 1 });
    expect(extra.status).toBe(400);
    expect((await alice.call("DELETE", "/v1/webhook-endpoints/ep_nope")).status).toBe(404);
    expect(
      (await alice.call("DELETE", "/v1/webhook-endpoints/ep_01J00000000000000000000000")).status,
    ).toBe(404);

    const made = [];
    for (let i = 0; i < 10; i++) made.push(await addEndpoint(alice, { url: `${base}/cap/${i}` }));
    const over = await alice.call("POST", "/v1/webhook-endpoints", { url: `${base}/cap/10` });
    expect(over.status).toBe(409);
    expect(over.body.error.message).toMatch(/at most 10 webhook endpoints/);
    // deleting one makes room; deleting it twice is 404
    expect((await alice.call("DELETE", `/v1/webhook-endpoints/${made[0]?.id}`)).status).toBe(204);
    expect((await alice.call("DELETE", `/v1/webhook-endpoints/${made[0]?.id}`)).status).toBe(404);
    await addEndpoint(alice, { url: `${base}/cap/10` });
    // another owner has a cap of their own
    await addEndpoint(bob, { url: `${base}/cap/bob` });
  });
});

describe("retries and deletion (the clock moves)", () => {
  /** Dispatches, moving the clock to the delivery's next attempt, until it has ended. */
  async function untilSettled(taskId: string, target: string) {
    for (let round = 0; round < 20; round++) {
      await stack.dispatchOnce();
      const d = (await deliveries(alice, taskId)).find((x) => x.target === target);
      if (d?.status !== "pending") return;
      clock.offsetMs = Date.parse(d.nextAttemptAt) + 1 - Date.now();
    }
  }

  it("retries a failing endpoint on the webhook schedule, then marks it dead", async () => {
    const failing = path("fail");
    const e = await addEndpoint(alice, { url: `${base}${failing}` });
    const id = await failedTask(alice);
    await untilSettled(id, e.id);
    const d = (await deliveries(alice, id)).find((x) => x.target === e.id);
    expect(d).toMatchObject({ status: "dead", attemptCount: RETRY_SCHEDULE_SECONDS.length + 1 });
    const times = (d?.attempts ?? []).map((a: { at: string }) => Date.parse(a.at));
    const gaps = times.slice(1).map((t: number, i: number) => Math.round((t - times[i]) / 1000));
    expect(gaps).toEqual([...RETRY_SCHEDULE_SECONDS]);
    expect(at(failing)).toHaveLength(RETRY_SCHEDULE_SECONDS.length + 1);
    expect(new Set(at(failing).map((r) => r.headers["webhook-id"])).size).toBe(1);
  });

  it("after a delete: later events are not sent, and a pending retry stops unsent", async () => {
    const failing = path("fail");
    const e = await addEndpoint(alice, { url: `${base}${failing}` });
    const first = await failedTask(alice);
    await drain();
    expect(at(failing)).toHaveLength(1);
    const pending = (await deliveries(alice, first)).find((x) => x.target === e.id);
    expect(pending?.status).toBe("pending");

    expect((await alice.call("DELETE", `/v1/webhook-endpoints/${e.id}`)).status).toBe(204);
    expect((await alice.call("GET", "/v1/webhook-endpoints")).body.items).toEqual([]);
    const later = await failedTask(alice);
    clock.offsetMs = Date.parse(pending?.nextAttemptAt) + 1 - Date.now();
    await drain();
    expect(at(failing)).toHaveLength(1);
    expect(await deliveries(alice, later)).toEqual([]);
    const stopped = (await deliveries(alice, first)).find((x) => x.target === e.id);
    expect(stopped).toMatchObject({ status: "stopped", attemptCount: 2, nextAttemptAt: null });
    expect(stopped?.attempts[1]).toMatchObject({
      statusCode: null,
      error: "the webhook endpoint was deleted",
    });
  });
});

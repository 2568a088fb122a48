import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ApiError,
  type ApiKeyInfo,
  ButtonNotFoundError,
  ConnectionError,
  createClient,
  type Delivery,
  type ErrorCode,
  findButton,
  isFinished,
  type OwnerLimits,
  type Task,
  type TaskWithChildren,
  UnexpectedResponseError,
  type Usage,
  WaitTimeoutError,
} from "paperboat";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { freePort } from "../../local/dynamodb.ts";
import { OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * The typed client (`import { createClient } from "paperboat"`) against the real local stack:
 * the simulator's jobs, the contract's errors as typed exceptions, waiting, and retries that
 * never make a second job.
 */

let stack: TestStack;
const client = () => createClient({ baseUrl: stack.url, apiKey: OWNERS.alice.key });

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

const png = `data:image/png;base64,${PNG.sync.write(new PNG({ width: 4, height: 4 })).toString("base64")}`;

describe("createClient", () => {
  it("imagines, then follows the task to SUCCESS with onProgress seeing it move forward", async () => {
    const pb = client();
    const task = await pb.imagine({ prompt: "a paper boat, typed", metadata: { run: 1 } });
    expectTypeOf(task).toEqualTypeOf<Task>();
    expect(task).toMatchObject({ status: "SUBMITTED", owner: "alice", metadata: { run: 1 } });

    const seen: { status: string; progress: number }[] = [];
    const done = await pb.waitForTask(task.id, {
      intervalMs: 20,
      onProgress: (t) => seen.push({ status: t.status, progress: t.progress }),
    });
    expectTypeOf(done).toEqualTypeOf<TaskWithChildren>();
    expect(done).toMatchObject({ id: task.id, status: "SUCCESS", progress: 100 });
    expect(done.imageUrl).toMatch(/^http/);
    expect(isFinished(done)).toBe(true);
    expect(seen.at(-1)).toEqual({ status: "SUCCESS", progress: 100 });
    // reported only on change, and never backwards
    const progress = seen.map((s) => s.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(seen.map((s) => `${s.status}/${s.progress}`)).size).toBe(seen.length);
  });

  it("clicks a button by its label, reads the tree and pages through tasks", async () => {
    const pb = client();
    const root = await pb.waitForTask((await pb.imagine({ prompt: "a boat to upscale" })).id, {
      intervalMs: 20,
    });
    expect(findButton(root, "u2")?.label).toBe("U2");
    expect(findButton(root, "reroll")?.emoji).toBe("🔄");
    const child = await pb.clickButton(root.id, "U2");
    expect(child).toMatchObject({ action: "UPSCALE", parentId: root.id });
    expect((await pb.getTask(root.id)).children).toEqual([child.id]);

    const missing = await thrown(pb.clickButton(root.id, "X9"));
    expect(missing).toBeInstanceOf(ButtonNotFoundError);
    expect((missing as Error).message).toContain("U1, U2, U3, U4, 🔄, V1");

    const page = await pb.listTasks({ limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.nextCursor).toEqual(expect.any(String));
    const all: string[] = [];
    for await (const task of pb.tasks({ limit: 1 })) all.push(task.id);
    expect(all).toContain(root.id);
    expect(all).toContain(child.id);
    expect(new Set(all).size).toBe(all.length);
    const children = await pb.listTasks({ parentId: root.id });
    expect(children.items.map((t) => t.id)).toEqual([child.id]);
  });

  it("has one method per job route", async () => {
    const pb = client();
    const done = await pb.waitForTask((await pb.imagine({ prompt: "a seed to find" })).id, {
      intervalMs: 20,
    });
    expect((await pb.seed(done.id)).seed).toEqual(expect.any(String));
    expect((await pb.health()).status).toBe("ok");
    const jobs = await Promise.all([
      pb.blend({ base64Array: [png, png] }),
      pb.describe({ base64: png }),
      pb.shorten({ prompt: "a long prompt about a small boat" }),
      pb.video({ image: png }),
    ]);
    expect(jobs.map((t) => t.action)).toEqual(["BLEND", "DESCRIBE", "SHORTEN", "VIDEO"]);
    const upscale = await pb.waitForTask((await pb.clickButton(done.id, "U1")).id, {
      intervalMs: 20,
    });
    const zoom = await pb.clickButton(upscale.id, "Custom Zoom");
    expect(zoom.status).toBe("MODAL");
    const modal = await pb.modal(zoom.id, { prompt: "further away --zoom 1.5" });
    expect(modal).toMatchObject({ id: zoom.id, status: "SUBMITTED" });

    const waiting = await pb.clickButton(upscale.id, "Custom Zoom");
    const cancelled = await pb.cancel(waiting.id);
    expect(cancelled).toMatchObject({ id: waiting.id, status: "CANCEL" });
    const again = await thrown(pb.cancel(waiting.id));
    expect(again).toBeInstanceOf(ApiError);
    expect((again as ApiError).code).toBe("invalid_state");
  });
});

describe("webhooks from the client", () => {
  it("reads the delivery log, redelivers, and gets and rotates the signing secret", async () => {
    const hits: string[] = [];
    const receiver: Server = createServer((req, res) => {
      hits.push(String(req.headers["webhook-id"]));
      req.resume();
      req.on("end", () => res.writeHead(204).end());
    });
    await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
    try {
      const pb = client();
      const port = (receiver.address() as AddressInfo).port;
      const task = await pb.imagine({
        prompt: "a boat that calls back",
        webhookUrl: `http://127.0.0.1:${port}/hook`,
        webhookEvents: ["task.succeeded"],
      });
      await pb.waitForTask(task.id, { intervalMs: 20 });
      await stack.dispatchOnce();
      const [delivery] = await pb.deliveries(task.id);
      expectTypeOf(delivery).toEqualTypeOf<Delivery | undefined>();
      expect(delivery).toMatchObject({ type: "task.succeeded", status: "delivered" });
      const again = await pb.retryDelivery(task.id, delivery?.id ?? "");
      expect(again.status).toBe("pending");
      await stack.dispatchOnce();
      expect(hits).toEqual([delivery?.id, delivery?.id]);

      const secret = await pb.webhookSecret();
      const rotated = await pb.rotateWebhookSecret({ gracePeriodSeconds: 60 });
      expect(rotated.secret).not.toBe(secret.secret);
      expect(rotated.previousValidUntil).toEqual(expect.any(String));
      const missing = await thrown(pb.deliveries("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
      expect(missing).toBeInstanceOf(ApiError);

      // an account endpoint gets the next task's event; its delivery is retried by target
      const endpoint = await pb.addWebhookEndpoint({
        url: `http://127.0.0.1:${port}/all`,
        events: ["task.succeeded"],
      });
      expect(endpoint).toMatchObject({
        id: expect.stringMatching(/^ep_/),
        events: ["task.succeeded"],
      });
      expect((await pb.webhookEndpoints()).map((e) => e.id)).toContain(endpoint.id);
      const next = await pb.imagine({ prompt: "a boat for every endpoint" });
      await pb.waitForTask(next.id, { intervalMs: 20 });
      await stack.dispatchOnce();
      const [toEndpoint] = await pb.deliveries(next.id);
      expect(toEndpoint).toMatchObject({ target: endpoint.id, status: "delivered" });
      const retried = await pb.retryDelivery(next.id, toEndpoint?.id ?? "", {
        target: endpoint.id,
      });
      expect(retried).toMatchObject({ target: endpoint.id, status: "pending" });
      await pb.removeWebhookEndpoint(endpoint.id);
      expect((await pb.webhookEndpoints()).map((e) => e.id)).not.toContain(endpoint.id);
      const gone = await thrown(pb.removeWebhookEndpoint(endpoint.id));
      expect(gone).toMatchObject({ status: 404 });
    } finally {
      receiver.close();
      receiver.closeAllConnections();
    }
  });
});

describe("the operator's keys from the client", () => {
  it("createKey, listKeys and revokeKey with adminKey; the new key works as apiKey", async () => {
    const operator = createClient({ baseUrl: stack.url, adminKey: stack.adminKey });
    const created = await operator.createKey({ owner: "client-owner", name: "from the client" });
    expect(created.key).toMatch(/^pb_/);
    const owner = createClient({ baseUrl: stack.url, apiKey: created.key });
    expect((await owner.listTasks()).items).toEqual([]);

    const listed = await operator.listKeys({ owner: "client-owner" });
    expectTypeOf(listed).toEqualTypeOf<ApiKeyInfo[]>();
    expect(listed).toEqual([
      {
        id: created.id,
        owner: "client-owner",
        name: "from the client",
        createdAt: created.createdAt,
        lastUsedAt: expect.any(String),
      },
    ]);
    await expect(operator.revokeKey(created.id)).resolves.toBeUndefined();
    const again = await operator.revokeKey(created.id).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ApiError);
    expect((again as ApiError).status).toBe(404);
  });

  it("an owner's key is not an admin key: 401", async () => {
    const notOperator = createClient({ baseUrl: stack.url, adminKey: OWNERS.alice.key });
    const refused = await notOperator.listKeys().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe("unauthorized");
  });
});

describe("limits and usage from the client", () => {
  it("setLimits, a submit over the limit is quota_exceeded with retryAfterSeconds; usage and ownerUsage agree", async () => {
    const operator = createClient({ baseUrl: stack.url, adminKey: stack.adminKey });
    const created = await operator.createKey({ owner: "client-limited" });
    const owner = createClient({ baseUrl: stack.url, apiKey: created.key });
    const limits = await operator.setLimits("client-limited", { perDay: 1 });
    expectTypeOf(limits).toEqualTypeOf<OwnerLimits>();
    expect(limits).toEqual({ owner: "client-limited", concurrent: null, perDay: 1 });

    await owner.imagine({ prompt: "the day's one boat", mode: "relax" });
    const refused = await owner.imagine({ prompt: "one more" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(429);
    expect((refused as ApiError).code).toBe("quota_exceeded");
    expect((refused as ApiError).retryAfterSeconds).toBeGreaterThan(0);

    const today = new Date().toISOString().slice(0, 10);
    const usage = await owner.usage({ from: today, to: today });
    expectTypeOf(usage).toEqualTypeOf<Usage>();
    expect(usage.totals).toEqual({ jobs: { IMAGINE: 1 }, modes: { relax: 1 }, failed: 0 });
    expect(await operator.ownerUsage("client-limited")).toEqual(await owner.usage());
  });
});

describe("errors are typed exceptions with the contract's code", () => {
  it.each([
    ["a wrong key", { apiKey: "wrong-key" }, 401, "unauthorized"],
    ["no key", { apiKey: undefined }, 401, "unauthorized"],
  ] as const)("%s: %s %s", async (_, options, status, code) => {
    const pb = createClient({ baseUrl: stack.url, ...options });
    const error = await thrown(pb.listTasks());
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status, code });
  });

  it("not_found, validation_failed with details, invalid_state", async () => {
    const pb = client();
    expect(await thrown(pb.getTask("01ARZ3NDEKTSV4RRFFQ69G5FAV"))).toMatchObject({
      status: 404,
      code: "not_found",
    });
    const invalid = (await thrown(pb.imagine({ prompt: "" }))) as ApiError;
    expect(invalid).toMatchObject({ status: 400, code: "validation_failed" });
    expect(invalid.details).toEqual([{ path: "prompt", message: "prompt must not be empty" }]);
    const running = await pb.imagine({ prompt: "not finished yet --sim-drop-hooks" });
    expect(
      await thrown(pb.action(running.id, { customId: "MJ::JOB::upsample::1::x" })),
    ).toMatchObject({ status: 409, code: "invalid_state" });
    expectTypeOf<ApiError["code"]>().toEqualTypeOf<ErrorCode>();
  });

  it("upstream refusals carry the recorded task; a full queue carries Retry-After", async () => {
    const pb = client();
    const refused = (await thrown(pb.imagine({ prompt: "a boat --sim-banned" }))) as ApiError;
    expect(refused).toMatchObject({ status: 422, code: "upstream_rejected" });
    expect(refused.task).toMatchObject({ status: "FAILURE", prompt: "a boat --sim-banned" });
    const busy = (await thrown(
      pb.imagine({ prompt: "a boat --sim-submit=queueFull" }),
    )) as ApiError;
    expect(busy).toMatchObject({ status: 429, code: "upstream_busy" });
    expect(busy.retryAfterSeconds).toBeGreaterThan(0);
  });

  it("a server that is not there is a ConnectionError; one that is not paperboat, UnexpectedResponseError", async () => {
    const port = await freePort();
    const gone = createClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: "k", retries: 1 });
    const error = await thrown(gone.listTasks());
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).reason).toContain("connection refused");

    const html = await serve((_, res) => {
      res.writeHead(502, { "content-type": "text/html" }).end("<h1>Bad Gateway</h1>");
    });
    try {
      const proxy = createClient({ baseUrl: html.url, apiKey: "k" });
      expect(await thrown(proxy.listTasks())).toBeInstanceOf(UnexpectedResponseError);
    } finally {
      await html.close();
    }
  });
});

describe("waiting", () => {
  it("gives up after timeoutMs with the task as last seen, and stops when its signal aborts", async () => {
    const pb = client();
    const stuck = await pb.imagine({ prompt: "never called back --sim-drop-hooks" });
    const late = await thrown(pb.waitForTask(stuck.id, { timeoutMs: 150, intervalMs: 20 }));
    expect(late).toBeInstanceOf(WaitTimeoutError);
    expect((late as WaitTimeoutError).task).toMatchObject({ id: stuck.id, status: "SUBMITTED" });

    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const aborted = await thrown(pb.waitForTask(stuck.id, { signal: stop.signal, intervalMs: 20 }));
    expect((aborted as Error).name).toBe("AbortError");
  });

  it("returns a failed task as an outcome (no exception), with its reason", async () => {
    const pb = client();
    const task = await pb.imagine({ prompt: "a boat that sinks --sim-fail" });
    const done = await pb.waitForTask(task.id, { intervalMs: 20 });
    expect(done.status).toBe("FAILURE");
    expect(done.failReason).toEqual(expect.any(String));
  });
});

describe("Idempotency-Key", () => {
  it("is generated for every submit: two calls are two jobs; a given key makes a retry the same answer", async () => {
    const pb = client();
    const a = await pb.shorten({ prompt: "same words" });
    const b = await pb.shorten({ prompt: "same words" });
    expect(a.id).not.toBe(b.id);
    const key = `client-test-${Date.now()}`;
    const first = await pb.shorten({ prompt: "once" }, { idempotencyKey: key });
    const again = await pb.shorten({ prompt: "once" }, { idempotencyKey: key });
    expect(again.id).toBe(first.id);
  });

  it("lets the client resend a submit whose answer was lost, without a second upstream job", async () => {
    // a proxy that passes the first request on and then drops the connection instead of
    // answering: the job was made, the client never heard; its retry carries the same key
    const seenKeys: string[] = [];
    let dropped = false;
    const lossy = await serve(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      seenKeys.push(String(req.headers["idempotency-key"]));
      const answer = await fetch(`${stack.url}${req.url}`, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        body: Buffer.concat(chunks),
      });
      if (!dropped) {
        dropped = true;
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(await answer.text());
    });
    try {
      const pb = createClient({ baseUrl: lossy.url, apiKey: OWNERS.alice.key });
      const jobsBefore = stack.simulator?.tasks().length ?? 0;
      const task = await pb.imagine({ prompt: "an answer lost on the way" });
      expect(seenKeys).toHaveLength(2);
      expect(seenKeys[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(seenKeys[1]).toBe(seenKeys[0]);
      expect((stack.simulator?.tasks().length ?? 0) - jobsBefore).toBe(1);
      const mine = await client().listTasks({ limit: 5 });
      expect(mine.items.filter((t) => t.prompt === "an answer lost on the way")).toHaveLength(1);
      expect(mine.items[0]?.id).toBe(task.id);
    } finally {
      await lossy.close();
    }
  });
});

async function serve(
  handler: (
    req: import("node:http").IncomingMessage,
    res: import("node:http").ServerResponse,
  ) => void,
) {
  const server: Server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

describe("uploads and image jobs from the client", () => {
  const PNG_1x1 =
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

  it("upload answers a keyless link; an edit using it runs to SUCCESS", async () => {
    const pb = client();
    const upload = await pb.upload(PNG_1x1);
    expectTypeOf(upload.expiresAt).toEqualTypeOf<string>();
    expect((await fetch(upload.url)).status).toBe(200);
    const task = await pb.edit({ image: upload.url, prompt: "the boat in fog" });
    expect(task.action).toBe("EDIT");
    const done = await pb.waitForTask(task.id, { intervalMs: 30 });
    expect(done.status).toBe("SUCCESS");
  });

  it("a refused upload and a refused retexture are typed ApiErrors", async () => {
    const pb = client();
    const notImage = await pb.upload("data:image/png;base64,aGVsbG8gd29ybGQ=").catch((e) => e);
    expect(notImage).toBeInstanceOf(ApiError);
    expect(notImage).toMatchObject({ status: 400, code: "validation_failed" });
    // the default simulator speaks for a new-api gateway, which has no /submit/retexture
    const refused = await pb.retexture({ image: PNG_1x1, prompt: "paper" }).catch((e) => e);
    expect(refused).toMatchObject({ status: 422, code: "upstream_rejected" });
  });
});

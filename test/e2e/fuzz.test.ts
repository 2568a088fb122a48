import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { Hono } from "hono";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStateToken } from "../../functions/core/state-token.ts";
import { api, OWNERS } from "../helpers.ts";
import { serveOverHttp } from "../serve.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * Hostile upstream payloads, generated: every field of the upstream's task (webhook bodies and
 * list-by-condition answers) in every type and range (nulls, floats where integers belong, huge
 * and negative times, nested values, nulls inside arrays). Whatever arrives, the callback never
 * answers 5xx, the task always reads back, another owner still gets 404 for it, and nothing that
 * happens to one owner's task stops another owner's image copies, webhooks or reconciliation.
 *
 * The upstream here is a small HTTP server of the test's own (the simulator only sends what a
 * real host sends; the point is what a broken or hostile host sends). `FUZZ_RUNS` raises the
 * number of generated payloads (bench/ runs it long).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

const payloads = new Map<string, unknown>();
let nextUpstreamId = 1_700_000_000_000_000;
let upstream: Awaited<ReturnType<typeof serveOverHttp>>;
let stack: TestStack;
const callbackSecret = randomBytes(32).toString("base64url");
const alice = () => api(stack, OWNERS.alice.key);
const bob = () => api(stack, OWNERS.bob.key);
const received: unknown[] = [];
let receiver: Awaited<ReturnType<typeof serveOverHttp>>;

function png(): Buffer {
  const image = new PNG({ width: 8, height: 8 });
  image.data.fill(200);
  return PNG.sync.write(image);
}

beforeAll(async () => {
  const image = png();
  const app = new Hono();
  app.post("/mj/submit/:kind", () => {
    nextUpstreamId += 1;
    return Response.json({
      code: 1,
      description: "Submit success",
      result: String(nextUpstreamId),
    });
  });
  app.post("/mj/task/list-by-condition", async (c) => {
    const { ids } = (await c.req.json()) as { ids: string[] };
    return Response.json(ids.flatMap((id) => (payloads.has(id) ? [payloads.get(id)] : [])));
  });
  app.get("/mj/task/:id/fetch", (c) =>
    payloads.has(c.req.param("id"))
      ? Response.json(payloads.get(c.req.param("id")))
      : c.body(null, 204),
  );
  app.get(
    "/img/:name",
    () => new Response(new Uint8Array(image), { headers: { "content-type": "image/png" } }),
  );
  upstream = await serveOverHttp(app.fetch);

  const hooks = new Hono();
  hooks.post("/hook", async (c) => {
    received.push(await c.req.json());
    return c.body(null, 204);
  });
  receiver = await serveOverHttp(hooks.fetch);

  stack = await startTestStack({
    callbackSecret,
    upstream: { baseUrl: upstream.url, apiKey: "fuzz-key" },
  });
});

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
  await receiver?.close();
});

/** Any JSON value, small or deep. */
const anyJson = fc.jsonValue({ maxDepth: 4 });
/** Numbers a careless host sends: floats, huge, negative. */
const oddNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constantFrom(1e20, -1e20, Number.MAX_SAFE_INTEGER, 2.5, -1, 0, 8.64e15 + 1),
);
const oddValue = fc.oneof(oddNumber, fc.string(), fc.constant(null), anyJson);
/**
 * Mostly the field's own type with odd values (what passes a permissive parser and must still
 * never reach the store unfit), sometimes anything at all.
 */
function mostly<T>(typed: fc.Arbitrary<T>) {
  return fc.oneof({ weight: 6, arbitrary: typed }, { weight: 1, arbitrary: oddValue });
}
const text = fc.oneof(
  fc.string(),
  fc.string({ minLength: 3000, maxLength: 6000 }),
  fc.constant(""),
);
const urlish = fc.oneof(
  { weight: 4, arbitrary: fc.webUrl() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.record({ url: fc.oneof(fc.webUrl(), fc.string()) }) },
);
const button = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  {
    weight: 6,
    arbitrary: fc.record(
      {
        customId: mostly(fc.string()),
        label: mostly(fc.string()),
        emoji: mostly(fc.string()),
        style: mostly(oddNumber),
        type: mostly(oddNumber),
      },
      { requiredKeys: ["customId"] },
    ),
  },
);
const status = mostly(
  fc.constantFrom(
    "",
    "NOT_START",
    "SUBMITTED",
    "MODAL",
    "IN_PROGRESS",
    "SUCCESS",
    "FAILURE",
    "CANCEL",
  ),
);
const body = fc.record(
  {
    action: mostly(fc.constantFrom("IMAGINE", "UPSCALE", "VIDEO", "DESCRIBE", "SHORTEN", "BLEND")),
    status,
    progress: mostly(
      fc.oneof(fc.constantFrom("0%", "57%", "100%", "", "abc%", "1e99%"), oddNumber),
    ),
    prompt: mostly(text),
    promptEn: mostly(text),
    description: mostly(text),
    failReason: mostly(text),
    submitTime: mostly(oddNumber),
    startTime: mostly(oddNumber),
    finishTime: mostly(oddNumber),
    imageUrl: mostly(urlish),
    imageUrls: mostly(fc.array(urlish, { maxLength: 120 })),
    videoUrl: mostly(urlish),
    videoUrls: mostly(fc.array(urlish, { maxLength: 8 })),
    buttons: mostly(fc.array(button, { maxLength: 12 })),
    properties: mostly(anyJson),
  },
  { requiredKeys: ["status"] },
);
/** The payloads issue reports named; always tried first. */
const known: [Record<string, unknown>][] = [
  [{ status: "SUCCESS", buttons: [{ customId: "MJ::JOB::upsample::1::x", style: 2.5, type: 2 }] }],
  [{ status: "SUCCESS", finishTime: 1e20 }],
  [{ status: "IN_PROGRESS", progress: "50%", startTime: -1e20 }],
  [{ status: "SUCCESS", imageUrls: ["https://cdn.example/a.png", null], buttons: [null] }],
];

async function aliceTask(): Promise<{ id: string; upstreamTaskId: string }> {
  const created = await alice().imagine({ prompt: "a fuzzed boat" });
  expect(created.status).toBe(202);
  return created.body;
}

async function expectReadable(id: string) {
  const own = await alice().task(id);
  expect(own.status, JSON.stringify(own.body)).toBe(200);
  expect(own.body.id).toBe(id);
  expect(typeof own.body.status).toBe("string");
  expect((await bob().task(id)).status).toBe(404);
}

describe("hostile upstream payloads", () => {
  it("the callback never answers 5xx and every task reads back, for the owner only", async () => {
    await fc.assert(
      fc.asyncProperty(body, async (generated) => {
        const task = await aliceTask();
        const response = await fetch(`${stack.url}/hooks/midjourney`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            ...generated,
            id: task.upstreamTaskId,
            state: createStateToken(callbackSecret, task.id),
          }),
        });
        expect(response.status).toBeLessThan(500);
        await expectReadable(task.id);
      }),
      { numRuns: RUNS, examples: known },
    );
    expect((await alice().list("?limit=100")).status).toBe(200);
  });

  it("the reconciler applies the good answers of a page whose other answers are poisoned", async () => {
    // a full page of 50 and more: the page's other answers must not be lost with the bad ones
    const generated = fc.sample(body, Math.max(60, Math.floor(RUNS / 10)));
    const poisoned: string[] = [];
    for (const sample of generated) {
      const task = await aliceTask();
      payloads.set(task.upstreamTaskId, { ...(sample as object), id: task.upstreamTaskId });
      poisoned.push(task.id);
    }
    const good = await aliceTask();
    payloads.set(good.upstreamTaskId, {
      id: good.upstreamTaskId,
      action: "IMAGINE",
      status: "SUCCESS",
      progress: "100%",
      imageUrl: `${upstream.url}/img/grid.png`,
      finishTime: Date.now(),
    });
    await stack.reconcileOnce();
    const after = await alice().task(good.id);
    expect(after.body.status).toBe("SUCCESS");
    for (const id of poisoned) await expectReadable(id);
    expect((await alice().list("?limit=100")).status).toBe(200);
  });

  it("another owner's copies and webhooks still run after all of it", async () => {
    const created = await bob().imagine({
      prompt: "a calm boat",
      webhookUrl: `${receiver.url}/hook`,
    });
    expect(created.status).toBe(202);
    const hook = await fetch(`${stack.url}/hooks/midjourney`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        id: created.body.upstreamTaskId,
        action: "IMAGINE",
        status: "SUCCESS",
        progress: "100%",
        imageUrl: `${upstream.url}/img/bob.png`,
        state: createStateToken(callbackSecret, created.body.id),
      }),
    });
    expect(hook.status).toBe(200);
    await stack.copyImagesOnce();
    await stack.dispatchOnce();
    const task = await bob().task(created.body.id);
    expect(task.body.status).toBe("SUCCESS");
    expect(task.body.imagesStatus).toBe("done");
    expect(received.some((event: any) => event?.data?.id === created.body.id)).toBe(true);
  });
});

import fc from "fast-check";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BODY_LIMITS } from "../../functions/contract/limits.ts";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/** Bad input, owner isolation, upstream answers and Idempotency-Key on the workflow routes. */

let stack: TestStack;
let alice: ReturnType<typeof api>;
let bob: ReturnType<typeof api>;

const IMAGE = `data:image/png;base64,${PNG.sync.write(new PNG({ width: 4, height: 4 })).toString("base64")}`;
const NOT_AN_IMAGE = "data:image/png;base64,aGVsbG8gd29ybGQ=";
const UNKNOWN_ID = "01JDB3K6Z5Q8N2X4V7W9Y1A3C5";

type Task = {
  id: string;
  action: string;
  status: string;
  upstreamTaskId: string | null;
  buttons: { customId: string; label: string; emoji: string }[];
};

let grid: Task;
let upscale: Task;
let unfinished: Task;
let failed: Task;

async function finished(id: string): Promise<Task> {
  const read = await eventually(
    () => alice.task(id),
    (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
  );
  return read.body;
}

function customId(task: Task, label: string): string {
  const found = task.buttons.find((b) => b.label === label || b.emoji === label);
  if (!found) throw new Error(`no button ${label}`);
  return found.customId;
}

const actions = (id: string, body: unknown, headers?: Record<string, string>) =>
  alice.call("POST", `/v1/tasks/${id}/actions`, body, headers);
const modal = (id: string, body: unknown, headers?: Record<string, string>) =>
  alice.call("POST", `/v1/tasks/${id}/modal`, body, headers);

/** A new child of the upscale waiting in MODAL (Custom Zoom or Vary (Region)). */
async function waitingIn(label: "Custom Zoom" | "Vary (Region)"): Promise<Task> {
  const answer = await actions(upscale.id, { customId: customId(upscale, label) });
  expect(answer.body.status).toBe("MODAL");
  return answer.body;
}

const submits = () => stack.simulator?.stats().submits ?? 0;
const count = async () => (await alice.list("?limit=100")).body.items.length;

beforeAll(async () => {
  stack = await startTestStack({ upstreamTimeoutMs: 400 });
  alice = api(stack, OWNERS.alice.key);
  bob = api(stack, OWNERS.bob.key);
  grid = await finished((await alice.imagine({ prompt: "a paper boat" })).body.id);
  upscale = await finished((await actions(grid.id, { customId: customId(grid, "U1") })).body.id);
  unfinished = (await alice.imagine({ prompt: "never heard of again --sim-drop-hooks" })).body;
  failed = (await alice.imagine({ prompt: "refused --sim-submit=refused" })).body.task;
  expect([grid.status, upscale.status, unfinished.status, failed.status]).toEqual([
    "SUCCESS",
    "SUCCESS",
    "SUBMITTED",
    "FAILURE",
  ]);
});
afterAll(() => stack.stop());

describe("unknown and foreign task ids are 404 on every workflow route", () => {
  const routes = [
    ["POST", "actions", { customId: "MJ::JOB::upsample::1::x" }],
    ["POST", "modal", { prompt: "a boat --zoom 1.5" }],
    ["GET", "seed", undefined],
  ] as const;

  it.each(routes)("%s /v1/tasks/{unknown}/%s", async (method, route, body) => {
    for (const id of [UNKNOWN_ID, "nope", "x".repeat(300)]) {
      const answer = await alice.call(method, `/v1/tasks/${id}/${route}`, body);
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe("not_found");
    }
  });

  it.each(routes)("%s /v1/tasks/{another owner's}/%s", async (method, route) => {
    const waiting = await waitingIn("Custom Zoom");
    const before = submits();
    const bodies = {
      actions: { customId: customId(grid, "U2") },
      modal: { prompt: "a boat --zoom 1.5" },
      seed: undefined,
    };
    for (const id of [grid.id, upscale.id, waiting.id]) {
      const answer = await bob.call(method, `/v1/tasks/${id}/${route}`, bodies[route]);
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe("not_found");
    }
    expect(submits()).toBe(before);
    expect((await alice.task(waiting.id)).body.status).toBe("MODAL");
  });

  it("lists none of another owner's children, and reads none of its tasks", async () => {
    expect((await bob.list(`?parentId=${grid.id}`)).body).toEqual({ items: [], nextCursor: null });
    expect((await bob.list("?action=UPSCALE")).body.items).toEqual([]);
    expect((await bob.task(upscale.id)).status).toBe(404);
    expect((await alice.list(`?parentId=${grid.id}`)).body.items.length).toBeGreaterThan(0);
  });
});

describe("listing filters", () => {
  it.each([
    ["an unknown action", "?action=DANCE"],
    ["a parentId that is not a task id", "?parentId=nope"],
    ["a lowercase action", "?action=upscale"],
  ])("rejects %s with 400", async (_name, query) => {
    const answer = await alice.list(query);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
  });

  it("lists nothing under an unknown parent", async () => {
    expect((await alice.list(`?parentId=${UNKNOWN_ID}`)).body).toEqual({
      items: [],
      nextCursor: null,
    });
  });
});

describe("409 invalid_state", () => {
  it.each([
    ["a customId the task does not have", () => grid, () => "MJ::JOB::upsample::1::not-this-hash"],
    ["another task's button", () => grid, () => customId(upscale, "Vary (Subtle)")],
    ["a task still running", () => unfinished, () => "MJ::JOB::upsample::1::x"],
    ["a failed task", () => failed, () => "MJ::JOB::upsample::1::x"],
  ])("an action with %s, and nothing starts", async (_name, task, id) => {
    const before = [submits(), await count()];
    const answer = await actions(task().id, { customId: id() });
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe("invalid_state");
    expect([submits(), await count()]).toEqual(before);
  });

  it("an action on a task waiting in MODAL", async () => {
    const waiting = await waitingIn("Custom Zoom");
    const answer = await actions(waiting.id, { customId: "MJ::JOB::upsample::1::x" });
    expect(answer.status).toBe(409);
  });

  it.each([
    ["finished", () => grid],
    ["still running", () => unfinished],
    ["failed", () => failed],
  ])("a modal on a task that is %s, not MODAL", async (_name, task) => {
    const before = submits();
    const answer = await modal(task().id, { prompt: "a boat" });
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe("invalid_state");
    expect(submits()).toBe(before);
  });

  it("a second modal once the first went through", async () => {
    const waiting = await waitingIn("Custom Zoom");
    expect((await modal(waiting.id, { prompt: "a boat --zoom 2" })).status).toBe(202);
    const again = await modal(waiting.id, { prompt: "a boat --zoom 1.2" });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("invalid_state");
  });

  it("the seed of a task that has not succeeded", async () => {
    const waiting = await waitingIn("Custom Zoom");
    for (const task of [waiting, unfinished, failed]) {
      const answer = await alice.call("GET", `/v1/tasks/${task.id}/seed`);
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe("invalid_state");
    }
  });
});

describe("400 for bodies that do not fit, and nothing is recorded or sent", () => {
  it.each<[string, string, () => string, unknown]>([
    ["actions: no customId", "actions", () => `/v1/tasks/${grid.id}/actions`, {}],
    [
      "actions: an empty customId",
      "actions",
      () => `/v1/tasks/${grid.id}/actions`,
      { customId: "" },
    ],
    [
      "actions: an unknown field",
      "actions",
      () => `/v1/tasks/${grid.id}/actions`,
      { customId: "MJ::JOB::upsample::1::x", index: 1 },
    ],
    [
      "actions: enableRemix not a boolean",
      "actions",
      () => `/v1/tasks/${grid.id}/actions`,
      { customId: "MJ::JOB::variation::1::x", enableRemix: "yes" },
    ],
    ["blend: one image", "blend", () => "/v1/blend", { base64Array: [IMAGE] }],
    ["blend: six images", "blend", () => "/v1/blend", { base64Array: Array(6).fill(IMAGE) }],
    ["blend: no images", "blend", () => "/v1/blend", {}],
    [
      "blend: a data URI that is not an image",
      "blend",
      () => "/v1/blend",
      { base64Array: [IMAGE, NOT_AN_IMAGE] },
    ],
    [
      "blend: a URL instead of a data URI",
      "blend",
      () => "/v1/blend",
      { base64Array: [IMAGE, "https://example.org/a.png"] },
    ],
    [
      "blend: unknown dimensions",
      "blend",
      () => "/v1/blend",
      { base64Array: [IMAGE, IMAGE], dimensions: "WIDE" },
    ],
    ["describe: no image", "describe", () => "/v1/describe", {}],
    [
      "describe: two images",
      "describe",
      () => "/v1/describe",
      { base64: IMAGE, link: "https://example.org/a.png" },
    ],
    [
      "describe: a data URI that is not an image",
      "describe",
      () => "/v1/describe",
      { base64: NOT_AN_IMAGE },
    ],
    ["describe: a link that is not http", "describe", () => "/v1/describe", { link: "ftp://x/a" }],
    ["describe: an array of images", "describe", () => "/v1/describe", { base64: [IMAGE] }],
    ["shorten: no prompt", "shorten", () => "/v1/shorten", {}],
    ["shorten: a blank prompt", "shorten", () => "/v1/shorten", { prompt: "  " }],
    ["video: no image", "video", () => "/v1/video", { prompt: "drift" }],
    ["video: a data URI that is not an image", "video", () => "/v1/video", { image: NOT_AN_IMAGE }],
    ["video: an unknown motion", "video", () => "/v1/video", { image: IMAGE, motion: "medium" }],
  ])("%s", async (_name, _route, path, body) => {
    const before = [submits(), await count()];
    const answer = await alice.call("POST", path(), body);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({
      code: "validation_failed",
      details: [{ path: expect.any(String), message: expect.any(String) }],
    });
    expect([submits(), await count()]).toEqual(before);
  });

  it.each<[string, "Custom Zoom" | "Vary (Region)", unknown, string]>([
    ["custom zoom without a prompt", "Custom Zoom", {}, "prompt"],
    ["custom zoom without --zoom", "Custom Zoom", { prompt: "a boat" }, "prompt"],
    ["custom zoom beyond 2", "Custom Zoom", { prompt: "a boat --zoom 3" }, "prompt"],
    ["custom zoom below 1", "Custom Zoom", { prompt: "a boat --zoom 0.5" }, "prompt"],
    [
      "a mask on a custom zoom",
      "Custom Zoom",
      { prompt: "a boat --zoom 1.5", maskBase64: IMAGE },
      "maskBase64",
    ],
    ["vary region without a mask", "Vary (Region)", { prompt: "a sail" }, "maskBase64"],
    ["a mask that is not an image", "Vary (Region)", { maskBase64: NOT_AN_IMAGE }, "maskBase64"],
    ["an unknown field", "Vary (Region)", { maskBase64: IMAGE, strength: 2 }, "(body)"],
  ])("modal: %s", async (_name, label, body, field) => {
    const waiting = await waitingIn(label);
    const before = submits();
    const answer = await modal(waiting.id, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
    expect(answer.body.error.details[0].path).toBe(field);
    expect(submits()).toBe(before);
    // still waiting, and still takes a good modal
    expect((await alice.task(waiting.id)).body.status).toBe("MODAL");
    const good = label === "Custom Zoom" ? { prompt: "a boat --zoom 1.5" } : { maskBase64: IMAGE };
    expect((await modal(waiting.id, good)).status).toBe(202);
  });

  it("property: however odd its JSON body, a workflow route answers 202 or a contract 4xx, never a 5xx", async () => {
    const waiting = await waitingIn("Custom Zoom");
    const paths = [
      `/v1/tasks/${grid.id}/actions`,
      `/v1/tasks/${waiting.id}/modal`,
      "/v1/blend",
      "/v1/describe",
      "/v1/shorten",
      "/v1/video",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(
          fc.json(),
          fc.record(
            {
              customId: fc.oneof(fc.string(), fc.jsonValue()),
              prompt: fc.oneof(fc.string(), fc.jsonValue()),
              maskBase64: fc.oneof(fc.string(), fc.constant(IMAGE)),
              base64Array: fc.array(fc.oneof(fc.string(), fc.constant(IMAGE)), { maxLength: 6 }),
              base64: fc.oneof(fc.string(), fc.constant(IMAGE)),
              image: fc.oneof(fc.string(), fc.constant(IMAGE)),
              dimensions: fc.string(),
              motion: fc.constantFrom("low", "high", "x"),
            },
            { requiredKeys: [] },
          ),
        ),
        async (path, body) => {
          const answer = await alice.call(
            "POST",
            path,
            typeof body === "string" ? body : JSON.stringify(body),
          );
          return (
            answer.status === 202 ||
            (answer.status >= 400 &&
              answer.status < 500 &&
              typeof answer.body?.error?.code === "string")
          );
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe("the upstream's answers map as for imagine", () => {
  it.each([
    ["refused (code 4)", 422, "--sim-submit=refused", "upstream_rejected"],
    ["banned (code 24)", 422, "--sim-banned", "upstream_rejected"],
    ["queue full (HTTP 429)", 429, "--sim-submit=queueFull", "upstream_busy"],
    ["timeout", 502, "--sim-submit=timeout", "upstream_unavailable"],
    ["garbage", 502, "--sim-submit=garbage", "upstream_unavailable"],
  ])("shorten: %s → %i, the task recorded as FAILURE", async (_name, status, directive, code) => {
    const answer = await alice.call("POST", "/v1/shorten", { prompt: `a boat ${directive}` });
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.task).toMatchObject({ action: "SHORTEN", status: "FAILURE" });
    if (status === 429) expect(Number(answer.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await alice.task(answer.body.task.id)).body.status).toBe("FAILURE");
  });

  it("an action the upstream cannot queue is a FAILURE child, still linked to its parent", async () => {
    stack.simulator?.setFaults({ submitFailure: 1, submitFailureKinds: ["queueFull"] });
    try {
      const answer = await actions(grid.id, { customId: customId(grid, "U4") });
      expect(answer.status).toBe(429);
      expect(answer.body.task).toMatchObject({
        action: "UPSCALE",
        status: "FAILURE",
        parentId: grid.id,
      });
      expect((await alice.task(grid.id)).body.children[0]).toBe(answer.body.task.id);
      const blend = await alice.call("POST", "/v1/blend", { base64Array: [IMAGE, IMAGE] });
      expect(blend.status).toBe(429);
      expect(blend.body.task).toMatchObject({ action: "BLEND", status: "FAILURE" });
    } finally {
      stack.simulator?.setFaults({ submitFailure: 0 });
    }
  });

  it("a refused modal fails the task (422)", async () => {
    const waiting = await waitingIn("Custom Zoom");
    const answer = await modal(waiting.id, { prompt: "a boat --zoom 1.5 --sim-banned" });
    expect(answer.status).toBe(422);
    expect(answer.body.task).toMatchObject({ id: waiting.id, status: "FAILURE" });
    expect(answer.body.task.failReason).toEqual(expect.any(String));
  });

  it("a modal whose answer is lost, and whose job never left MODAL, fails the task (502)", async () => {
    const waiting = await waitingIn("Custom Zoom");
    const answer = await modal(waiting.id, { prompt: "a boat --zoom 1.5 --sim-submit=timeout" });
    expect(answer.status).toBe(502);
    expect(answer.body.task).toMatchObject({ id: waiting.id, status: "FAILURE" });
  });
});

describe("Idempotency-Key on the workflow routes", () => {
  let n = 0;
  const key = () => `wf-${Date.now()}-${n++}`;
  const jobsFor = (taskId: string) =>
    (stack.simulator?.tasks() ?? []).filter((t) => t.state?.includes(`.${taskId}.`)).length;

  it("an action retried with its key answers the same child, with one upstream job", async () => {
    const k = key();
    const body = { customId: customId(grid, "V2") };
    const first = await actions(grid.id, body, { "idempotency-key": k });
    const again = await actions(grid.id, body, { "idempotency-key": k });
    expect(first.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(jobsFor(first.body.id)).toBe(1);
    const other = await actions(
      grid.id,
      { customId: customId(grid, "V3") },
      { "idempotency-key": k },
    );
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_conflict");
  });

  it("a modal retried with its key replays its answer and reaches the upstream once", async () => {
    const waiting = await waitingIn("Custom Zoom");
    const k = key();
    const before = submits();
    const first = await modal(
      waiting.id,
      { prompt: "a boat --zoom 1.5" },
      { "idempotency-key": k },
    );
    const again = await modal(
      waiting.id,
      { prompt: "a boat --zoom 1.5" },
      { "idempotency-key": k },
    );
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(submits() - before).toBe(1);
    const other = await modal(waiting.id, { prompt: "a boat --zoom 2" }, { "idempotency-key": k });
    expect(other.body.error.code).toBe("idempotency_conflict");
    // a new key on a task no longer in MODAL
    const fresh = await modal(
      waiting.id,
      { prompt: "a boat --zoom 2" },
      { "idempotency-key": key() },
    );
    expect(fresh.status).toBe(409);
    expect(fresh.body.error.code).toBe("invalid_state");
  });

  it.each([
    ["no key", () => ({})],
    ["a key each", () => ({ "idempotency-key": key() })],
  ])(
    "concurrent modals on one task (%s): one reaches the upstream, the others are 409",
    async (_name, headers) => {
      const waiting = await waitingIn("Custom Zoom");
      const before = submits();
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          modal(waiting.id, { prompt: `a boat --zoom 1.${i + 1}` }, headers()),
        ),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([202, 409, 409, 409, 409, 409]);
      for (const a of answers.filter((x) => x.status === 409)) {
        expect(a.body.error.code).toBe("invalid_state");
      }
      expect(submits() - before).toBe(1);
    },
  );

  it.each([
    ["/v1/blend", { base64Array: [IMAGE, IMAGE], dimensions: "PORTRAIT" }],
    ["/v1/describe", { base64: IMAGE }],
    ["/v1/shorten", { prompt: "a small paper boat" }],
    ["/v1/video", { image: IMAGE, motion: "low" }],
  ])("%s replays its first answer without a second job", async (path, body) => {
    const k = key();
    const first = await alice.call("POST", path, body, { "idempotency-key": k });
    const again = await alice.call("POST", path, body, { "idempotency-key": k });
    expect(first.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(jobsFor(first.body.id)).toBe(1);
  });
});

// last: the server closes the connection after a 413, which a pooled client may reuse
describe("413 for bodies over the route's limit", () => {
  const big = (bytes: number) => "A".repeat(bytes);
  it.each([
    [
      "actions",
      () => `/v1/tasks/${grid.id}/actions`,
      BODY_LIMITS["POST /v1/tasks/{id}/actions"],
      "customId",
    ],
    [
      "modal",
      () => `/v1/tasks/${upscale.id}/modal`,
      BODY_LIMITS["POST /v1/tasks/{id}/modal"],
      "maskBase64",
    ],
    ["blend", () => "/v1/blend", BODY_LIMITS["POST /v1/blend"], "base64Array"],
    ["describe", () => "/v1/describe", BODY_LIMITS["POST /v1/describe"], "base64"],
    ["shorten", () => "/v1/shorten", BODY_LIMITS["POST /v1/shorten"], "prompt"],
    ["video", () => "/v1/video", BODY_LIMITS["POST /v1/video"], "image"],
    ["edits", () => "/v1/edits", BODY_LIMITS["POST /v1/edits"], "image"],
    ["retexture", () => "/v1/retexture", BODY_LIMITS["POST /v1/retexture"], "image"],
  ])("%s", async (_name, path, limit, field) => {
    const before = [submits(), await count()];
    const value =
      field === "base64Array"
        ? [IMAGE, `data:image/png;base64,iVBORw0K${big(limit)}`]
        : field === "customId" || field === "prompt"
          ? big(limit)
          : `data:image/png;base64,iVBORw0K${big(limit)}`;
    const answer = await alice.call("POST", path(), { [field]: value });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe("payload_too_large");
    expect([submits(), await count()]).toEqual(before);
  });

  it("keeps every route within Lambda's 6 MB request payload", () => {
    for (const limit of Object.values(BODY_LIMITS)) {
      expect(limit).toBeLessThanOrEqual(5 * 1024 * 1024);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * `POST /v1/edits` and `POST /v1/retexture` against each host. The request shapes follow
 * trueai-org/midjourney-proxy, src/Midjourney.API/Controllers/SubmitController.cs (`edits`,
 * `retexture`) with src/Midjourney.Base/Dto/SubmitEditsDTO.cs (prompt, image as URL or data URI),
 * and the routes a new-api gateway forwards follow QuantumNous/new-api, router/relay-router.go
 * (`/submit/edits`, no `/submit/retexture`).
 */
const PNG_1x1 =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

function setup(profile: "cometapi" | "trueai" | "novicezk") {
  const ctx = {} as { stack: TestStack; alice: ReturnType<typeof api> };
  beforeAll(async () => {
    ctx.stack = await startTestStack({ simulator: { profile } });
    ctx.alice = api(ctx.stack, OWNERS.alice.key);
  });
  afterAll(() => ctx.stack.stop());
  return ctx;
}

async function finished(alice: ReturnType<typeof api>, id: string) {
  const read = await eventually(
    () => alice.task(id),
    (r) => ["SUCCESS", "FAILURE", "CANCEL"].includes(r.body?.status),
  );
  return read.body;
}

describe("on trueai", () => {
  const ctx = setup("trueai");

  it.each([
    ["/v1/edits", "EDIT", "/edit", { mask: PNG_1x1 }],
    ["/v1/retexture", "RETEXTURE", "/retexture", {}],
  ] as const)(
    "%s runs a %s job whose grid has buttons, and a U1 on it runs",
    async (path, action, command, extra) => {
      const { alice, stack } = ctx;
      const answer = await alice.call("POST", path, {
        image: PNG_1x1,
        prompt: "a paper boat made of newspaper",
        metadata: { n: 1 },
        ...extra,
      });
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ action, status: "SUBMITTED", metadata: { n: 1 } });
      const grid = await finished(alice, answer.body.id);
      expect(grid).toMatchObject({ status: "SUCCESS", action, imageUrl: expect.any(String) });
      const job = stack.simulator?.tasks().find((t) => t.id === grid.upstreamTaskId);
      expect(job?.description).toBe(`${command} a paper boat made of newspaper`);
      const u1 = grid.buttons.find((b: { label: string }) => b.label === "U1");
      const child = await alice.call("POST", `/v1/tasks/${grid.id}/actions`, {
        customId: u1.customId,
      });
      expect(child.status).toBe(202);
      expect(await finished(alice, child.body.id)).toMatchObject({
        status: "SUCCESS",
        action: "UPSCALE",
        parentId: grid.id,
      });
    },
  );

  it("takes an https URL as the image", async () => {
    const answer = await ctx.alice.call("POST", "/v1/edits", {
      image: "https://example.org/boat.png",
      prompt: "at night",
    });
    expect(answer.status).toBe(202);
  });

  it("an Idempotency-Key replays the same task instead of starting a second job", async () => {
    const { alice, stack } = ctx;
    const body = { image: PNG_1x1, prompt: "replayed" };
    const headers = { "idempotency-key": "retexture-once" };
    const first = await alice.call("POST", "/v1/retexture", body, headers);
    const submits = stack.simulator?.stats().submits;
    const again = await alice.call("POST", "/v1/retexture", body, headers);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(stack.simulator?.stats().submits).toBe(submits);
  });

  it.each([
    ["no image", { prompt: "p" }],
    ["no prompt", { image: PNG_1x1 }],
    ["an image that is neither a data URI nor a URL", { image: "boat.png", prompt: "p" }],
    [
      "a mask that is not an image",
      { image: PNG_1x1, prompt: "p", mask: "data:image/png;base64,aGVsbG8=" },
    ],
    ["an unknown field", { image: PNG_1x1, prompt: "p", strength: 2 }],
  ])("edits with %s is 400, recording nothing", async (_name, body) => {
    const before = (await ctx.alice.list("?limit=100")).body.items.length;
    const answer = await ctx.alice.call("POST", "/v1/edits", body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
    expect((await ctx.alice.list("?limit=100")).body.items.length).toBe(before);
  });
});

describe("on cometapi (a new-api gateway)", () => {
  const ctx = setup("cometapi");

  it("edits run", async () => {
    const answer = await ctx.alice.call("POST", "/v1/edits", { image: PNG_1x1, prompt: "a lake" });
    expect(answer.status).toBe(202);
    expect(await finished(ctx.alice, answer.body.id)).toMatchObject({
      status: "SUCCESS",
      action: "EDIT",
    });
  });

  it("retexture, a route the gateway lacks, is 422 upstream_rejected naming the route", async () => {
    const answer = await ctx.alice.call("POST", "/v1/retexture", {
      image: PNG_1x1,
      prompt: "a lake",
    });
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe("upstream_rejected");
    expect(answer.body.error.message).toContain("/submit/retexture");
  });
});

describe("on novicezk", () => {
  const ctx = setup("novicezk");

  it.each([
    ["/v1/edits", "/submit/edits"],
    ["/v1/retexture", "/submit/retexture"],
  ])("%s is 422 upstream_unsupported, sending and recording nothing", async (path, route) => {
    const before = (await ctx.alice.list("?limit=100")).body.items.length;
    const submits = ctx.stack.simulator?.stats().submits;
    const answer = await ctx.alice.call("POST", path, { image: PNG_1x1, prompt: "a lake" });
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe("upstream_unsupported");
    expect(answer.body.error.message).toContain(route);
    expect((await ctx.alice.list("?limit=100")).body.items.length).toBe(before);
    expect(ctx.stack.simulator?.stats().submits).toBe(submits);
  });
});

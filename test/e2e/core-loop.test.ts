import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

let stack: TestStack;
let alice: ReturnType<typeof api>;

beforeAll(async () => {
  stack = await startTestStack();
  alice = api(stack, OWNERS.alice.key);
});
afterAll(() => stack.stop());

const untilFinished = (id: string) =>
  eventually(
    () => alice.task(id),
    (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
  );

describe("the core loop: submit → webhooks → read", () => {
  it("takes a prompt to SUCCESS with a real image and the nine grid buttons, through webhooks alone", async () => {
    const submitted = await alice.imagine({
      prompt: "a paper boat floating on calm water at sunrise --v 6.1",
      metadata: { job: 42 },
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({
      owner: "alice",
      action: "IMAGINE",
      status: "SUBMITTED",
      prompt: "a paper boat floating on calm water at sunrise --v 6.1",
      upstreamTaskId: expect.stringMatching(/^\d{16}$/),
      parentId: null,
      metadata: { job: 42 },
    });
    expect(JSON.stringify(submitted.body)).not.toMatch(/pb1\./); // the state token is never shown

    const done = await untilFinished(submitted.body.id);
    expect(done.body).toMatchObject({ status: "SUCCESS", progress: 100, failReason: null });
    expect(done.body.finishedAt).toEqual(expect.any(String));
    expect(
      done.body.buttons.map((b: { label: string; emoji: string }) => b.label || b.emoji),
    ).toEqual(["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]);
    const image = await fetch(done.body.imageUrl);
    expect(image.headers.get("content-type")).toBe("image/png");
    const png = PNG.sync.read(Buffer.from(await image.arrayBuffer()));
    expect(png.width).toBeGreaterThan(0);
    // the simulator's truth agrees, and exactly one upstream job was created
    const truth = stack.simulator?.tasks().find((t) => t.id === done.body.upstreamTaskId);
    expect(truth?.status).toBe("SUCCESS");
    expect(stack.simulator?.stats().webhooksSent).toBeGreaterThan(3);
  });

  it("reaches SUCCESS through the reconciler when every webhook is dropped", async () => {
    const submitted = await alice.imagine({ prompt: "a lost lighthouse --sim-drop-hooks" });
    expect(submitted.status).toBe(202);
    await stack.simulator?.idle();
    const before = await alice.task(submitted.body.id);
    expect(before.body.status).toBe("SUBMITTED"); // no webhook ever came
    const report = await stack.reconcileOnce();
    expect(report.applied).toBeGreaterThanOrEqual(1);
    const after = await alice.task(submitted.body.id);
    expect(after.body).toMatchObject({ status: "SUCCESS", progress: 100 });
    expect(after.body.buttons).toHaveLength(9);
  });

  it("records an upstream FAILURE with its reason", async () => {
    const submitted = await alice.imagine({ prompt: "a storm --sim-fail" });
    const done = await untilFinished(submitted.body.id);
    expect(done.body.status).toBe("FAILURE");
    expect(done.body.failReason).toEqual(expect.any(String));
    expect(done.body.buttons).toEqual([]);
  });

  it("lists the owner's tasks newest first and never another owner's", async () => {
    const bob = api(stack, OWNERS.bob.key);
    const mine = await bob.imagine({ prompt: "bob's boat" });
    const list = await bob.list();
    expect(list.body.items.map((t: { id: string }) => t.id)).toEqual([mine.body.id]);
    expect((await bob.task((await alice.list()).body.items[0].id)).status).toBe(404);
  });
});

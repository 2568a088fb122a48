import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CancelBehaviour } from "../../local/simulator/index.ts";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * `POST /v1/tasks/{id}/cancel` end to end: the local stack, the simulator over HTTP answering the
 * cancel route as each host does.
 * - trueai: `POST /mj/task/{id}/cancel` (trueai-org/midjourney-proxy,
 *   src/Midjourney.API/Controllers/TaskController.cs, `Cancel`): an unfinished job fails with
 *   "取消任务", the answer is an empty 200.
 * - new-api (CometAPI): no such route (QuantumNous/new-api, router/relay-router.go,
 *   `registerMjRouterGroup`); an unknown path gets the web page (router/web-router.go, NoRoute).
 * - novicezk: no such route (novicezk/midjourney-proxy, controller/TaskController.java): 404.
 * A slow simulator (STEP_MS per step) keeps a task running while the test cancels it.
 */

const STEP_MS = 400;

const stacks = new Map<CancelBehaviour, TestStack>();
let receiver: { url: string; bodies: Map<string, string[]>; server: Server };

beforeAll(async () => {
  const bodies = new Map<string, string[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "";
      bodies.set(path, [...(bodies.get(path) ?? []), Buffer.concat(chunks).toString("utf8")]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  receiver = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, server };
  for (const cancel of ["trueai", "new-api", "novicezk"] as const) {
    stacks.set(cancel, await startTestStack({ simulator: { stepMs: STEP_MS, cancel } }));
  }
});
afterAll(async () => {
  for (const stack of stacks.values()) await stack.stop();
  await new Promise<void>((ok) => {
    receiver?.server.close(() => ok());
    receiver?.server.closeAllConnections();
  });
});

const on = (cancel: CancelBehaviour) => {
  const stack = stacks.get(cancel) as TestStack;
  const alice = api(stack, OWNERS.alice.key);
  const truth = (upstreamTaskId: string) =>
    stack.simulator?.tasks().find((t) => t.id === upstreamTaskId);
  const finished = (id: string) =>
    eventually(
      () => alice.task(id),
      (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
    );
  const cancelTask = (id: string, key = OWNERS.alice.key) =>
    api(stack, key).call("POST", `/v1/tasks/${id}/cancel`);
  return { stack, alice, truth, finished, cancelTask };
};

describe("cancel on trueai (it has a cancel route)", () => {
  it("cancels a running task here and upstream; the upstream's later FAILURE webhook changes nothing", async () => {
    const { stack, alice, truth, cancelTask } = on("trueai");
    const submitted = await alice.imagine({
      prompt: "a boat that will not sail",
      webhookUrl: `${receiver.url}/cancelled`,
    });
    expect(submitted.body.status).toBe("SUBMITTED");
    const before = stack.simulator?.stats().webhooksSent ?? 0;

    const cancelled = await cancelTask(submitted.body.id);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({
      id: submitted.body.id,
      status: "CANCEL",
      progress: 100,
      imageUrl: null,
      failReason: expect.stringMatching(/cancelled by its owner; the upstream was asked to stop/),
      finishedAt: expect.any(String),
    });
    // the simulator saw the cancel: its job ended as trueai ends a cancelled one
    expect(truth(submitted.body.upstreamTaskId)).toMatchObject({
      status: "FAILURE",
      failReason: "取消任务",
    });
    await stack.simulator?.idle();
    // trueai's FAILURE webhook came, and the forward-only write ignored it
    expect(stack.simulator?.stats().webhooksSent).toBeGreaterThan(before);
    const read = await alice.task(submitted.body.id);
    expect(read.body).toMatchObject({ status: "CANCEL", failReason: cancelled.body.failReason });

    // one task.failed event, carrying the CANCEL
    await stack.dispatchOnce();
    const events = (receiver.bodies.get("/cancelled") ?? []).map((b) => JSON.parse(b));
    expect(events).toEqual([
      expect.objectContaining({
        type: "task.failed",
        data: expect.objectContaining({ id: submitted.body.id, status: "CANCEL" }),
      }),
    ]);
  });

  it("answers 409 invalid_state for a finished task, and 404 for another owner's", async () => {
    const { alice, finished, cancelTask } = on("trueai");
    const done = await finished((await alice.imagine({ prompt: "a boat at anchor" })).body.id);
    expect(done.body.status).toBe("SUCCESS");
    const refused = await cancelTask(done.body.id);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("invalid_state");
    expect((await alice.task(done.body.id)).body.status).toBe("SUCCESS");

    // its webhooks are lost (and no reconciler runs here): it stays unfinished for the test
    const running = await alice.imagine({ prompt: "alice's boat --sim-drop-hooks" });
    const bob = await cancelTask(running.body.id, OWNERS.bob.key);
    expect(bob.status).toBe(404);
    expect(bob.body.error.code).toBe("not_found");
    // a cancelled task is finished too: a second cancel is 409
    expect((await cancelTask(running.body.id)).status).toBe(202);
    expect((await cancelTask(running.body.id)).status).toBe(409);
    expect((await cancelTask("01JDB3K6Z5Q8N2X4V7W9Y1A3C5")).status).toBe(404);
  });

  it("cancels a task waiting in MODAL here, without asking the upstream", async () => {
    const { alice, truth, finished, cancelTask } = on("trueai");
    const root = await finished((await alice.imagine({ prompt: "a boat to zoom" })).body.id);
    const click = (task: typeof root, label: string) =>
      alice.call("POST", `/v1/tasks/${task.body.id}/actions`, {
        customId: task.body.buttons.find((b: { label: string }) => b.label === label).customId,
      });
    const u1 = await finished((await click(root, "U1")).body.id);
    const zoom = await click(u1, "Custom Zoom");
    expect(zoom.body.status).toBe("MODAL");

    const cancelled = await cancelTask(zoom.body.id);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({
      status: "CANCEL",
      failReason: "cancelled by its owner while it waited for its modal",
    });
    expect(truth(zoom.body.upstreamTaskId)?.status).toBe("MODAL");
    // and its modal can no longer be submitted
    const modal = await alice.call("POST", `/v1/tasks/${zoom.body.id}/modal`, {
      prompt: "a boat --zoom 1.5",
    });
    expect(modal.status).toBe(409);
  });
});

describe.each(["new-api", "novicezk"] as const)("cancel on %s (no cancel route)", (cancel) => {
  it("cancels the task here, says the upstream job may still run, and ignores that job's webhooks", async () => {
    const { stack, alice, truth, cancelTask } = on(cancel);
    const submitted = await alice.imagine({ prompt: "a boat that sails on regardless" });
    const cancelled = await cancelTask(submitted.body.id);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({
      status: "CANCEL",
      failReason:
        "cancelled by its owner; this upstream cannot cancel a job, so it may still run there",
    });
    await stack.simulator?.idle();
    // the upstream job ran on to SUCCESS, its webhooks came, and none of them changed the task
    expect(truth(submitted.body.upstreamTaskId)?.status).toBe("SUCCESS");
    const read = await alice.task(submitted.body.id);
    expect(read.body).toMatchObject({
      status: "CANCEL",
      imageUrl: null,
      buttons: [],
      failReason: cancelled.body.failReason,
    });
  });
});

describe("cancel when the upstream cannot be asked", () => {
  it("still cancels here, and the reason says the upstream job may still run", async () => {
    const stack = await startTestStack({ simulator: { stepMs: STEP_MS, cancel: "trueai" } });
    try {
      const alice = api(stack, OWNERS.alice.key);
      const submitted = await alice.imagine({ prompt: "a boat whose upstream goes away" });
      expect(submitted.body.status).toBe("SUBMITTED");
      await stack.simulator?.stop();
      const cancelled = await alice.call("POST", `/v1/tasks/${submitted.body.id}/cancel`);
      expect(cancelled.status).toBe(202);
      expect(cancelled.body).toMatchObject({
        status: "CANCEL",
        failReason:
          "cancelled by its owner; the upstream's cancel failed (the upstream could not be reached), so the job may still run there",
      });
      expect((await alice.task(submitted.body.id)).body.status).toBe("CANCEL");
    } finally {
      await stack.stop();
    }
  });
});

describe("the trueai profile cancels as trueai (npm start with SIM_PROFILE=trueai)", () => {
  it("stops a relax job upstream without a cancel option", async () => {
    const stack = await startTestStack({ simulator: { stepMs: STEP_MS, profile: "trueai" } });
    try {
      const alice = api(stack, OWNERS.alice.key);
      const submitted = await alice.imagine({ prompt: "a slow boat", mode: "relax" });
      expect(submitted.body.status).toBe("SUBMITTED");
      const cancelled = await alice.call("POST", `/v1/tasks/${submitted.body.id}/cancel`);
      expect(cancelled.body).toMatchObject({
        status: "CANCEL",
        failReason: expect.stringMatching(/the upstream was asked to stop/),
      });
      const job = stack.simulator?.tasks().find((t) => t.id === submitted.body.upstreamTaskId);
      expect(job).toMatchObject({ status: "FAILURE", failReason: "取消任务" });
    } finally {
      await stack.stop();
    }
  });
});

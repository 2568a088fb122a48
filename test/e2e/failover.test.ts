import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../cli/main.ts";
import { createClient, type Health } from "../../client/index.ts";
import { upstreamIds } from "../../functions/upstream/failover.ts";
import { freePort } from "../../local/dynamodb.ts";
import { type Simulator, startSimulator } from "../../local/simulator/index.ts";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * Several upstreams on the local stack (docs/upstreams.md "Several upstreams"): MJ_API_BASE_URL
 * lists a closed port (down: every connection refused) ahead of the stack's simulator (up).
 * Jobs go to the one that is up, each task keeps its upstream for its polls, buttons and modal,
 * and `GET /health` (the API, the client and `paperboat health`) shows the first one down.
 */

let stack: TestStack;
let alice: ReturnType<typeof api>;
let downUrl: string;
let ids: string[];

const untilFinished = (id: string) =>
  eventually(
    () => alice.task(id),
    (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
  );

beforeAll(async () => {
  downUrl = `http://127.0.0.1:${await freePort()}`;
  stack = await startTestStack({
    upstreamsBefore: [downUrl],
    upstreamTimeoutMs: 1_500,
    overrides: { breaker: { failureThreshold: 2, cooldownMs: 600_000 } },
  });
  alice = api(stack, OWNERS.alice.key);
  ids = upstreamIds([downUrl, stack.upstreamUrl]);
});
afterAll(() => stack.stop());

describe("one upstream down, one up", () => {
  it("runs a job on the upstream that is up, and its button there too", async () => {
    const jobsBefore = stack.simulator?.stats().jobsCreated ?? 0;
    const submitted = await alice.imagine({ prompt: "a paper boat past a dark harbour" });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ status: "SUBMITTED", upstream: ids[1] });
    const done = await untilFinished(submitted.body.id);
    expect(done.body).toMatchObject({ status: "SUCCESS", upstream: ids[1] });

    const clicked = await alice.call("POST", `/v1/tasks/${submitted.body.id}/actions`, {
      customId: done.body.buttons[0].customId,
    });
    expect(clicked.status).toBe(202);
    expect(clicked.body).toMatchObject({ action: "UPSCALE", upstream: ids[1] });
    expect((await untilFinished(clicked.body.id)).body.status).toBe("SUCCESS");
    // exactly one upstream job per accepted request, both on the simulator
    expect(stack.simulator?.stats().jobsCreated).toBe(jobsBefore + 2);
  });

  it("polls a task on its own upstream when its webhooks are lost", async () => {
    const submitted = await alice.imagine({ prompt: "a quiet lighthouse --sim-drop-hooks" });
    expect(submitted.body.upstream).toBe(ids[1]);
    await stack.simulator?.idle();
    expect((await alice.task(submitted.body.id)).body.status).toBe("SUBMITTED");
    await stack.reconcileOnce();
    expect((await alice.task(submitted.body.id)).body).toMatchObject({ status: "SUCCESS" });
  });

  it("shows the refusing upstream down in GET /health, the client and paperboat health", async () => {
    // two submits have met the refused connection by now: the breaker took it down
    const health = await fetch(`${stack.url}/health`);
    expect(health.status).toBe(200);
    const body = await health.json();
    expect(body).toEqual({
      status: "ok",
      upstreams: [
        {
          id: ids[0],
          position: 1,
          state: "down",
          since: expect.any(String),
          reason: "the upstream refused the connection",
          retryAt: expect.any(String),
        },
        { id: ids[1], position: 2, state: "up", since: null, reason: null, retryAt: null },
      ],
    });
    expect(JSON.stringify(body)).not.toContain(downUrl); // ids, never the hosts

    const viaClient = await createClient({ baseUrl: stack.url }).health();
    expect(viaClient.upstreams.map((u) => u.state)).toEqual(["down", "up"]);

    const out = new PassThrough();
    let printed = "";
    out.on("data", (chunk) => {
      printed += chunk;
    });
    const code = await run(
      ["node", "paperboat", "health", "--url", stack.url],
      {},
      { out, err: new PassThrough() },
      new AbortController().signal,
    );
    expect(code).toBe(0);
    expect(printed.trim().split("\n")).toEqual([
      `${stack.url}: ok`,
      expect.stringMatching(
        new RegExp(
          `^upstream 1 ${ids[0]}: down \\(the upstream refused the connection\\), retry at `,
        ),
      ),
      `upstream 2 ${ids[1]}: up`,
    ]);
  });

  it("sends the next jobs straight to the upstream that is up", async () => {
    const submitted = await alice.imagine({ prompt: "a red kite" });
    expect(submitted.body).toMatchObject({ status: "SUBMITTED", upstream: ids[1] });
  });
});

describe("a job whose answer is lost", () => {
  it("stays on the upstream it went to, which its webhooks prove, and is recorded there", async () => {
    const jobsBefore = stack.simulator?.stats().jobsCreated ?? 0;
    // the job starts and the answer never comes: a timeout after sending, so no failover
    const submitted = await alice.imagine({ prompt: "a boat in fog --sim-submit=acceptedTimeout" });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ upstream: ids[1] });
    expect(submitted.body.upstreamTaskId).toEqual(expect.any(String));
    const done = await untilFinished(submitted.body.id);
    expect(done.body).toMatchObject({ status: "SUCCESS", upstream: ids[1] });
    expect(stack.simulator?.stats().jobsCreated).toBe(jobsBefore + 1);
  });
});

describe("a second simulator whose queue is full", () => {
  let busy: Simulator;
  let pair: TestStack;

  beforeAll(async () => {
    busy = await startSimulator({ apiKey: "sim-local-key", stepMs: 15, seed: 3 });
    pair = await startTestStack({ upstreamsBefore: [busy.url] });
  });
  afterAll(async () => {
    await pair.stop();
    await busy.stop();
  });

  it("takes a job while the first has room, keeps its button there, and moves on when it is full", async () => {
    const [busyId, upId] = upstreamIds([busy.url, pair.upstreamUrl]);
    const owner = api(pair, OWNERS.alice.key);
    const first = await owner.imagine({ prompt: "a boat on the first upstream" });
    expect(first.body.upstream).toBe(busyId);
    const done = await eventually(
      () => owner.task(first.body.id),
      (r) => r.body?.status === "SUCCESS",
    );

    // full from now on (novicezk's code 23 "队列已满", nothing started there)
    busy.setFaults({ submitFailure: 1, submitFailureKinds: ["queueFull"] });
    const next = await owner.imagine({ prompt: "a boat while the first is full" });
    expect(next.body).toMatchObject({ status: "SUBMITTED", upstream: upId });
    expect(busy.stats().jobsCreated).toBe(1);

    // a button of the first task can only run where that task is: it answers busy (429)
    const clicked = await owner.call("POST", `/v1/tasks/${first.body.id}/actions`, {
      customId: done.body.buttons[0].customId,
    });
    expect(clicked.status).toBe(429);
    expect(pair.simulator?.stats().jobsCreated).toBe(1);
    const health = (await (await fetch(`${pair.url}/health`)).json()) as Health;
    expect(health.upstreams.map((u) => u.state)).toEqual(["busy", "up"]);

    busy.setFaults({ submitFailure: 0 });
    const again = await owner.call("POST", `/v1/tasks/${first.body.id}/actions`, {
      customId: done.body.buttons[0].customId,
    });
    expect(again.body).toMatchObject({ status: "SUBMITTED", upstream: busyId });
    expect(busy.stats().jobsCreated).toBe(2);
    // it answered: up again
    const after = (await (await fetch(`${pair.url}/health`)).json()) as Health;
    expect(after.upstreams.map((u) => u.state)).toEqual(["up", "up"]);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { UpstreamHealth } from "../../functions/core/upstream-port.ts";
import { createUpstreamClient } from "../../functions/upstream/client.ts";
import { createFailoverUpstream, upstreamIds } from "../../functions/upstream/failover.ts";
import { freePort } from "../../local/dynamodb.ts";
import {
  type Simulator,
  type SubmitFaultKind,
  startSimulator,
} from "../../local/simulator/index.ts";
import { manualClock } from "../clock.ts";

/**
 * The failover router over real upstreams: two simulators over HTTP and a closed port. A job
 * moves on only when nothing can have started where it was sent; the simulators' job counts
 * prove it (exactly one job per accepted submit, none on the upstream that refused).
 *
 * What "busy" is follows the hosts' own answers: novicezk/midjourney-proxy,
 * src/main/java/com/github/novicezk/midjourney/loadbalancer/DiscordInstanceImpl.java (code 23
 * "队列已满，请稍后尝试" before any task exists) and trueai-org/midjourney-proxy,
 * src/Midjourney.Services/DiscordService.cs ("提交失败，队列已满，请稍后重试", nothing queued).
 */

const KEY = "sim-failover-key";
let first: Simulator;
let second: Simulator;
let closedUrl: string;

beforeAll(async () => {
  [first, second] = await Promise.all([
    startSimulator({ apiKey: KEY, stepMs: 5, seed: 1 }),
    startSimulator({ apiKey: KEY, stepMs: 5, seed: 2 }),
  ]);
  closedUrl = `http://127.0.0.1:${await freePort()}`;
});
afterAll(async () => {
  await Promise.all([first.stop(), second.stop()]);
});
afterEach(() => {
  first.setFaults({ submitFailure: 0 });
});

function router(urls: string[], options: { timeoutMs?: number } = {}) {
  const clock = manualClock();
  const changes: UpstreamHealth[] = [];
  const ids = upstreamIds(urls);
  const upstream = createFailoverUpstream(
    urls.map((baseUrl, i) => ({
      id: ids[i] as string,
      client: createUpstreamClient({
        baseUrl,
        apiKey: KEY,
        timeoutMs: options.timeoutMs ?? 5_000,
        readAttempts: 1,
      }),
    })),
    {
      clock,
      failureThreshold: 2,
      cooldownMs: 60_000,
      onChange: async (health) => {
        changes.push(health);
      },
    },
  );
  return { upstream, clock, changes, ids };
}

const jobs = (sim: Simulator) => sim.stats().jobsCreated;

describe("a new job goes to the next upstream only when nothing started on the first", () => {
  it.each<[string, () => string, SubmitFaultKind | null]>([
    ["the connection is refused", () => closedUrl, null],
    ["it answers 500 before accepting", () => first.url, "http500"],
    ["its queue is full (code 23)", () => first.url, "queueFull"],
    ["its account pool is empty (trueai code 3)", () => first.url, "noAccount"],
  ])("%s", async (_name, firstUrl, fault) => {
    if (fault) first.setFaults({ submitFailure: 1, submitFailureKinds: [fault] });
    const { upstream, ids } = router([firstUrl(), second.url]);
    const before = [jobs(first), jobs(second)];
    const outcome = await upstream.submit("imagine", { prompt: "a boat" });
    expect(outcome).toMatchObject({ kind: "accepted", upstream: ids[1] });
    expect([jobs(first), jobs(second)]).toEqual([before[0], (before[1] as number) + 1]);
  });

  it.each<[string, SubmitFaultKind]>([
    // the first upstream never answers: the job may have started there
    ["a timeout after sending", "timeout"],
    // the job starts, the answer is lost
    ["an accepted job whose answer never comes", "acceptedTimeout"],
    ["a garbled answer", "garbage"],
    ["an empty answer", "empty"],
  ])("never after %s", async (_name, fault) => {
    first.setFaults({ submitFailure: 1, submitFailureKinds: [fault] });
    const { upstream, ids } = router([first.url, second.url], { timeoutMs: 300 });
    const before = [jobs(first), jobs(second)];
    const outcome = await upstream.submit("imagine", { prompt: "a boat" });
    expect(outcome).toMatchObject({ kind: "unavailable", upstream: ids[0] });
    expect(outcome).not.toHaveProperty("nothingStarted");
    expect(jobs(second)).toBe(before[1]);
    // the lost answer's job did start, on the first upstream only
    expect(jobs(first)).toBe((before[0] as number) + (fault === "acceptedTimeout" ? 1 : 0));
  });

  it("nor after a refusal of the job itself (a banned prompt)", async () => {
    const { upstream, ids } = router([first.url, second.url]);
    const before = jobs(second);
    const outcome = await upstream.submit("imagine", { prompt: "a boat --sim-banned" });
    expect(outcome).toMatchObject({ kind: "rejected", upstream: ids[0] });
    expect(jobs(second)).toBe(before);
  });

  it("stops moving on once the failed attempts took half the time a submit may use", async () => {
    first.setFaults({ submitFailure: 1, submitFailureKinds: ["http500"] });
    const ids = upstreamIds([first.url, second.url]);
    // a slow 500: the clock moves 6 s while the first upstream answers
    const clock = manualClock();
    const upstream = createFailoverUpstream(
      [first.url, second.url].map((baseUrl, i) => ({
        id: ids[i] as string,
        client: createUpstreamClient({ baseUrl, apiKey: KEY, readAttempts: 1 }),
      })),
      {
        clock: {
          now: () => {
            const at = clock.now();
            clock.advance(3_000);
            return at;
          },
        },
        moveOnWithinMs: 5_000,
      },
    );
    const before = jobs(second);
    const outcome = await upstream.submit("imagine", { prompt: "a boat" });
    expect(outcome).toMatchObject({ kind: "unavailable", nothingStarted: true, upstream: ids[0] });
    expect(jobs(second)).toBe(before);
  });

  it("answers the last upstream's outcome when every one refuses", async () => {
    const { upstream, ids } = router([closedUrl, `http://127.0.0.1:${await freePort()}`]);
    const outcome = await upstream.submit("imagine", { prompt: "a boat" });
    expect(outcome).toMatchObject({ kind: "unavailable", nothingStarted: true, upstream: ids[1] });
  });
});

describe("the circuit breaker", () => {
  it("skips an upstream that keeps failing, then probes it again after the cooldown", async () => {
    const { upstream, clock, changes, ids } = router([first.url, second.url]);
    first.setFaults({ submitFailure: 1, submitFailureKinds: ["http500"] });
    for (let i = 0; i < 2; i++) await upstream.submit("imagine", { prompt: "a boat" });
    expect(upstream.health()[0]).toMatchObject({ id: ids[0], position: 1, state: "down" });
    expect(changes.map((c) => [c.id, c.state])).toEqual([[ids[0], "down"]]);

    // down: the next submits go straight to the second, the first is not even asked
    const asked = first.stats().submits;
    const outcome = await upstream.submit("imagine", { prompt: "a boat" });
    expect(outcome).toMatchObject({ kind: "accepted", upstream: ids[1] });
    expect(first.stats().submits).toBe(asked);

    // after the cooldown one submit tries it again; it answers, so it is up
    clock.advance(60_000);
    expect(upstream.health()[0]?.state).toBe("probing");
    first.setFaults({ submitFailure: 0 });
    const probe = await upstream.submit("imagine", { prompt: "a boat" });
    expect(probe).toMatchObject({ kind: "accepted", upstream: ids[0] });
    expect(upstream.health()[0]).toMatchObject({ state: "up", reason: null, retryAt: null });
    expect(changes.map((c) => c.state)).toEqual(["down", "up"]);
  });

  it("a failed probe keeps it down for another cooldown", async () => {
    const { upstream, clock } = router([closedUrl, second.url]);
    for (let i = 0; i < 2; i++) await upstream.submit("imagine", { prompt: "a boat" });
    clock.advance(60_000);
    expect(upstream.health()[0]?.state).toBe("probing");
    await upstream.submit("imagine", { prompt: "a boat" });
    expect(upstream.health()[0]).toMatchObject({
      state: "down",
      reason: "the upstream refused the connection",
      retryAt: new Date(clock.now().getTime() + 60_000).toISOString(),
    });
  });

  it("still tries every upstream, in order, when all are down", async () => {
    const { upstream, ids } = router([closedUrl, second.url]);
    second.setFaults({ submitFailure: 1, submitFailureKinds: ["http500"] });
    try {
      for (let i = 0; i < 2; i++) await upstream.submit("imagine", { prompt: "a boat" });
      expect(upstream.health().map((h) => h.state)).toEqual(["down", "down"]);
      second.setFaults({ submitFailure: 0 });
      const outcome = await upstream.submit("imagine", { prompt: "a boat" });
      expect(outcome).toMatchObject({ kind: "accepted", upstream: ids[1] });
    } finally {
      second.setFaults({ submitFailure: 0 });
    }
  });
});

describe("a task's calls go to its upstream", () => {
  it("polls, buttons and fetches go where the task was accepted; unknown ids to the first", async () => {
    const { upstream, ids } = router([first.url, second.url]);
    const outcome = await upstream.submit("imagine", { prompt: "a pinned boat" }, null, ids[1]);
    expect(outcome).toMatchObject({ kind: "accepted", upstream: ids[1] });
    const id = (outcome as { upstreamTaskId: string }).upstreamTaskId;
    await second.idle();
    expect((await upstream.fetchTask(id, null, ids[1]))?.status).toBe("SUCCESS");
    expect(await upstream.listByCondition([id], null, ids[1])).toHaveLength(1);
    // the first upstream does not know it: an id no longer configured, or none, asks the first
    expect(await upstream.fetchTask(id, null, "u-0000000000")).toBeNull();
    expect(await upstream.listByCondition([id], null, null)).toEqual([]);
  });

  it("a submit pinned to a down upstream stays there", async () => {
    const { upstream, ids } = router([closedUrl, second.url]);
    const before = jobs(second);
    const outcome = await upstream.submit("action", { taskId: "1", customId: "x" }, null, ids[0]);
    expect(outcome).toMatchObject({ kind: "unavailable", upstream: ids[0] });
    expect(jobs(second)).toBe(before);
  });
});

describe("upstream ids", () => {
  it("derive from the base URL, so reordering keeps them, and repeat URLs differ", () => {
    const [a, b] = upstreamIds(["https://a.example/", "https://B.example"]);
    expect(upstreamIds(["https://b.example", "https://a.example"])).toEqual([b, a]);
    const [x, y] = upstreamIds(["https://a.example", "https://a.example"]);
    expect(x).toBe(a);
    expect(y).not.toBe(x);
    expect(a).toMatch(/^u-[0-9a-f]{10}$/);
  });
});

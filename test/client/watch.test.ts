import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiError, createClient, type TaskWithChildren } from "paperboat";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PROGRESS_STEPS } from "../../local/simulator/index.ts";
import { OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * The client's live progress against the real local stack: `watchTask` and `waitForTask` on
 * `GET /v1/tasks/{id}/events`, resuming a dropped stream, and polling where there is no stream.
 * Which requests the client made is counted by a fetch that passes every request on.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ events: { intervalMs: 100 } });
});
afterAll(() => stack?.stop());

/** fetch that counts requests by kind, and may cut a stream's body after some events. */
function countingFetch(options: { cutAfterEvents?: number } = {}) {
  const counts = {
    stream: 0,
    read: 0,
    other: 0,
    lastEventIds: [] as (string | null)[],
    /** the id of the last event that went through before the cut */
    cutAfterId: null as string | null,
  };
  let cut = options.cutAfterEvents;
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    if (url.pathname.endsWith("/events")) {
      counts.stream++;
      counts.lastEventIds.push(headers.get("last-event-id"));
    } else if (/^\/v1\/tasks\/[^/]+$/.test(url.pathname) && (init?.method ?? "GET") === "GET") {
      counts.read++;
    } else counts.other++;
    const response = await fetch(input, init);
    if (cut === undefined || !url.pathname.endsWith("/events") || !response.body) return response;
    // the connection drops after `cut` events: the body errors as a reset socket does
    const events = cut;
    cut = undefined;
    const reader = response.body.getReader();
    let seen = 0;
    let text = "";
    const decoder = new TextDecoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { value, done } = await reader.read();
        if (done) return controller.close();
        text += decoder.decode(value, { stream: true });
        const ids = [...text.matchAll(/\nid: (\d+)\n/g)].map((m) => m[1] ?? "");
        seen = ids.length;
        controller.enqueue(value);
        if (seen >= events) {
          counts.cutAfterId = ids.at(-1) ?? null;
          await reader.cancel();
          controller.error(new TypeError("terminated"));
        }
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return { fetch: wrapped, counts };
}

const expectedSteps = [
  "NOT_START:0",
  "SUBMITTED:0",
  ...DEFAULT_PROGRESS_STEPS.map((p) => `IN_PROGRESS:${p}`),
  "SUCCESS:100",
];

describe("live progress in the client", () => {
  it("waitForTask follows the stream, not reads: onProgress sees every step once", async () => {
    const { fetch, counts } = countingFetch();
    const pb = createClient({ baseUrl: stack.url, apiKey: OWNERS.alice.key, fetch });
    const task = await pb.imagine({ prompt: "a paper boat, watched" });
    const seen: string[] = [];
    const done = await pb.waitForTask(task.id, {
      onProgress: (t) => seen.push(`${t.status}:${t.progress}`),
    });
    expect(done).toMatchObject({ id: task.id, status: "SUCCESS", progress: 100 });
    expect(seen).toEqual(expectedSteps);
    expect(counts.stream).toBeGreaterThanOrEqual(1);
    expect(counts.read).toBe(0);
  });

  it("watchTask resumes a dropped stream with Last-Event-ID: nothing missed, nothing repeated", async () => {
    const { fetch, counts } = countingFetch({ cutAfterEvents: 3 });
    const pb = createClient({ baseUrl: stack.url, apiKey: OWNERS.alice.key, fetch });
    const task = await pb.imagine({ prompt: "a paper boat, dropped and found" });
    const seen: string[] = [];
    for await (const state of pb.watchTask(task.id)) seen.push(`${state.status}:${state.progress}`);
    expect(seen).toEqual(expectedSteps);
    expect(counts.stream).toBe(2);
    // one read may bring several states: the cut falls after the third or a later one
    expect(Number(counts.cutAfterId)).toBeGreaterThanOrEqual(3);
    expect(counts.lastEventIds).toEqual([null, counts.cutAfterId]);
  });

  it("watchTask stops when the loop stops, and lastEventId starts after a given state", async () => {
    const pb = createClient({ baseUrl: stack.url, apiKey: OWNERS.alice.key });
    const task = await pb.imagine({ prompt: "a paper boat, in halves" });
    const first: TaskWithChildren[] = [];
    for await (const state of pb.watchTask(task.id)) {
      first.push(state);
      if (first.length === 2) break;
    }
    const rest: string[] = [];
    for await (const state of pb.watchTask(task.id, { lastEventId: "2" })) {
      rest.push(`${state.status}:${state.progress}`);
    }
    expect([...first.map((t) => `${t.status}:${t.progress}`), ...rest]).toEqual(expectedSteps);
  });

  it("waitForTask polls where the stream route is missing (an older server, another host)", async () => {
    const { fetch, counts } = countingFetch();
    // the simulator is a real server without the route: its answer is not an event stream
    const pb = createClient({
      baseUrl: stack.url,
      eventsUrl: stack.upstreamUrl,
      apiKey: OWNERS.alice.key,
      fetch,
    });
    const task = await pb.imagine({ prompt: "a paper boat, polled" });
    const done = await pb.waitForTask(task.id, { intervalMs: 20 });
    expect(done.status).toBe("SUCCESS");
    expect(counts.stream).toBe(1);
    expect(counts.read).toBeGreaterThan(0);
  });

  it("waitForTask polls when the stream cannot be reached at all, and with stream: false", async () => {
    const { fetch, counts } = countingFetch();
    const pb = createClient({
      baseUrl: stack.url,
      // nothing listens there
      eventsUrl: "http://127.0.0.1:9",
      apiKey: OWNERS.alice.key,
      fetch,
    });
    const task = await pb.imagine({ prompt: "a paper boat, no stream" });
    expect((await pb.waitForTask(task.id, { intervalMs: 20 })).status).toBe("SUCCESS");
    expect(counts.stream).toBe(3); // three failed connections in a row, then polling
    expect(counts.read).toBeGreaterThan(0);

    const polling = countingFetch();
    const direct = createClient({
      baseUrl: stack.url,
      apiKey: OWNERS.alice.key,
      fetch: polling.fetch,
    });
    const other = await direct.imagine({ prompt: "a paper boat, polled on purpose" });
    await direct.waitForTask(other.id, { intervalMs: 20, stream: false });
    expect(polling.counts.stream).toBe(0);
    expect(polling.counts.read).toBeGreaterThan(0);
  });

  it("drops a stream that goes silent (no event, no keep-alive) and polls after three", async () => {
    // answers as a stream would, then never sends a byte
    const silent = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.flushHeaders();
    });
    await new Promise<void>((ok) => silent.listen(0, "127.0.0.1", ok));
    try {
      const { fetch, counts } = countingFetch();
      const pb = createClient({
        baseUrl: stack.url,
        eventsUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        apiKey: OWNERS.alice.key,
        requestTimeoutMs: 300,
        fetch,
      });
      const task = await pb.imagine({ prompt: "a paper boat, behind a silent proxy" });
      expect((await pb.waitForTask(task.id, { intervalMs: 20 })).status).toBe("SUCCESS");
      expect(counts.stream).toBe(3);
      expect(counts.read).toBeGreaterThan(0);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it("an unknown task is still not_found, and watchTask says so itself", async () => {
    const pb = createClient({ baseUrl: stack.url, apiKey: OWNERS.alice.key });
    const id = "01JDB3K6Z5Q8N2X4V7W9Y1A3C5";
    await expect(pb.waitForTask(id)).rejects.toMatchObject({ status: 404, code: "not_found" });
    const watching = pb.watchTask(id).next();
    await expect(watching).rejects.toBeInstanceOf(ApiError);
    await expect(watching).rejects.toMatchObject({ code: "not_found" });
  });
});

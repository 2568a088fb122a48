import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEventStream } from "../../client/sse.ts";
import type { TaskStore } from "../../functions/core/ports.ts";
import { newTask } from "../../functions/core/submit.ts";
import { createIdFactory } from "../../functions/deps.ts";
import { createStreamApp } from "../../functions/http/stream-app.ts";
import { silentLogger } from "../../functions/log.ts";
import { createTestStore } from "../helpers.ts";

/**
 * The stream app over real HTTP on a real table, with short settings: a stream that outlives
 * EVENTS_MAX_SECONDS ends (the client resumes), silence is broken by keep-alive comments, and a
 * state recorded while the stream waits arrives as the next event.
 */
const KEY = "stream-test-key";
const newId = createIdFactory();
let store: TaskStore;
let url = "";
let close: () => void;

beforeAll(async () => {
  ({ store } = await createTestStore());
  const app = createStreamApp({
    store,
    log: silentLogger,
    publicUrl: "http://127.0.0.1",
    authenticate: async (key) => (key === KEY ? { owner: "alice", settled: null } : null),
    events: { intervalMs: 50, maxSeconds: 1, heartbeatMs: 200 },
  });
  const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise((ok) => server.once("listening", ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => {
    (server as unknown as { closeAllConnections(): void }).closeAllConnections();
    server.close();
  };
});
afterAll(() => close?.());

async function read(id: string, onEvent?: (id: string | null) => Promise<void>) {
  const response = await fetch(`${url}/v1/tasks/${id}/events`, {
    headers: { authorization: `Bearer ${KEY}` },
  });
  const text = await new Response(response.body).text();
  const ids: (string | null)[] = [];
  for await (const event of readEventStream(new Blob([text]).stream())) {
    ids.push(event.id);
    await onEvent?.(event.id);
  }
  return { status: response.status, text, ids };
}

describe("a task stream's lifetime", () => {
  it("ends after EVENTS_MAX_SECONDS without the finishing state, with keep-alives in the silence", async () => {
    const task = newTask({
      id: newId(),
      owner: "alice",
      action: "IMAGINE",
      prompt: "p",
      now: new Date(),
    });
    await store.create(task);
    const { status, text, ids } = await read(task.id);
    expect(status).toBe(200);
    expect(ids).toEqual(["1"]);
    expect(text).toMatch(/^retry: 50\n\n/);
    expect(text).toContain(": keep-alive\n\n");
  });

  it("sends a state recorded while it waits as the next event, then ends at the finishing one", async () => {
    const task = newTask({
      id: newId(),
      owner: "alice",
      action: "IMAGINE",
      prompt: "p",
      now: new Date(),
    });
    await store.create(task);
    const response = await fetch(`${url}/v1/tasks/${task.id}/events`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    const seen: string[] = [];
    for await (const event of readEventStream(response.body as ReadableStream<Uint8Array>)) {
      const state = JSON.parse(event.data) as { status: string; progress: number };
      seen.push(`${event.id}:${state.status}:${state.progress}`);
      // each state is written only once the stream has shown the one before
      if (seen.length === 1)
        await store.apply(task.id, { status: "SUBMITTED", upstreamTaskId: "9" }, new Date());
      if (seen.length === 2)
        await store.apply(task.id, { status: "IN_PROGRESS", progress: 50 }, new Date());
      if (seen.length === 3)
        await store.apply(task.id, { status: "SUCCESS", progress: 100 }, new Date());
    }
    expect(seen).toEqual(["1:NOT_START:0", "2:SUBMITTED:0", "3:IN_PROGRESS:50", "4:SUCCESS:100"]);
  });
});

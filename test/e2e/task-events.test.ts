import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEventStream, type ServerSentEvent } from "../../client/sse.ts";
import { type DynamoDbProxy, startDynamoDbProxy } from "../../local/dynamodb-proxy.ts";
import { DEFAULT_PROGRESS_STEPS } from "../../local/simulator/index.ts";
import { api, dynamodbEndpoint, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * `GET /v1/tasks/{id}/events` on the whole local stack: the simulator's webhooks move the task
 * through its progress steps, the read app streams them (docs/api.md "Live progress").
 * The stream reads the task every 200 ms while the simulator moves it every 15 ms, so most
 * states are recorded between two reads: every one of them must still be sent, once, in order.
 */
let stack: TestStack;
let alice: ReturnType<typeof api>;

beforeAll(async () => {
  stack = await startTestStack({ events: { intervalMs: 200 } });
  alice = api(stack, OWNERS.alice.key);
});
afterAll(() => stack.stop());

interface Step {
  id: string | null;
  status: string;
  progress: number;
  task: Record<string, unknown>;
}

/** Opens the stream; `until` may stop reading early (the connection is then dropped). */
async function stream(
  id: string,
  options: { key?: string; lastEventId?: string; until?: (steps: Step[]) => boolean } = {},
) {
  const response = await fetch(`${stack.url}/v1/tasks/${id}/events`, {
    headers: {
      authorization: `Bearer ${options.key ?? OWNERS.alice.key}`,
      ...(options.lastEventId ? { "last-event-id": options.lastEventId } : {}),
    },
  });
  const steps: Step[] = [];
  const retries: number[] = [];
  const events: ServerSentEvent[] = [];
  if (response.ok && response.body) {
    for await (const event of readEventStream(response.body, (ms) => retries.push(ms))) {
      events.push(event);
      const task = JSON.parse(event.data);
      steps.push({ id: event.id, status: task.status, progress: task.progress, task });
      if (options.until?.(steps)) break;
    }
  }
  return { response, steps, events, retries };
}

const describeSteps = (steps: Step[]) => steps.map((s) => `${s.id}:${s.status}:${s.progress}`);

describe("GET /v1/tasks/{id}/events", () => {
  it("streams every progress step of a simulator task, each once and in order, then ends at SUCCESS", async () => {
    const submitted = await alice.imagine({ prompt: "a paper boat, live" });
    expect(submitted.status).toBe(202);
    const { response, steps, events, retries } = await stream(submitted.body.id);

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(retries).toEqual([200]);
    expect(events.every((e) => e.event === "task")).toBe(true);
    // ids count the recorded states: 1, 2, 3 ... with no gap and no repeat
    expect(steps.map((s) => s.id)).toEqual(steps.map((_, i) => String(i + 1)));
    expect(steps.map((s) => `${s.status}:${s.progress}`)).toEqual([
      "NOT_START:0",
      "SUBMITTED:0",
      ...DEFAULT_PROGRESS_STEPS.map((p) => `IN_PROGRESS:${p}`),
      "SUCCESS:100",
    ]);
    // the last event is the task exactly as GET shows it
    const read = await alice.task(submitted.body.id);
    expect(steps.at(-1)?.task).toEqual(read.body);
    expect(steps.slice(0, -1).every((s) => s.task.finishedAt === null)).toBe(true);
  });

  it("resumes a dropped stream with Last-Event-ID: the states after it, none twice, none missed", async () => {
    const submitted = await alice.imagine({ prompt: "a paper boat, dropped" });
    const first = await stream(submitted.body.id, { until: (steps) => steps.length === 3 });
    expect(first.steps.map((s) => s.id)).toEqual(["1", "2", "3"]);

    const rest = await stream(submitted.body.id, { lastEventId: "3" });
    expect(rest.steps[0]?.id).toBe("4");
    expect(rest.steps.at(-1)?.status).toBe("SUCCESS");

    // the two halves are exactly what one uninterrupted stream of the finished task sends
    const whole = await stream(submitted.body.id);
    expect(describeSteps([...first.steps, ...rest.steps])).toEqual(describeSteps(whole.steps));
    // and resuming after the last id of a finished task sends nothing and ends
    const after = await stream(submitted.body.id, { lastEventId: String(whole.steps.length) });
    expect(after.response.status).toBe(200);
    expect(after.steps).toEqual([]);
  });

  it("sends each recorded state once when webhooks come twice and out of order", async () => {
    const submitted = await alice.imagine({ prompt: "a choppy sea --sim-duplicate --sim-reorder" });
    const { steps } = await stream(submitted.body.id);
    expect(steps.map((s) => s.id)).toEqual(steps.map((_, i) => String(i + 1)));
    const described = steps.map((s) => `${s.status}:${s.progress}`);
    expect(new Set(described).size).toBe(described.length);
    expect(described.at(-1)).toBe("SUCCESS:100");
    // only forward moves were recorded: progress never goes down while in progress
    const progress = steps.filter((s) => s.status === "IN_PROGRESS").map((s) => s.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it("ends with CANCEL when the owner cancels the task it follows", async () => {
    const submitted = await alice.imagine({ prompt: "a boat nobody hears --sim-drop-hooks" });
    await stack.simulator?.idle();
    const cancelling = stream(submitted.body.id, {
      until: (steps) => {
        if (steps.length === 2) void alice.call("POST", `/v1/tasks/${submitted.body.id}/cancel`);
        return false;
      },
    });
    const { steps } = await cancelling;
    expect(steps.map((s) => `${s.id}:${s.status}`)).toEqual([
      "1:NOT_START",
      "2:SUBMITTED",
      "3:CANCEL",
    ]);
    expect(steps.at(-1)?.task.finishedAt).toEqual(expect.any(String));
  });

  it("streams a failure to its end too", async () => {
    const submitted = await alice.imagine({ prompt: "a storm --sim-fail" });
    const { steps } = await stream(submitted.body.id);
    expect(steps.at(-1)).toMatchObject({ status: "FAILURE" });
    expect(steps.at(-1)?.task.failReason).toEqual(expect.any(String));
  });

  it("is 404 for another owner's task and an unknown one, 401 without a key, 400 for a bad Last-Event-ID", async () => {
    const submitted = await alice.imagine({ prompt: "alice's own boat" });
    const bob = await stream(submitted.body.id, { key: OWNERS.bob.key });
    expect(bob.response.status).toBe(404);
    expect((await bob.response.json()) as unknown).toEqual({
      error: { code: "not_found", message: expect.any(String) },
    });
    const unknown = await alice.call("GET", "/v1/tasks/01JDB3K6Z5Q8N2X4V7W9Y1A3C5/events");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
    const malformed = await alice.call("GET", "/v1/tasks/not-a-task/events");
    expect(malformed.status).toBe(404);

    const anonymous = await fetch(`${stack.url}/v1/tasks/${submitted.body.id}/events`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe(
      "unauthorized",
    );

    for (const bad of ["x", "-1", "1.5", "9999999"]) {
      const answer = await alice.call("GET", `/v1/tasks/${submitted.body.id}/events`, undefined, {
        "last-event-id": bad,
      });
      expect(answer.status, bad).toBe(400);
      expect(answer.body.error.code).toBe("validation_failed");
    }
  });
});

describe("behind API Gateway (EVENTS_MAX_SECONDS 0: one read per request)", () => {
  let short: TestStack;
  beforeAll(async () => {
    short = await startTestStack({ events: { intervalMs: 50, maxSeconds: 0 } });
  });
  afterAll(() => short.stop());

  it("answers the states recorded so far and ends; Last-Event-ID then takes up exactly where it ended", async () => {
    const owner = api(short, OWNERS.alice.key);
    const submitted = await owner.imagine({ prompt: "a paper boat, one read at a time" });
    const seen: string[] = [];
    let lastId: string | null = null;
    let requests = 0;
    for (;;) {
      requests++;
      const response = await fetch(`${short.url}/v1/tasks/${submitted.body.id}/events`, {
        headers: {
          authorization: `Bearer ${OWNERS.alice.key}`,
          ...(lastId ? { "last-event-id": lastId } : {}),
        },
      });
      expect(response.status).toBe(200);
      const body = response.body as ReadableStream<Uint8Array>;
      let finished = false;
      for await (const event of readEventStream(body)) {
        const task = JSON.parse(event.data);
        seen.push(`${event.id}:${task.status}:${task.progress}`);
        lastId = event.id;
        finished = ["SUCCESS", "FAILURE", "CANCEL"].includes(task.status);
      }
      if (finished) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(requests).toBeGreaterThan(1);
    expect(seen).toEqual([
      "1:NOT_START:0",
      "2:SUBMITTED:0",
      ...DEFAULT_PROGRESS_STEPS.map((p, i) => `${i + 3}:IN_PROGRESS:${p}`),
      `${DEFAULT_PROGRESS_STEPS.length + 3}:SUCCESS:100`,
    ]);
  });
});

describe("what a stream costs in DynamoDB requests", () => {
  let proxy: DynamoDbProxy;
  let counted: TestStack;
  beforeAll(async () => {
    proxy = await startDynamoDbProxy(dynamodbEndpoint());
    counted = await startTestStack({ dynamodbEndpoint: proxy.endpoint });
  });
  afterAll(async () => {
    await counted?.stop();
    await proxy?.stop();
  });

  it("a finished task's stream, whole or resumed, is one GetItem and nothing else", async () => {
    const owner = api(counted, OWNERS.alice.key);
    const submitted = await owner.imagine({ prompt: "a paper boat, counted" });
    await eventually(
      () => owner.task(submitted.body.id),
      (r) => r.body?.status === "SUCCESS",
    );
    await counted.simulator?.idle();
    for (const lastEventId of [null, "3"]) {
      proxy.reset();
      const response = await fetch(`${counted.url}/v1/tasks/${submitted.body.id}/events`, {
        headers: {
          authorization: `Bearer ${OWNERS.alice.key}`,
          ...(lastEventId ? { "last-event-id": lastEventId } : {}),
        },
      });
      await response.text();
      expect(proxy.counts()).toEqual({ GetItem: 1 });
    }
  });
});

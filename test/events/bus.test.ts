import { randomUUID } from "node:crypto";
import {
  EventBridgeClient,
  ListRulesCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Task } from "../../functions/core/task.ts";
import {
  createEventBus,
  EVENT_SOURCE,
  EventPublishError,
  MAX_ENTRY_BYTES,
  type TaskEvent,
} from "../../functions/events/bus.ts";
import { type LocalEventBridge, startLocalEventBridge } from "../../local/aws/eventbridge.ts";

let bridge: LocalEventBridge;
let client: EventBridgeClient;

beforeAll(async () => {
  bridge = await startLocalEventBridge();
  client = new EventBridgeClient({
    endpoint: bridge.endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
});

// a test that fails midway must not leave its fault armed for the next one
afterEach(() => bridge.failNext(0));

afterAll(async () => {
  client.destroy();
  await bridge.stop();
});

/** Every test publishes to its own bus, so tests never see each other's events. */
function newBus() {
  const busName = `bus-${randomUUID()}`;
  return {
    busName,
    bus: createEventBus({ busName, endpoint: bridge.endpoint }),
    published: () => bridge.events().filter((event) => event.eventBusName === busName),
  };
}

function buildTask(overrides: Partial<Task> = {}): Task {
  return {
    id: "01JTASK0000000000000000001",
    owner: "owner-1",
    action: "IMAGINE",
    status: "SUCCESS",
    progress: 100,
    prompt: "a paper boat on a calm lake --ar 3:2",
    upstreamTaskId: "1712345678901234",
    parentId: null,
    imageUrl: "https://cdn.example.com/grid.png",
    imageUrls: ["https://cdn.example.com/1.png", "https://cdn.example.com/2.png"],
    videoUrl: null,
    videoUrls: [],
    prompts: [],
    buttons: [{ customId: "MJ::JOB::upsample::1::abc", label: "U1", emoji: "", style: 2, type: 2 }],
    failReason: null,
    upstreamFailReason: null,
    metadata: { orderId: "order-7", tags: ["a", "b"] },
    createdAt: "2025-05-01T10:00:00.000Z",
    updatedAt: "2025-05-01T10:01:30.000Z",
    finishedAt: "2025-05-01T10:01:30.000Z",
    images: [
      {
        kind: "grid",
        name: "grid.png",
        index: null,
        url: null,
        width: 2048,
        height: 2048,
        contentType: "image/png",
        bytes: 4_200_000,
        source: "https://cdn.example.com/grid.png",
      },
    ],
    imagesStatus: "done",
    imagesError: null,
    webhookUrl: "https://hooks.example.com/paperboat",
    webhookEvents: ["task.succeeded", "task.failed"],
    upstreamImageUrl: "https://cdn.example.com/grid.png",
    upstreamImageUrls: ["https://cdn.example.com/1.png", "https://cdn.example.com/2.png"],
    upstreamVideoUrl: null,
    upstreamVideoUrls: [],
    mode: null,
    upstream: null,
    ...overrides,
  };
}

function buildEvent(overrides: Partial<Task> = {}): TaskEvent {
  return {
    id: `event-${randomUUID()}`,
    type: "task.succeeded",
    timestamp: "2025-05-01T10:01:30.123Z",
    data: buildTask(overrides),
  };
}

describe("createEventBus over the real SDK and a local EventBridge", () => {
  it("publishes one event: source paperboat, the transition as detail-type, the task as detail", async () => {
    const { busName, bus, published } = newBus();
    const event = buildEvent();

    await bus.publish(event);

    expect(published()).toEqual([
      {
        eventId: expect.any(String),
        source: EVENT_SOURCE,
        detailType: "task.succeeded",
        detail: event.data,
        eventBusName: busName,
        time: "2025-05-01T10:01:30.123Z",
      },
    ]);
  });

  it.each([
    ["task.failed", { status: "FAILURE", failReason: "banned prompt", imageUrl: null }],
    ["task.modal", { status: "MODAL", finishedAt: null, progress: 0 }],
  ] as const)("publishes %s with the task as it stands", async (type, overrides) => {
    const { bus, published } = newBus();
    const event = { ...buildEvent(overrides), type };

    await bus.publish(event);

    expect(published().map((e) => [e.detailType, e.detail])).toEqual([[type, event.data]]);
  });

  it("survives two 500s (the SDK retries), fails on three, and works once the fault clears", async () => {
    const { bus, published } = newBus();
    const event = buildEvent();

    bridge.failNext(2, "http500");
    await bus.publish(event);
    expect(published()).toHaveLength(1);

    bridge.failNext(3, "http500");
    const error = await bus.publish(event).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventPublishError);
    expect(error).toMatchObject({ code: "InternalException" });
    expect((error as Error).message).toContain("InternalException");
    expect((error as Error).message).not.toContain(event.data.prompt);
    expect(published()).toHaveLength(1);

    await bus.publish(event);
    expect(published()).toHaveLength(2);
  });

  it("turns a failed entry (FailedEntryCount) into EventPublishError and records nothing", async () => {
    const { bus, published } = newBus();

    bridge.failNext(1, "entries");
    const error = await bus.publish(buildEvent()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EventPublishError);
    expect(error).toMatchObject({ code: "InternalFailure" });
    expect(published()).toEqual([]);
  });

  it("turns an unreachable endpoint into EventPublishError naming the network code", async () => {
    const closed = await startLocalEventBridge();
    await closed.stop();
    const bus = createEventBus({ busName: "gone", endpoint: closed.endpoint });

    await expect(bus.publish(buildEvent())).rejects.toMatchObject({
      name: "EventPublishError",
      code: "ECONNREFUSED",
    });
  });

  it("publishes an entry of exactly the 256 KB limit, and refuses one byte more without calling AWS", async () => {
    const { bus, published } = newBus();
    // EventBridge counts 14 bytes for Time plus Source, DetailType and Detail
    const base = JSON.stringify(buildTask({ prompt: "" })).length;
    const fill = MAX_ENTRY_BYTES - 14 - EVENT_SOURCE.length - "task.succeeded".length - base;
    const fits = buildEvent({ prompt: "p".repeat(fill) });
    const tooLarge = buildEvent({ prompt: "p".repeat(fill + 1) });

    await bus.publish(fits);
    expect(published().map((e) => e.detail)).toEqual([fits.data]);

    // an armed fault is consumed by the first call that reaches the server: it must survive
    bridge.failNext(1, "entries");
    await expect(bus.publish(tooLarge)).rejects.toMatchObject({
      name: "EventPublishError",
      code: "too_large",
    });
    await expect(bus.publish(buildEvent())).rejects.toMatchObject({ code: "InternalFailure" });
    expect(published()).toHaveLength(1);
  });
});

describe("startLocalEventBridge speaks PutEvents like EventBridge", () => {
  const entry = (busName: string, n: number): PutEventsRequestEntry => ({
    Source: "test",
    DetailType: "raw",
    Detail: JSON.stringify({ n }),
    EventBusName: busName,
  });

  it("answers more than 10 entries with a ValidationException and records none", async () => {
    const busName = `bus-${randomUUID()}`;
    const entries = Array.from({ length: 11 }, (_, n) => entry(busName, n));

    const error = await client.send(new PutEventsCommand({ Entries: entries })).catch((e) => e);

    expect(error).toMatchObject({
      name: "ValidationException",
      $metadata: { httpStatusCode: 400 },
    });
    expect(error.message).toContain("less than or equal to 10");
    expect(bridge.events().filter((e) => e.eventBusName === busName)).toEqual([]);
  });

  it("fails bad entries one by one and accepts the rest, in order", async () => {
    const busName = `bus-${randomUUID()}`;
    const entries: PutEventsRequestEntry[] = [
      entry(busName, 1),
      { ...entry(busName, 2), Source: undefined },
      { ...entry(busName, 3), DetailType: undefined },
      { ...entry(busName, 4), Detail: "not json" },
      { ...entry(busName, 5), Detail: "[1, 2]" },
      entry(busName, 6),
    ];

    const result = await client.send(new PutEventsCommand({ Entries: entries }));

    expect(result.FailedEntryCount).toBe(4);
    expect(result.Entries?.map((e) => e.ErrorCode ?? "ok")).toEqual([
      "ok",
      "InvalidArgument",
      "InvalidArgument",
      "MalformedDetail",
      "MalformedDetail",
      "ok",
    ]);
    expect(result.Entries?.[1]?.ErrorMessage).toContain("Source");
    const recorded = bridge.events().filter((e) => e.eventBusName === busName);
    expect(recorded.map((e) => e.detail)).toEqual([{ n: 1 }, { n: 6 }]);
    expect(recorded.map((e) => e.eventId)).toEqual([
      result.Entries?.[0]?.EventId,
      result.Entries?.[5]?.EventId,
    ]);
  });

  it("answers an operation it does not speak with UnknownOperationException", async () => {
    const error = await client.send(new ListRulesCommand({})).catch((e) => e);

    expect(error).toMatchObject({
      name: "UnknownOperationException",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("shows the recorded events at GET /_events", async () => {
    const { busName, bus } = newBus();
    const event = buildEvent();
    await bus.publish(event);

    const response = await fetch(`${bridge.endpoint}/_events`);
    const listed = (await response.json()) as { eventBusName: string; detail: unknown }[];

    expect(response.status).toBe(200);
    expect(listed.filter((e) => e.eventBusName === busName).map((e) => e.detail)).toEqual([
      event.data,
    ]);
  });

  it("forgets everything on clear()", async () => {
    const own = await startLocalEventBridge();
    try {
      const bus = createEventBus({ busName: "b", endpoint: own.endpoint });
      await bus.publish(buildEvent());
      expect(own.events()).toHaveLength(1);

      own.clear();

      expect(own.events()).toEqual([]);
    } finally {
      await own.stop();
    }
  });
});

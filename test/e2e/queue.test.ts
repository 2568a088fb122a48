import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqsClient } from "../../functions/queue/sqs-actions.ts";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * A pipeline as docs/queue-and-bus.md describes it, through the whole local stack: a
 * message sent with the real SQS client starts a task, and the pipeline hears back through its
 * webhook and the bus, without calling the HTTP API.
 */

let stack: TestStack;
let receiver: Server;
let receiverUrl: string;
const received: { type: string; data: { id: string; metadata: unknown } }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString("utf8");
    });
    req.on("end", () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  stack = await startTestStack({
    queue: { waitTimeSeconds: 1 },
    webhooks: { bus: { name: "pipeline" }, dispatchIntervalMs: 100 },
  });
});
afterAll(async () => {
  await stack?.stop();
  receiver?.close();
  receiver?.closeAllConnections();
});

describe("queue-fed submissions", () => {
  it("takes a message to a finished task, told back by webhook and on the bus", async () => {
    const queue = stack.queue;
    if (!queue) throw new Error("the stack has no queue");
    const sqs = createSqsClient({ endpoint: queue.endpoint });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: JSON.stringify({
          owner: "alice",
          prompt: "a paper boat from a pipeline",
          webhookUrl: receiverUrl,
          metadata: { job: 7 },
          idempotencyKey: "job-7",
        }),
      }),
    );
    const event = await eventually(
      async () => received.find((e) => e.type === "task.succeeded"),
      (e) => e !== undefined,
      20_000,
    );
    expect(event?.data.metadata).toEqual({ job: 7 });
    const task = await api(stack, OWNERS.alice.key).task(event?.data.id ?? "");
    expect(task.body).toMatchObject({ status: "SUCCESS", prompt: "a paper boat from a pipeline" });
    // the bus is another delivery of the same event: it may land a moment after the webhook
    const onBus = () =>
      (stack.eventBus?.events() ?? [])
        .filter((e) => e.detail.id === event?.data.id)
        .map((e) => e.detailType);
    expect(
      await eventually(
        async () => onBus(),
        (types) => types.length > 0,
      ),
    ).toEqual(["task.succeeded"]);
  });

  it("re-queues a message the upstream is too busy for, without telling anyone the attempt failed", async () => {
    const queue = stack.queue;
    if (!queue) throw new Error("the stack has no queue");
    const sqs = createSqsClient({ endpoint: queue.endpoint });
    const before = received.length;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: JSON.stringify({
          owner: "alice",
          prompt: "a boat for a full queue --sim-submit=queueFull",
          webhookUrl: receiverUrl,
        }),
      }),
    );
    const alice = api(stack, OWNERS.alice.key);
    const attempt = await eventually(
      async () =>
        (await alice.list("?status=FAILURE&limit=20")).body.items.find((t: { prompt: string }) =>
          t.prompt.includes("full queue"),
        ),
      (t) => t !== undefined,
      20_000,
    );
    expect(attempt.failReason).toMatch(/^upstream queue full/);
    // back on the queue, delayed, as attempt 2
    const waiting = await eventually(
      async () => queue.sqs.messages(queue.url),
      (m) => m.some((x) => x.attributes["paperboat-attempt"] === "2"),
    );
    expect(waiting.some((m) => m.attributes["paperboat-attempt"] === "2")).toBe(true);
    await stack.dispatchOnce();
    await stack.dispatchOnce();
    expect(received.slice(before).filter((e) => e.data.id === attempt.id)).toEqual([]);
    expect(stack.eventBus?.events().filter((e) => e.detail.id === attempt.id)).toEqual([]);
  });

  it("moves a malformed message to the dead letters with its reason, and goes on", async () => {
    const queue = stack.queue;
    if (!queue) throw new Error("the stack has no queue");
    const sqs = createSqsClient({ endpoint: queue.endpoint });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: JSON.stringify({ owner: "mallory", prompt: "x" }),
      }),
    );
    const dead = await eventually(
      async () => queue.sqs.messages(queue.deadLetterUrl),
      (m) => m.length > 0,
      20_000,
    );
    expect(dead[0]?.attributes["paperboat-reason"]).toMatch(/owner/);
  });
});

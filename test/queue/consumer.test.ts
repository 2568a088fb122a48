import { randomBytes, randomUUID } from "node:crypto";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "../../functions/core/ports.ts";
import { createStateToken } from "../../functions/core/state-token.ts";
import {
  ANSWER_WRITE_RETRIES,
  type SubmitDeps,
  submitImagine,
} from "../../functions/core/submit.ts";
import { createDocumentClient, createIdFactory, systemClock } from "../../functions/deps.ts";
import {
  consumeImagineBatch,
  type QueueConsumerDeps,
  type QueueRecord,
} from "../../functions/queue/consumer.ts";
import { createQueueActions, createSqsClient } from "../../functions/queue/sqs-actions.ts";
import { CALLBACK_PATH } from "../../functions/routes.ts";
import { createIdempotencyStore } from "../../functions/store/idempotency-store.ts";
import { createTaskStore } from "../../functions/store/task-store.ts";
import { createUpstreamClient } from "../../functions/upstream/client.ts";
import {
  type LocalSqs,
  type LocalSqsMessage,
  pollQueue,
  startLocalSqs,
} from "../../local/aws/sqs.ts";
import { type DynamoDbProxy, startDynamoDbProxy } from "../../local/dynamodb-proxy.ts";
import type { Simulator } from "../../local/simulator/index.ts";
import { type ManualClock, manualClock } from "../clock.ts";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * The queue consumer with real parts: the test stack (its simulator, callback and read API on
 * DynamoDB Local), the real submit path (core/submit.ts on the real stores and upstream
 * client), the SQS actions against the local SQS, and a fault-injecting proxy in front of
 * DynamoDB Local for store outages.
 */
const callbackSecret = "queue-consumer-secret-0123456789";
let stack: TestStack;
let simulator: Simulator;
let sqs: LocalSqs;
let sqsClient: SQSClient;
let proxy: DynamoDbProxy;
let alice: ReturnType<typeof api>;
let bob: ReturnType<typeof api>;

beforeAll(async () => {
  stack = await startTestStack({ callbackSecret });
  simulator = stack.simulator as Simulator;
  sqs = await startLocalSqs();
  sqsClient = createSqsClient({ endpoint: sqs.endpoint });
  proxy = await startDynamoDbProxy(stack.dynamodbEndpoint);
  alice = api(stack, OWNERS.alice.key);
  bob = api(stack, OWNERS.bob.key);
});
afterEach(() => {
  proxy.setFault(null);
  proxy.reset();
  simulator.setFaults({ submitFailure: 0 });
});
afterAll(async () => {
  sqsClient.destroy();
  await proxy.stop();
  await sqs.stop();
  await stack.stop();
});

/** Real SubmitDeps on the stack's table, as functions/compose/submit.ts builds them. */
function submitDeps(
  options: {
    endpoint?: string;
    maxAttempts?: number;
    lockSeconds?: number;
    upstreamTimeoutMs?: number;
    clock?: ManualClock;
    /** the answer-write's backoff waits, recorded as they pass on `clock` instead of slept */
    waits?: number[];
  } = {},
): SubmitDeps {
  const { clock, waits } = options;
  const client = createDocumentClient({
    endpoint: options.endpoint ?? stack.dynamodbEndpoint,
    maxAttempts: options.maxAttempts,
  });
  return {
    store: createTaskStore({ client, tableName: stack.tableName }),
    idempotency: createIdempotencyStore({ client, tableName: stack.tableName }),
    idempotencyLockSeconds: options.lockSeconds ?? 40,
    upstream: createUpstreamClient({
      baseUrl: stack.upstreamUrl,
      apiKey: "sim-local-key",
      timeoutMs: options.upstreamTimeoutMs ?? 10_000,
    }),
    clock: clock ?? systemClock,
    sleep: clock
      ? async (ms) => {
          waits?.push(ms);
          clock.advance(ms);
        }
      : undefined,
    newId: createIdFactory(),
    log: { info() {}, warn() {}, error() {} },
    callbackSecret,
    callbackUrl: `${stack.url}${CALLBACK_PATH}`,
  };
}

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** A consumer on fresh queues (main + DLQ); `route` picks the submit deps per owner. */
function consumer(
  route: (owner: string) => SubmitDeps = (() => {
    const deps = submitDeps();
    return () => deps;
  })(),
) {
  const dlq = sqs.createQueue(`dlq-${randomBytes(4).toString("hex")}`);
  const queue = sqs.createQueue(`imagine-${randomBytes(4).toString("hex")}`, {
    deadLetterQueue: dlq,
    maxReceiveCount: 3,
  });
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields });
  const log: Logger = { info: at("info"), warn: at("warn"), error: at("error") };
  const deps: QueueConsumerDeps = {
    owners: new Set([OWNERS.alice.owner, OWNERS.bob.owner]),
    submitImagine: (owner, input, key) => submitImagine(route(owner), owner, input, key),
    ...createQueueActions({ queueUrl: queue, deadLetterQueueUrl: dlq, endpoint: sqs.endpoint }),
    log,
  };
  const deadLettered = () =>
    new Map(
      sqs.messages(dlq).map((m) => [m.attributes["paperboat-source-message-id"] as string, m]),
    );
  return { deps, queue, dlq, lines, deadLettered };
}

/** An SQS event record, as Lambda delivers it. */
function record(body: unknown, receiveCount = 1): QueueRecord {
  return {
    messageId: randomUUID(),
    body: typeof body === "string" ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: String(receiveCount) },
    messageAttributes: {},
  };
}

/** The same message delivered again by SQS. */
const redelivered = (r: QueueRecord): QueueRecord => ({
  ...r,
  attributes: {
    ApproximateReceiveCount: String(Number(r.attributes?.ApproximateReceiveCount) + 1),
  },
});

/** A message of the local SQS as the event source mapping would deliver it. */
function delivered(message: LocalSqsMessage): QueueRecord {
  return {
    messageId: message.messageId,
    body: message.body,
    attributes: { ApproximateReceiveCount: "1" },
    messageAttributes: Object.fromEntries(
      Object.entries(message.attributes).map(([name, value]) => [
        name,
        { stringValue: value, dataType: name === "paperboat-attempt" ? "Number" : "String" },
      ]),
    ),
  };
}

const uniquePrompt = (words: string) => `${words} ${randomBytes(3).toString("hex")}`;

async function tasksWithPrompt(prompt: string, client = alice) {
  const page = await client.list("?limit=100");
  return (page.body.items as { id: string; prompt: string; status: string }[]).filter(
    (t) => t.prompt === prompt,
  );
}

const jobsOf = (taskId: string) =>
  simulator.stats().jobsByState[createStateToken(callbackSecret, taskId)] ?? 0;

describe("a batch: one record's outcome never decides another's", () => {
  it("submits the good message once and dead-letters the malformed ones with reasons", async () => {
    const { deps, queue, lines, deadLettered } = consumer();
    const prompt = uniquePrompt("a paper boat at dawn");
    const good = record({ owner: "alice", prompt, metadata: { batch: 1 } });
    const notJson = record("{prompt: oops");
    const unknownOwner = record({ owner: "mallory", prompt: "mallory's secret plans" });
    const badSchema = record({ owner: "alice", prompt: "   " });
    const jobsBefore = simulator.stats().jobsCreated;

    const answer = await consumeImagineBatch(deps, [good, notJson, unknownOwner, badSchema]);

    expect(answer).toEqual({ batchItemFailures: [] });
    const tasks = await tasksWithPrompt(prompt);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.status).not.toBe("FAILURE");
    expect(jobsOf(tasks[0]?.id ?? "")).toBe(1);
    expect(simulator.stats().jobsCreated - jobsBefore).toBe(1);

    const dead = deadLettered();
    expect(dead.size).toBe(3);
    expect(dead.get(notJson.messageId)?.attributes["paperboat-reason"]).toBe("body: not JSON");
    expect(dead.get(unknownOwner.messageId)?.attributes["paperboat-reason"]).toBe(
      "owner: unknown owner",
    );
    expect(dead.get(badSchema.messageId)?.attributes["paperboat-reason"]).toBe(
      "prompt: prompt must not be empty",
    );
    // the DLQ keeps the message as it came, to be looked at or moved back
    expect(dead.get(unknownOwner.messageId)?.body).toBe(unknownOwner.body);
    expect(sqs.messages(queue)).toEqual([]);

    // each logged once with its id and reason, and no body is ever logged
    const logged = lines.filter((l) => l.message === "queue message dead-lettered");
    expect(logged.map((l) => l.fields.messageId).sort()).toEqual(
      [notJson, unknownOwner, badSchema].map((r) => r.messageId).sort(),
    );
    expect(JSON.stringify(lines)).not.toContain("secret plans");
  });

  it.each<[string, unknown, Record<string, { stringValue: string; dataType: string }>, RegExp]>([
    ["a JSON array", [], {}, /^\(body\): .*expected object/],
    ["no owner", { prompt: "p" }, {}, /^owner: /],
    ["an unknown field", { owner: "alice", prompt: "p", colour: "red" }, {}, /^\(body\): .*colour/],
    ["an unknown botType", { owner: "alice", prompt: "p", botType: "DALL_E" }, {}, /^botType: /],
    [
      "a non-ASCII idempotencyKey",
      { owner: "alice", prompt: "p", idempotencyKey: "ключ" },
      {},
      /^idempotencyKey: must be 1 to 255 printable ASCII characters$/,
    ],
    [
      "an idempotencyKey over 255 characters",
      { owner: "alice", prompt: "p", idempotencyKey: "k".repeat(256) },
      {},
      /^idempotencyKey: /,
    ],
    [
      "a webhookUrl that is not a URL",
      { owner: "alice", prompt: "p", webhookUrl: "not a url" },
      {},
      /^webhookUrl: /,
    ],
    [
      "an attempt attribute that is not a number",
      { owner: "alice", prompt: "p" },
      { "paperboat-attempt": { stringValue: "two", dataType: "Number" } },
      /^paperboat-attempt: not a positive integer$/,
    ],
  ])(
    "%s is dead-lettered with a reason naming the field",
    async (_name, body, attributes, reason) => {
      const { deps, deadLettered } = consumer();
      const message = { ...record(body), messageAttributes: attributes };
      const jobsBefore = simulator.stats().jobsCreated;
      expect(await consumeImagineBatch(deps, [message])).toEqual({ batchItemFailures: [] });
      expect(deadLettered().get(message.messageId)?.attributes["paperboat-reason"]).toMatch(reason);
      expect(simulator.stats().jobsCreated).toBe(jobsBefore);
    },
  );

  it("a dead-letter queue that refuses the message leaves the record to SQS", async () => {
    const { deps } = consumer();
    const broken = createQueueActions({
      queueUrl: `${sqs.endpoint}/000000000000/gone`,
      deadLetterQueueUrl: `${sqs.endpoint}/000000000000/gone-dlq`,
      endpoint: sqs.endpoint,
    });
    const message = record("not json");
    const answer = await consumeImagineBatch({ ...deps, ...broken }, [message]);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: message.messageId }] });
  });
});

describe("at-least-once delivery", () => {
  it("the same message delivered twice makes one task and one upstream job", async () => {
    const { deps } = consumer();
    const prompt = uniquePrompt("twice delivered");
    const message = record({ owner: "alice", prompt });
    expect(await consumeImagineBatch(deps, [message])).toEqual({ batchItemFailures: [] });
    expect(await consumeImagineBatch(deps, [redelivered(message)])).toEqual({
      batchItemFailures: [],
    });
    const tasks = await tasksWithPrompt(prompt);
    expect(tasks).toHaveLength(1);
    expect(jobsOf(tasks[0]?.id ?? "")).toBe(1);
  });

  it("two messages with one idempotencyKey and body make one task; another body is dead-lettered", async () => {
    const { deps, deadLettered } = consumer();
    const prompt = uniquePrompt("keyed");
    const idempotencyKey = `pipeline-run-${randomUUID()}`;
    const first = record({ owner: "alice", prompt, idempotencyKey });
    const copy = record({ owner: "alice", prompt, idempotencyKey });
    const other = record({ owner: "alice", prompt: `${prompt} but different`, idempotencyKey });
    expect(await consumeImagineBatch(deps, [first])).toEqual({ batchItemFailures: [] });
    expect(await consumeImagineBatch(deps, [copy, other])).toEqual({ batchItemFailures: [] });

    const tasks = await tasksWithPrompt(prompt);
    expect(tasks).toHaveLength(1);
    expect(jobsOf(tasks[0]?.id ?? "")).toBe(1);
    expect(await tasksWithPrompt(`${prompt} but different`)).toEqual([]);
    expect(deadLettered().get(other.messageId)?.attributes["paperboat-reason"]).toBe(
      "idempotencyKey: already used with a different request",
    );
    expect(deadLettered().has(copy.messageId)).toBe(false);
  });

  it("a copy arriving while the first is still running is a batch item failure, then replays", async () => {
    const { deps } = consumer(() => submitDeps({ upstreamTimeoutMs: 1500 }));
    // the upstream holds this submit past our timeout: the first stays "running" meanwhile
    const prompt = uniquePrompt("slow upstream --sim-submit=timeout");
    const idempotencyKey = `slow-${randomUUID()}`;
    const first = record({ owner: "alice", prompt, idempotencyKey });
    const copy = record({ owner: "alice", prompt, idempotencyKey });

    const answer = await consumeImagineBatch(deps, [first, copy]);
    expect(answer.batchItemFailures).toHaveLength(1);
    const failedId = answer.batchItemFailures[0]?.itemIdentifier;
    expect([first.messageId, copy.messageId]).toContain(failedId);

    // SQS delivers it again: the first answer (unavailable, recorded as FAILURE) is replayed
    const again = failedId === first.messageId ? first : copy;
    expect(await consumeImagineBatch(deps, [redelivered(again)])).toEqual({
      batchItemFailures: [],
    });
    const tasks = await tasksWithPrompt(prompt);
    expect(tasks.map((t) => t.status)).toEqual(["FAILURE"]);
  });
});

describe("upstream answers", () => {
  it("busy: the message is re-sent with the upstream's delay as attempt 2, which is a new attempt", async () => {
    const { deps, queue, lines } = consumer();
    const prompt = uniquePrompt("while the upstream is busy");
    const message = record({ owner: "alice", prompt });
    simulator.setFaults({ submitFailure: 1, submitFailureKinds: ["queueFull"] });
    const sentAt = Date.now();

    expect(await consumeImagineBatch(deps, [message])).toEqual({ batchItemFailures: [] });

    const [requeued, ...more] = sqs.messages(queue);
    expect(more).toEqual([]);
    expect(requeued).toMatchObject({
      body: message.body,
      receiveCount: 0,
      attributes: { "paperboat-attempt": "2", "paperboat-origin-message-id": message.messageId },
    });
    // no Retry-After from the upstream: its default 30 s
    expect((requeued?.visibleAt ?? 0) - sentAt).toBeGreaterThanOrEqual(29_000);
    expect(
      lines.find((l) => l.message === "queued imagine re-queued: upstream busy")?.fields,
    ).toMatchObject({ messageId: message.messageId, attempt: 1, delaySeconds: 30 });
    const [busyTask] = await tasksWithPrompt(prompt);
    expect(busyTask?.status).toBe("FAILURE");

    // the upstream has room again; SQS delivers attempt 2 when its delay is over
    simulator.setFaults({ submitFailure: 0 });
    const attempt2 = delivered(requeued as LocalSqsMessage);
    expect(await consumeImagineBatch(deps, [attempt2])).toEqual({ batchItemFailures: [] });
    const tasks = await tasksWithPrompt(prompt);
    expect(tasks).toHaveLength(2);
    const started = tasks.find((t) => t.id !== busyTask?.id);
    expect(started?.status).not.toBe("FAILURE");
    expect(jobsOf(started?.id ?? "")).toBe(1);

    // the original, delivered again (its delete was lost): its busy answer is replayed and it
    // is re-queued again, but that copy of attempt 2 shares its key: no second job
    const jobsBefore = simulator.stats().jobsCreated;
    expect(await consumeImagineBatch(deps, [redelivered(message)])).toEqual({
      batchItemFailures: [],
    });
    const copy = sqs.messages(queue).find((m) => m.messageId !== requeued?.messageId);
    expect(copy?.attributes).toMatchObject({
      "paperboat-attempt": "2",
      "paperboat-origin-message-id": message.messageId,
    });
    expect(await consumeImagineBatch(deps, [delivered(copy as LocalSqsMessage)])).toEqual({
      batchItemFailures: [],
    });
    expect(await tasksWithPrompt(prompt)).toHaveLength(2);
    expect(simulator.stats().jobsCreated).toBe(jobsBefore);
  });

  it("the owner's limit reached: re-sent as the same attempt after its Retry-After, submitted once the limit allows", async () => {
    const { deps, queue, deadLettered, lines } = consumer();
    const admin = api(stack, stack.adminKey);
    const prompt = uniquePrompt("over the owner's limit");
    const message = record({ owner: "alice", prompt });
    expect(
      (await admin.call("PUT", "/v1/admin/owners/alice/limits", { concurrent: 0 })).status,
    ).toBe(200);
    try {
      expect(await consumeImagineBatch(deps, [message])).toEqual({ batchItemFailures: [] });
      const [requeued, ...more] = sqs.messages(queue);
      expect(more).toEqual([]);
      expect(requeued?.body).toBe(message.body);
      expect(deadLettered().size).toBe(0);
      expect(
        lines.find((l) => l.message === "queued imagine re-queued: owner's limit reached")?.fields,
      ).toMatchObject({ limit: "concurrent", attempt: 1, delaySeconds: 30 });
      expect(await tasksWithPrompt(prompt)).toEqual([]);

      expect(
        (await admin.call("PUT", "/v1/admin/owners/alice/limits", { concurrent: null })).status,
      ).toBe(200);
      expect(await consumeImagineBatch(deps, [delivered(requeued as LocalSqsMessage)])).toEqual({
        batchItemFailures: [],
      });
      const tasks = await tasksWithPrompt(prompt);
      expect(tasks).toHaveLength(1);
      expect(tasks[0]?.status).not.toBe("FAILURE");
    } finally {
      await admin.call("PUT", "/v1/admin/owners/alice/limits", { concurrent: null });
    }
  });

  it("busy on attempt 20: dead-lettered, not re-queued", async () => {
    const { deps, queue, deadLettered } = consumer();
    const message: QueueRecord = {
      ...record({ owner: "alice", prompt: uniquePrompt("never room") }),
      messageAttributes: { "paperboat-attempt": { stringValue: "20", dataType: "Number" } },
    };
    simulator.setFaults({ submitFailure: 1, submitFailureKinds: ["queueFull"] });
    expect(await consumeImagineBatch(deps, [message])).toEqual({ batchItemFailures: [] });
    expect(sqs.messages(queue)).toEqual([]);
    expect(deadLettered().get(message.messageId)?.attributes["paperboat-reason"]).toBe(
      "upstream busy after 20 attempts",
    );
  });

  it("a failing re-queue leaves the record to SQS", async () => {
    const { deps, dlq } = consumer();
    const broken = createQueueActions({
      queueUrl: `${sqs.endpoint}/000000000000/gone`,
      deadLetterQueueUrl: dlq,
      endpoint: sqs.endpoint,
    });
    const message = record({ owner: "alice", prompt: uniquePrompt("requeue breaks") });
    simulator.setFaults({ submitFailure: 1, submitFailureKinds: ["queueFull"] });
    expect(await consumeImagineBatch({ ...deps, ...broken }, [message])).toEqual({
      batchItemFailures: [{ itemIdentifier: message.messageId }],
    });
  });

  it.each([
    ["a banned prompt (rejected)", "--sim-banned", "upstream_rejected"],
    ["a refused submit (rejected)", "--sim-submit=refused", "upstream_rejected"],
    ["an upstream 500 (unavailable)", "--sim-submit=http500", "upstream_unavailable"],
  ])("%s: handled, the task is FAILURE, nothing is retried", async (_name, directive, code) => {
    const { deps, queue, lines, deadLettered } = consumer();
    const prompt = uniquePrompt(`refused ${directive}`);
    const message = record({ owner: "alice", prompt });
    const jobsBefore = simulator.stats().jobsCreated;

    expect(await consumeImagineBatch(deps, [message])).toEqual({ batchItemFailures: [] });
    expect(await consumeImagineBatch(deps, [redelivered(message)])).toEqual({
      batchItemFailures: [],
    });

    const tasks = await tasksWithPrompt(prompt);
    expect(tasks.map((t) => t.status)).toEqual(["FAILURE"]);
    expect(sqs.messages(queue)).toEqual([]);
    expect(deadLettered().size).toBe(0);
    expect(simulator.stats().jobsCreated).toBe(jobsBefore);
    expect(lines.find((l) => l.message === "queued imagine failed upstream")?.fields).toMatchObject(
      { messageId: message.messageId, taskId: tasks[0]?.id, code },
    );
  });
});

describe("store outages", () => {
  it("the record whose store fails is a batch item failure; the others are submitted", async () => {
    // bob's requests meet an outage (every DynamoDB call answers 500); alice's do not
    const healthy = submitDeps();
    const failing = submitDeps({ endpoint: proxy.endpoint, maxAttempts: 1 });
    const { deps } = consumer((owner) => (owner === "bob" ? failing : healthy));
    const alicePrompt = uniquePrompt("healthy store");
    const bobPrompt = uniquePrompt("store outage");
    const ok = record({ owner: "alice", prompt: alicePrompt });
    const hit = record({ owner: "bob", prompt: bobPrompt });
    proxy.setFault({ kind: "error500" });
    const jobsBefore = simulator.stats().jobsCreated;

    expect(await consumeImagineBatch(deps, [ok, hit])).toEqual({
      batchItemFailures: [{ itemIdentifier: hit.messageId }],
    });
    expect(await tasksWithPrompt(alicePrompt)).toHaveLength(1);
    expect(await tasksWithPrompt(bobPrompt, bob)).toEqual([]);
    expect(simulator.stats().jobsCreated - jobsBefore).toBe(1);

    // the outage ends; SQS delivers bob's message again
    proxy.setFault(null);
    expect(await consumeImagineBatch(deps, [redelivered(hit)])).toEqual({ batchItemFailures: [] });
    const tasks = await tasksWithPrompt(bobPrompt, bob);
    expect(tasks).toHaveLength(1);
    expect(jobsOf(tasks[0]?.id ?? "")).toBe(1);
  });

  it("an outage after the upstream accepted: redelivered, it finds the task, no second job", async () => {
    const clock = manualClock(Date.now());
    const waits: number[] = [];
    const deps = submitDeps({
      endpoint: proxy.endpoint,
      maxAttempts: 1,
      lockSeconds: 1,
      clock,
      waits,
    });
    const { deps: consumerDeps } = consumer(() => deps);
    const prompt = uniquePrompt("answer write lost");
    const message = record({ owner: "alice", prompt });
    // the key and task are written (a transaction); the write of the upstream's answer fails
    proxy.setFault({ kind: "error500", operations: ["UpdateItem"] });

    expect(await consumeImagineBatch(consumerDeps, [message])).toEqual({
      batchItemFailures: [{ itemIdentifier: message.messageId }],
    });
    // the answer-write was tried again after each of its backoffs, then given up
    expect(waits).toEqual(ANSWER_WRITE_RETRIES);
    expect(proxy.faulted().UpdateItem).toBe(ANSWER_WRITE_RETRIES.length + 1);
    const [task] = await tasksWithPrompt(prompt);
    expect(task).toBeDefined();
    expect(jobsOf(task?.id ?? "")).toBe(1);

    proxy.setFault(null);
    clock.advance(1_000); // past the key's lock
    expect(await consumeImagineBatch(consumerDeps, [redelivered(message)])).toEqual({
      batchItemFailures: [],
    });
    expect(await tasksWithPrompt(prompt)).toHaveLength(1);
    expect(jobsOf(task?.id ?? "")).toBe(1);
  });
});

describe("through SQS end to end", () => {
  it("SendMessage → the poller → consumeImagineBatch → a task; a malformed one → the DLQ", async () => {
    const { deps, queue, deadLettered } = consumer();
    const poller = pollQueue({
      client: sqsClient,
      queueUrl: queue,
      waitTimeSeconds: 1,
      handle: (records) => consumeImagineBatch(deps, records),
    });
    try {
      const prompt = uniquePrompt("by queue");
      await sqsClient.send(
        new SendMessageCommand({
          QueueUrl: queue,
          MessageBody: JSON.stringify({ owner: "alice", prompt, botType: "NIJI_JOURNEY" }),
        }),
      );
      const bad = await sqsClient.send(
        new SendMessageCommand({ QueueUrl: queue, MessageBody: JSON.stringify({ prompt }) }),
      );

      const tasks = await eventually(
        () => tasksWithPrompt(prompt),
        (t) => t.length === 1 && t[0]?.status === "SUCCESS",
      );
      expect(tasks).toHaveLength(1);
      expect(tasks[0]?.status).toBe("SUCCESS");
      expect(jobsOf(tasks[0]?.id ?? "")).toBe(1);
      expect(deadLettered().get(bad.MessageId ?? "")?.attributes["paperboat-reason"]).toMatch(
        /^owner: /,
      );
      expect(
        await eventually(
          async () => sqs.messages(queue),
          (m) => m.length === 0,
        ),
      ).toEqual([]);
    } finally {
      await poller.stop();
    }
  });
});

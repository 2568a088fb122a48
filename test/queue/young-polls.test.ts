import { randomBytes } from "node:crypto";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scheduleYoungPollsFor } from "../../functions/compose/schedule-young-polls.ts";
import { YOUNG_POLLS_SETTINGS } from "../../functions/compose/settings.ts";
import { composeYoungPollConsumer } from "../../functions/compose/young-polls.ts";
import { loadSettings } from "../../functions/config.ts";
import { submitImagine } from "../../functions/core/submit.ts";
import { createDocumentClient, createIdFactory, systemClock } from "../../functions/deps.ts";
import { createSqsClient } from "../../functions/queue/sqs-actions.ts";
import { CALLBACK_PATH } from "../../functions/routes.ts";
import { createIdempotencyStore } from "../../functions/store/idempotency-store.ts";
import { createTaskStore } from "../../functions/store/task-store.ts";
import { createUpstreamClient } from "../../functions/upstream/client.ts";
import { type LocalSqs, pollQueue, startLocalSqs } from "../../local/aws/sqs.ts";
import type { Simulator } from "../../local/simulator/index.ts";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * Young polls on AWS with real parts: the submit path sends a started task's four delayed
 * messages (3, 10, 20, 40 s) to the local SQS; the consumer, driven by SQS batches as Lambda
 * drives it, polls the tasks they name against the simulator on DynamoDB Local. The simulator
 * drops every webhook here, so only the polls can move a task.
 */
const NOW = Date.parse("2026-01-01T00:00:00Z");
let stack: TestStack;
let simulator: Simulator;
let sqs: LocalSqs;
let sqsClient: SQSClient;
let alice: ReturnType<typeof api>;

beforeAll(async () => {
  stack = await startTestStack({ simulator: { faults: { dropWebhooks: 1 } } });
  simulator = stack.simulator as Simulator;
  // a still clock: a message's visibleAt is exactly its delay after NOW
  sqs = await startLocalSqs({ clock: { now: () => new Date(NOW), after: () => () => {} } });
  sqsClient = createSqsClient({ endpoint: sqs.endpoint });
  alice = api(stack, OWNERS.alice.key);
});
afterAll(async () => {
  sqsClient.destroy();
  await sqs.stop();
  await stack.stop();
});

const quiet = { info() {}, warn() {}, error() {} };

function submitDeps(scheduleYoungPolls?: (taskId: string) => Promise<void>) {
  const client = createDocumentClient({ endpoint: stack.dynamodbEndpoint });
  return {
    store: createTaskStore({ client, tableName: stack.tableName }),
    idempotency: createIdempotencyStore({ client, tableName: stack.tableName }),
    idempotencyLockSeconds: 40,
    upstream: createUpstreamClient({
      baseUrl: stack.upstreamUrl,
      apiKey: "sim-local-key",
      timeoutMs: 10_000,
    }),
    clock: systemClock,
    newId: createIdFactory(),
    log: quiet,
    callbackSecret: "young-polls-secret-0123456789abcdef",
    callbackUrl: `${stack.url}${CALLBACK_PATH}`,
    scheduleYoungPolls,
  };
}

function consumer() {
  return composeYoungPollConsumer(
    loadSettings(
      {
        TABLE_NAME: stack.tableName,
        DYNAMODB_ENDPOINT: stack.dynamodbEndpoint,
        MJ_API_BASE_URL: stack.upstreamUrl,
        MJ_API_KEY: "sim-local-key",
        UPSTREAM_TIMEOUT_MS: "10000",
      },
      YOUNG_POLLS_SETTINGS,
    ),
    { log: quiet },
  );
}

describe("young polls through SQS", () => {
  it("a submit sends one message per poll time, each delayed by it", async () => {
    const queueUrl = sqs.createQueue(`young-${randomBytes(4).toString("hex")}`);
    const schedule = scheduleYoungPollsFor(
      { YOUNG_POLLS_QUEUE_URL: queueUrl, SQS_ENDPOINT: sqs.endpoint },
      { sqsClient },
    );
    expect(schedule).toBeDefined();
    const task = await submitImagine(submitDeps(schedule), "alice", { prompt: "a young boat" });
    expect(task.status).toBe("SUBMITTED");
    const messages = sqs.messages(queueUrl);
    expect(messages.map((m) => JSON.parse(m.body))).toEqual(Array(4).fill({ taskId: task.id }));
    expect(messages.map((m) => (m.visibleAt - NOW) / 1000).sort((a, b) => a - b)).toEqual([
      3, 10, 20, 40,
    ]);
    // without the queue configured there is no sender (the local stack polls itself)
    expect(scheduleYoungPollsFor({})).toBeUndefined();
  });

  it("a refused task sends none; a queue that cannot be reached does not fail the submit", async () => {
    const queueUrl = sqs.createQueue(`young-${randomBytes(4).toString("hex")}`);
    const schedule = scheduleYoungPollsFor(
      { YOUNG_POLLS_QUEUE_URL: queueUrl, SQS_ENDPOINT: sqs.endpoint },
      { sqsClient },
    );
    const refused = await submitImagine(submitDeps(schedule), "alice", {
      prompt: "a boat --sim-submit=bannedPrompt",
    }).catch((error: { code?: string }) => error);
    expect(refused).toMatchObject({ code: "upstream_rejected" });
    expect(sqs.messages(queueUrl)).toEqual([]);
    const broken = scheduleYoungPollsFor({
      YOUNG_POLLS_QUEUE_URL: `${sqs.endpoint}/000000000000/no-such-queue`,
      SQS_ENDPOINT: sqs.endpoint,
    });
    const task = await submitImagine(submitDeps(broken), "alice", { prompt: "a sturdy boat" });
    expect(task.status).toBe("SUBMITTED");
  });

  it("the consumer polls the tasks its messages name, and drops malformed messages", async () => {
    const queueUrl = sqs.createQueue(`young-${randomBytes(4).toString("hex")}`);
    const submitted = await alice.imagine({ prompt: "a boat nobody hears from" });
    expect(submitted.body.status).toBe("SUBMITTED");
    await simulator.idle();
    // finished upstream, but its webhooks were dropped: still SUBMITTED here
    expect((await alice.task(submitted.body.id)).body.status).toBe("SUBMITTED");

    for (const body of [JSON.stringify({ taskId: submitted.body.id }), "not json", "{}"]) {
      await sqsClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    }
    const poller = pollQueue({
      client: sqsClient,
      queueUrl,
      waitTimeSeconds: 0,
      handle: consumer(),
    });
    try {
      const done = await eventually(
        () => alice.task(submitted.body.id),
        (r) => r.body?.status === "SUCCESS",
      );
      expect(done.body).toMatchObject({ status: "SUCCESS", imageUrl: expect.any(String) });
      // every message was taken (none failed back): a poll is never retried
      await eventually(
        async () => sqs.messages(queueUrl).length,
        (n) => n === 0,
      );
    } finally {
      await poller.stop();
    }
  });
});

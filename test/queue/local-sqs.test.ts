import { randomBytes } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
  SQSServiceException,
  TooManyEntriesInBatchRequest,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QueueRecord } from "../../functions/queue/consumer.ts";
import { createSqsClient } from "../../functions/queue/sqs-actions.ts";
import {
  type LocalSqs,
  messageAttributesMd5,
  pollQueue,
  startLocalSqs,
} from "../../local/aws/sqs.ts";
import { manualClock } from "../clock.ts";
import { eventually } from "../eventually.ts";

/** The real SDK client, over HTTP, with its MD5 checksum validation on (the default). */
let sqs: LocalSqs;
let client: SQSClient;
/**
 * A second local SQS on a clock that moves only by `advance()`: delays, visibility timeouts and
 * long polls pass without sleeping, and a long poll that answers did not run out its wait.
 */
const clock = manualClock();
let timed: LocalSqs;
let timedClient: SQSClient;

beforeAll(async () => {
  sqs = await startLocalSqs();
  client = createSqsClient({ endpoint: sqs.endpoint });
  timed = await startLocalSqs({ clock });
  timedClient = createSqsClient({ endpoint: timed.endpoint });
});
afterAll(async () => {
  client.destroy();
  timedClient.destroy();
  await sqs.stop();
  await timed.stop();
});

const queueName = (prefix = "q") => `${prefix}-${randomBytes(4).toString("hex")}`;

async function counts(queueUrl: string, on = client) {
  const { Attributes = {} } = await on.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed),
  };
}

async function receive(
  queueUrl: string,
  options: { wait?: number; visibility?: number } = {},
  on = client,
) {
  const { Messages = [] } = await on.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: options.wait ?? 0,
      VisibilityTimeout: options.visibility,
      MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      MessageAttributeNames: ["All"],
    }),
  );
  return Messages;
}

describe("MD5OfMessageAttributes", () => {
  // digests AWS returned for these attributes, as pinned by moto's SQS tests
  it.each<
    [
      string,
      Record<string, { DataType: string; StringValue?: string; BinaryValue?: Uint8Array }>,
      string,
    ]
  >([
    [
      "one Number",
      { timestamp: { DataType: "Number", StringValue: "1493147359900" } },
      "235c5c510d26fb653d073faed50ae77c",
    ],
    [
      "another Number",
      { timestamp: { DataType: "Number", StringValue: "1493147359901" } },
      "994258b45346a2cc3f9cbb611aa7af30",
    ],
    [
      "String, Binary, Number and non-ASCII, in order of name",
      {
        ccc: { DataType: "String", StringValue: "testjunk" },
        aaa: { DataType: "Binary", BinaryValue: new Uint8Array([2, 3, 4]) },
        zzz: { DataType: "Number", StringValue: "0230.01" },
        öther_encodings: { DataType: "String", StringValue: "Tüst" },
      },
      "8ae21a7957029ef04146b42aeaa18a22",
    ],
  ])("%s", (_name, attributes, digest) => {
    expect(messageAttributesMd5(attributes)).toBe(digest);
  });
});

describe("the local SQS, through @aws-sdk/client-sqs", () => {
  it("creates queues over the API and finds their URL", async () => {
    const name = queueName();
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "5" } }),
    );
    expect(QueueUrl).toBe(`${sqs.endpoint}/000000000000/${name}`);
    expect((await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl).toBe(
      QueueUrl,
    );
    // the same again is the same queue; another value for an attribute is refused
    const again = await client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "5" } }),
    );
    expect(again.QueueUrl).toBe(QueueUrl);
    await expect(
      client.send(
        new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "9" } }),
      ),
    ).rejects.toBeInstanceOf(QueueNameExists);
  });

  it("sends, receives and deletes a message", async () => {
    const queueUrl = sqs.createQueue(queueName());
    const sent = await client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "héllo 🌊 <&>" }),
    );
    expect(sent.MessageId).toEqual(expect.any(String));
    expect(sent.MD5OfMessageAttributes).toBeUndefined();

    const [message, ...rest] = await receive(queueUrl);
    expect(rest).toEqual([]);
    expect(message).toMatchObject({
      MessageId: sent.MessageId,
      Body: "héllo 🌊 <&>",
      MD5OfBody: sent.MD5OfMessageBody,
      Attributes: { ApproximateReceiveCount: "1" },
    });
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 1, delayed: 0 });

    await client.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message?.ReceiptHandle }),
    );
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(sqs.messages(queueUrl)).toEqual([]);
    // deleting again is no error, as on SQS
    await client.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message?.ReceiptHandle }),
    );
    await expect(
      client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: "garbage" })),
    ).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
  });

  it("ChangeMessageVisibility to 0 makes a message receivable at once", async () => {
    const queueUrl = sqs.createQueue(queueName());
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "release" }));
    const [message] = await receive(queueUrl, { visibility: 600 });
    expect(await receive(queueUrl)).toEqual([]);
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: message?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const [again] = await receive(queueUrl);
    expect(again).toMatchObject({ MessageId: message?.MessageId });
    expect(again?.Attributes?.ApproximateReceiveCount).toBe("2");
  });

  it("batches: entries succeed or fail one by one", async () => {
    const queueUrl = sqs.createQueue(queueName());
    const sent = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: "a", MessageBody: "one" },
          { Id: "b", MessageBody: "bad \u0000 character" },
          { Id: "c", MessageBody: "two", DelaySeconds: 0 },
        ],
      }),
    );
    expect(sent.Successful?.map((e) => e.Id)).toEqual(["a", "c"]);
    expect(sent.Failed).toEqual([
      expect.objectContaining({ Id: "b", SenderFault: true, Code: "InvalidMessageContents" }),
    ]);

    const messages = await receive(queueUrl);
    expect(messages.map((m) => m.Body).sort()).toEqual(["one", "two"]);
    const deleted = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          ...messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle })),
          { Id: "bogus", ReceiptHandle: "not-a-handle" },
        ],
      }),
    );
    expect(deleted.Successful?.map((e) => e.Id)).toEqual(["m0", "m1"]);
    expect(deleted.Failed).toEqual([
      expect.objectContaining({ Id: "bogus", Code: "ReceiptHandleIsInvalid" }),
    ]);
    expect(sqs.messages(queueUrl)).toEqual([]);

    await expect(
      client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: "x" })),
        }),
      ),
    ).rejects.toBeInstanceOf(TooManyEntriesInBatchRequest);
  });

  it("round-trips message attributes with their MD5 as SQS computes it", async () => {
    const queueUrl = sqs.createQueue(queueName());
    const attributes = {
      timestamp: { DataType: "Number", StringValue: "1493147359900" },
    };
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: "with attributes",
        MessageAttributes: attributes,
      }),
    );
    expect(sent.MD5OfMessageAttributes).toBe("235c5c510d26fb653d073faed50ae77c");

    const rich = {
      "paperboat-attempt": { DataType: "Number", StringValue: "2" },
      label: { DataType: "String.custom", StringValue: "ünïcode ✓" },
      blob: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 255]) },
    };
    const sentRich = await client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "rich", MessageAttributes: rich }),
    );
    expect(sentRich.MD5OfMessageAttributes).toBe(messageAttributesMd5(rich));

    const received = await receive(queueUrl);
    const plain = received.find((m) => m.Body === "with attributes");
    const fancy = received.find((m) => m.Body === "rich");
    expect(plain?.MessageAttributes).toEqual(attributes);
    expect(plain?.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    expect(fancy?.MD5OfMessageAttributes).toBe(sentRich.MD5OfMessageAttributes);
    expect(fancy?.MessageAttributes?.label).toEqual(rich.label);
    expect(fancy?.MessageAttributes?.["paperboat-attempt"]).toEqual(rich["paperboat-attempt"]);
    expect(Array.from(fancy?.MessageAttributes?.blob?.BinaryValue ?? [])).toEqual([0, 1, 255]);
  });

  it("returns only the message attributes asked for", async () => {
    const queueUrl = sqs.createQueue(queueName());
    await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: "filtered",
        MessageAttributes: {
          "paperboat-attempt": { DataType: "Number", StringValue: "3" },
          other: { DataType: "String", StringValue: "x" },
        },
      }),
    );
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MessageAttributeNames: ["paperboat-attempt"],
      }),
    );
    expect(Object.keys(Messages[0]?.MessageAttributes ?? {})).toEqual(["paperboat-attempt"]);
    expect(Messages[0]?.MD5OfMessageAttributes).toBe(
      messageAttributesMd5({ "paperboat-attempt": { DataType: "Number", StringValue: "3" } }),
    );
  });

  it("refuses a bad message attribute", async () => {
    const queueUrl = sqs.createQueue(queueName());
    const refused = await client
      .send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: "x",
          MessageAttributes: { n: { DataType: "Number", StringValue: "not a number" } },
        }),
      )
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SQSServiceException);
    expect((refused as SQSServiceException).name).toBe("InvalidParameterValue");
    expect((refused as SQSServiceException).$metadata.httpStatusCode).toBe(400);
  });

  it("moves a message received more than maxReceiveCount times to the dead-letter queue", async () => {
    const dlq = sqs.createQueue(queueName("dlq"));
    const queueUrl = sqs.createQueue(queueName(), { deadLetterQueue: dlq, maxReceiveCount: 2 });
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: "poison",
        MessageAttributes: { kind: { DataType: "String", StringValue: "poison" } },
      }),
    );
    expect(await receive(queueUrl, { visibility: 0 })).toHaveLength(1);
    expect(await receive(queueUrl, { visibility: 0 })).toHaveLength(1);
    expect(await receive(queueUrl, { visibility: 0 })).toEqual([]);
    expect(sqs.messages(queueUrl)).toEqual([]);

    const [dead] = await receive(dlq);
    expect(dead).toMatchObject({
      MessageId: sent.MessageId,
      Body: "poison",
      MessageAttributes: { kind: { DataType: "String", StringValue: "poison" } },
    });
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["RedrivePolicy"] }),
    );
    expect(JSON.parse(Attributes?.RedrivePolicy ?? "{}")).toMatchObject({ maxReceiveCount: 2 });
  });

  it("the redrive can be set over the API with a RedrivePolicy", async () => {
    const dlqName = queueName("dlq");
    sqs.createQueue(dlqName);
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({
        QueueName: queueName(),
        Attributes: {
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: `arn:aws:sqs:local:000000000000:${dlqName}`,
            maxReceiveCount: "1",
          }),
        },
      }),
    );
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: "once" }));
    expect(await receive(QueueUrl ?? "", { visibility: 0 })).toHaveLength(1);
    expect(await receive(QueueUrl ?? "", { visibility: 0 })).toEqual([]);
    expect(sqs.messages(`${sqs.endpoint}/000000000000/${dlqName}`)).toHaveLength(1);
  });

  it("PurgeQueue empties a queue", async () => {
    const queueUrl = sqs.createQueue(queueName());
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "a" }));
    await client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "b", DelaySeconds: 60 }),
    );
    await client.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it("an unknown queue is QueueDoesNotExist, as the SDK types it", async () => {
    const missing = `${sqs.endpoint}/000000000000/${queueName("missing")}`;
    const error = await client
      .send(new SendMessageCommand({ QueueUrl: missing, MessageBody: "x" }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect((error as QueueDoesNotExist).$metadata.httpStatusCode).toBe(400);
    await expect(
      client.send(new GetQueueUrlCommand({ QueueName: queueName("missing") })),
    ).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(
      client.send(new ReceiveMessageCommand({ QueueUrl: missing })),
    ).rejects.toBeInstanceOf(QueueDoesNotExist);
  });
});

describe("time in the local SQS, on a clock of the test's own", () => {
  const bodies = (messages: Message[]) => messages.map((m) => m.Body);

  /** A long poll that is waiting in the local SQS (its wait armed on the clock) when this resolves. */
  async function longPoll(queueUrl: string, wait: number) {
    const armed = clock.pending();
    let answered = false;
    const polling = receive(queueUrl, { wait }, timedClient).finally(() => {
      answered = true;
    });
    expect(await eventually(clock.pending, (n) => n > armed || answered)).toBe(armed + 1);
    return { polling, answered: () => answered };
  }

  it("holds a delayed message until its delay is over; a long poll then gets it", async () => {
    const queueUrl = timed.createQueue(queueName());
    await timedClient.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "later", DelaySeconds: 1 }),
    );
    expect(await receive(queueUrl, {}, timedClient)).toEqual([]);
    expect(await counts(queueUrl, timedClient)).toEqual({ visible: 0, inFlight: 0, delayed: 1 });
    const { polling, answered } = await longPoll(queueUrl, 5);
    clock.advance(999);
    expect(answered()).toBe(false);
    clock.advance(1);
    expect(bodies(await polling)).toEqual(["later"]);
  });

  it("a long poll answers as soon as a message is sent", async () => {
    const queueUrl = timed.createQueue(queueName());
    const { polling, answered } = await longPoll(queueUrl, 20);
    expect(answered()).toBe(false);
    const at = clock.now();
    await timedClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "now" }));
    // the clock stands still, so only the message can have ended the wait
    expect(await eventually(answered, Boolean)).toBe(true);
    expect(bodies(await polling)).toEqual(["now"]);
    expect(clock.now()).toEqual(at);
  });

  it("a long poll with nothing to receive answers empty at the end of its wait, not before", async () => {
    const queueUrl = timed.createQueue(queueName());
    const { polling, answered } = await longPoll(queueUrl, 10);
    clock.advance(9_999);
    // its wait is still armed: nothing has answered it
    expect(clock.pending()).toBe(1);
    expect(answered()).toBe(false);
    clock.advance(1);
    expect(await polling).toEqual([]);
  });

  it("an unacknowledged message comes back after its visibility timeout, counted", async () => {
    const queueUrl = timed.createQueue(queueName(), { visibilityTimeoutSeconds: 1 });
    await timedClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "again" }));
    const [first] = await receive(queueUrl, {}, timedClient);
    expect(first?.Attributes?.ApproximateReceiveCount).toBe("1");
    expect(await receive(queueUrl, {}, timedClient)).toEqual([]);

    const { polling, answered } = await longPoll(queueUrl, 5);
    clock.advance(999);
    expect(answered()).toBe(false);
    clock.advance(1);
    const [second] = await polling;
    expect(second).toMatchObject({ MessageId: first?.MessageId, Body: "again" });
    expect(second?.Attributes?.ApproximateReceiveCount).toBe("2");
    expect(second?.ReceiptHandle).not.toBe(first?.ReceiptHandle);

    // the first receive's handle no longer deletes it; the latest does
    await timedClient.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: first?.ReceiptHandle }),
    );
    expect(timed.messages(queueUrl)).toHaveLength(1);
    await timedClient.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: second?.ReceiptHandle }),
    );
    expect(timed.messages(queueUrl)).toHaveLength(0);
  });
});

describe("pollQueue: the event source mapping, locally", () => {
  it("hands over Lambda-style records and deletes all but the batch item failures", async () => {
    const queueUrl = timed.createQueue(queueName(), { visibilityTimeoutSeconds: 1 });
    for (const body of ["keep", "fail"]) {
      await timedClient.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageAttributes: { "paperboat-attempt": { DataType: "Number", StringValue: "2" } },
        }),
      );
    }
    const seen: QueueRecord[] = [];
    let failOnce = true;
    const poller = pollQueue({
      client: timedClient,
      queueUrl,
      waitTimeSeconds: 1,
      async handle(records) {
        seen.push(...records);
        const failing = failOnce ? records.filter((r) => r.body === "fail") : [];
        if (failing.length > 0) failOnce = false;
        return { batchItemFailures: failing.map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    try {
      const failed = () => seen.filter((r) => r.body === "fail").length;
      expect(await eventually(failed, (n) => n >= 1)).toBe(1);
      // the handled record is deleted; then the failed one's visibility timeout passes
      const left = await eventually(
        () => timed.messages(queueUrl).map((m) => m.body),
        (bodies) => bodies.length === 1,
      );
      expect(left).toEqual(["fail"]);
      clock.advance(1_000);
      const done = await eventually(failed, (n) => n >= 2);
      expect(done).toBe(2);
      const first = seen.find((r) => r.body === "keep");
      expect(first).toMatchObject({
        messageId: expect.any(String),
        attributes: { ApproximateReceiveCount: "1" },
        messageAttributes: { "paperboat-attempt": { stringValue: "2", dataType: "Number" } },
      });
      // the failed record came back, counted; the handled one did not
      const retried = seen.filter((r) => r.body === "fail");
      expect(retried.map((r) => r.attributes?.ApproximateReceiveCount)).toEqual(["1", "2"]);
      expect(seen.filter((r) => r.body === "keep")).toHaveLength(1);
      expect(
        await eventually(
          () => timed.messages(queueUrl),
          (m) => m.length === 0,
        ),
      ).toEqual([]);
    } finally {
      await poller.stop();
    }
  });

  it("a handler that throws fails the whole batch, and stop() ends a long poll at once", async () => {
    // on the test's clock a long poll never runs out by itself: only stop() can end it
    const queueUrl = timed.createQueue(queueName(), { visibilityTimeoutSeconds: 600 });
    await timedClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "boom" }));
    const errors: Error[] = [];
    let calls = 0;
    const poller = pollQueue({
      client: timedClient,
      queueUrl,
      waitTimeSeconds: 20,
      async handle() {
        calls++;
        throw new Error("handler broke");
      },
      onError: (e) => errors.push(e),
    });
    await eventually(
      async () => calls,
      (n) => n === 1,
    );
    await poller.stop();
    expect(errors.map((e) => e.message)).toEqual(["handler broke"]);
    expect(timed.messages(queueUrl)).toHaveLength(1);
  });
});

import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { YOUNG_POLL_AGES } from "../core/reconcile.ts";
import {
  ATTEMPT_ATTRIBUTE,
  ORIGIN_ATTRIBUTE,
  type QueueConsumerDeps,
  type QueueRecord,
} from "./consumer.ts";
import type { YoungPollMessage } from "./young-polls.ts";

/** Why a message was dead-lettered (at most REASON_MAX_CHARS characters). */
export const REASON_ATTRIBUTE = "paperboat-reason";
/** The id of the message that was dead-lettered (the DLQ message is a new one). */
export const SOURCE_MESSAGE_ID_ATTRIBUTE = "paperboat-source-message-id";
const REASON_MAX_CHARS = 256;

/**
 * An SQS client: with `endpoint` (the local SQS, tests) fake static credentials and region
 * "local"; without, the Lambda's own credentials and region.
 */
export function createSqsClient(options: { endpoint?: string; region?: string } = {}): SQSClient {
  return options.endpoint
    ? new SQSClient({
        endpoint: options.endpoint,
        region: options.region ?? "local",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      })
    : new SQSClient(options.region ? { region: options.region } : {});
}

/**
 * The consumer's SQS side. `requeue` sends the body again as a fresh message (so its receive
 * count, and the queue's redrive to the DLQ, start over while the upstream is busy), delayed,
 * with the attempt number and the original message's id; `deadLetter` sends it to the DLQ with
 * the reason and the id of the message it was. Both throw when SQS does not take the message:
 * the consumer then leaves the record to SQS.
 */
export function createQueueActions(options: {
  queueUrl: string;
  deadLetterQueueUrl: string;
  endpoint?: string;
  region?: string;
  client?: SQSClient;
}): Pick<QueueConsumerDeps, "requeue" | "deadLetter"> {
  const client = options.client ?? createSqsClient(options);
  return {
    async requeue(record: QueueRecord, delaySeconds: number, attempt: number) {
      const origin = record.messageAttributes?.[ORIGIN_ATTRIBUTE]?.stringValue || record.messageId;
      await client.send(
        new SendMessageCommand({
          QueueUrl: options.queueUrl,
          MessageBody: record.body,
          DelaySeconds: delaySeconds,
          MessageAttributes: {
            [ATTEMPT_ATTRIBUTE]: { DataType: "Number", StringValue: String(attempt) },
            [ORIGIN_ATTRIBUTE]: { DataType: "String", StringValue: origin },
          },
        }),
      );
    },
    async deadLetter(record: QueueRecord, reason: string) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: options.deadLetterQueueUrl,
          MessageBody: record.body,
          // no attempt or origin: a message moved back from the DLQ starts afresh
          MessageAttributes: {
            [REASON_ATTRIBUTE]: {
              DataType: "String",
              StringValue: reason.slice(0, REASON_MAX_CHARS) || "unknown",
            },
            [SOURCE_MESSAGE_ID_ATTRIBUTE]: { DataType: "String", StringValue: record.messageId },
          },
        }),
      );
    },
  };
}

/** Sends a task's young polls: one message per age, delayed by it. Throws when SQS refuses. */
export function createYoungPollScheduler(options: { client: SQSClient; queueUrl: string }) {
  return async (taskId: string): Promise<void> => {
    const body = JSON.stringify({ taskId } satisfies YoungPollMessage);
    const answer = await options.client.send(
      new SendMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: YOUNG_POLL_AGES.map((age) => ({
          Id: `at-${age}s`,
          MessageBody: body,
          DelaySeconds: age,
        })),
      }),
    );
    if ((answer.Failed ?? []).length > 0) {
      throw new Error(`SQS took ${answer.Successful?.length ?? 0} of ${YOUNG_POLL_AGES.length}`);
    }
  };
}

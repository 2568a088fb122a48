import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { BatchResponse, QueueRecord } from "../../functions/queue/consumer.ts";

/**
 * A local Amazon SQS for tests and `npm start`: in memory, on node:http, speaking the protocol
 * the current AWS SDK speaks to SQS (AWS JSON 1.0: `POST /`, `Content-Type:
 * application/x-amz-json-1.0`, `X-Amz-Target: AmazonSQS.<Operation>`, errors as
 * `{"__type":"com.amazonaws.sqs#<Shape>","message":...}` with the query-compatible
 * `x-amzn-query-error: <Code>;Sender` header the SDK maps to its typed exceptions). Answers
 * carry `MD5OfMessageBody` / `MD5OfBody` and `MD5OfMessageAttributes` computed as SQS does, so
 * clients keep their checksum validation on.
 *
 * Operations: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, GetQueueAttributes,
 * PurgeQueue, SendMessage, SendMessageBatch, ReceiveMessage (long polling included),
 * DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility, ChangeMessageVisibilityBatch.
 * Standard queues only (no FIFO); messages are kept until deleted (no retention period);
 * a queue's RedrivePolicy moves a message to its dead-letter queue when it would be received
 * more than maxReceiveCount times. Requests are not authenticated.
 */

const ACCOUNT = "000000000000";
const REGION = "local";
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

interface AttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: Uint8Array;
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes: Record<string, AttributeValue>;
  sentTimestamp: number;
  firstReceiveTimestamp: number | null;
  receiveCount: number;
  /** Epoch ms from which the message can be received (delay, visibility timeout). */
  visibleAt: number;
  /** The handle of the latest receive: only it deletes or changes the message. */
  receiptHandle: string | null;
}

interface Queue {
  name: string;
  url: string;
  arn: string;
  createdAt: number;
  settings: QueueSettings;
  messages: StoredMessage[];
  /** Long polls waiting for a message; called on every change that may make one visible. */
  waiters: Set<() => void>;
}

interface QueueSettings {
  VisibilityTimeout: number;
  DelaySeconds: number;
  ReceiveMessageWaitTimeSeconds: number;
  MaximumMessageSize: number;
  MessageRetentionPeriod: number;
  redrive: { deadLetterQueue: string; maxReceiveCount: number } | null;
}

/** A message as the test sees it: `attributes` are its message attributes' values. */
export interface LocalSqsMessage {
  messageId: string;
  body: string;
  /** Message attribute name → StringValue (a Binary value as base64). */
  attributes: Record<string, string>;
  /** Epoch ms from which it can be received. */
  visibleAt: number;
  receiveCount: number;
}

export interface LocalSqs {
  /** e.g. "http://127.0.0.1:41234": the SDK's `endpoint`. */
  endpoint: string;
  /**
   * Creates a queue (or returns the existing one of that name) and returns its URL.
   * `deadLetterQueue` (an existing queue's name or URL) with `maxReceiveCount` is its redrive.
   */
  createQueue(
    name: string,
    options?: {
      deadLetterQueue?: string;
      maxReceiveCount?: number;
      visibilityTimeoutSeconds?: number;
    },
  ): string;
  /** Every message of the queue, visible or not, oldest first. */
  messages(queueUrl: string): LocalSqsMessage[];
  stop(): Promise<void>;
}

class SqsError extends Error {
  constructor(
    /** The error shape's name: `__type` is `com.amazonaws.sqs#<shape>`. */
    readonly shape: string,
    /** The AWS query protocol's code, sent in `x-amzn-query-error`. */
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const errors = {
  queueDoesNotExist: () =>
    new SqsError(
      "QueueDoesNotExist",
      "AWS.SimpleQueueService.NonExistentQueue",
      "The specified queue does not exist.",
    ),
  invalidParameter: (message: string) =>
    new SqsError("InvalidParameterValueException", "InvalidParameterValue", message),
  missingParameter: (name: string) =>
    new SqsError(
      "MissingParameterException",
      "MissingParameter",
      `The request must contain the parameter ${name}.`,
    ),
  invalidContents: () =>
    new SqsError(
      "InvalidMessageContents",
      "InvalidMessageContents",
      "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
    ),
  receiptHandleIsInvalid: (handle: string) =>
    new SqsError(
      "ReceiptHandleIsInvalid",
      "ReceiptHandleIsInvalid",
      `The input receipt handle "${handle.slice(0, 100)}" is not a valid receipt handle.`,
    ),
  messageNotInflight: () =>
    new SqsError(
      "MessageNotInflight",
      "AWS.SimpleQueueService.MessageNotInflight",
      "The message referred to is not in flight.",
    ),
  invalidAttributeName: (name: string) =>
    new SqsError("InvalidAttributeName", "InvalidAttributeName", `Unknown Attribute ${name}.`),
  invalidAttributeValue: (message: string) =>
    new SqsError("InvalidAttributeValue", "InvalidAttributeValue", message),
  queueNameExists: (attribute: string) =>
    new SqsError(
      "QueueNameExists",
      "QueueAlreadyExists",
      `A queue already exists with the same name and a different value for attribute ${attribute}`,
    ),
  emptyBatch: () =>
    new SqsError(
      "EmptyBatchRequest",
      "AWS.SimpleQueueService.EmptyBatchRequest",
      "There should be at least one entry in the request.",
    ),
  tooManyEntries: (count: number) =>
    new SqsError(
      "TooManyEntriesInBatchRequest",
      "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
      `Maximum number of entries per request are 10. You have sent ${count}.`,
    ),
  idsNotDistinct: () =>
    new SqsError(
      "BatchEntryIdsNotDistinct",
      "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
      "Two or more batch entries in the request have the same Id.",
    ),
  invalidBatchEntryId: () =>
    new SqsError(
      "InvalidBatchEntryId",
      "AWS.SimpleQueueService.InvalidBatchEntryId",
      "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
    ),
  unsupported: (what: string) =>
    new SqsError(
      "UnsupportedOperation",
      "AWS.SimpleQueueService.UnsupportedOperation",
      `${what} is not supported by the local SQS.`,
    ),
};

const md5 = (bytes: Uint8Array | string) => createHash("md5").update(bytes).digest("hex");

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * `MD5OfMessageAttributes` as SQS computes it: for each attribute in order of name, the name,
 * the data type and the value, each preceded by its byte length (4 bytes, big-endian), with a
 * transport byte before the value (1 for String and Number, 2 for Binary); then the MD5 of all
 * of it, in hex. Undefined without attributes.
 */
export function messageAttributesMd5(
  attributes: Record<string, { DataType?: string; StringValue?: string; BinaryValue?: Uint8Array }>,
): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const hash = createHash("md5");
  for (const name of names) {
    const value = attributes[name] as AttributeValue;
    const isBinary = value.DataType.startsWith("Binary");
    hash.update(lengthPrefixed(Buffer.from(name, "utf8")));
    hash.update(lengthPrefixed(Buffer.from(value.DataType, "utf8")));
    hash.update(Buffer.from([isBinary ? 2 : 1]));
    hash.update(
      lengthPrefixed(
        isBinary
          ? Buffer.from(value.BinaryValue ?? new Uint8Array())
          : Buffer.from(value.StringValue ?? "", "utf8"),
      ),
    );
  }
  return hash.digest("hex");
}

// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF (lone surrogates fail)
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

type Json = Record<string, unknown>;

function requireString(input: Json, name: string): string {
  const value = input[name];
  if (value === undefined || value === null || value === "") throw errors.missingParameter(name);
  if (typeof value !== "string") throw errors.invalidParameter(`${name} must be a string.`);
  return value;
}

function optionalInt(input: Json, name: string, min: number, max: number): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw errors.invalidParameter(
      `Value ${String(value)} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}.`,
    );
  }
  return value;
}

function stringList(input: Json, name: string): string[] {
  const value = input[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw errors.invalidParameter(`${name} must be a list of strings.`);
  }
  return value as string[];
}

const ATTRIBUTE_NAME = /^(?!aws\.|amazon\.)(?!\.)(?!.*\.\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$/i;
const DATA_TYPE = /^(String|Number|Binary)(\.[^\s]{1,200})?$/;

/** Validates a request's MessageAttributes (JSON: BinaryValue is base64). */
function parseMessageAttributes(raw: unknown): Record<string, AttributeValue> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw errors.invalidParameter("MessageAttributes must be a map.");
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > 10) {
    throw errors.invalidParameter(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`,
    );
  }
  const attributes: Record<string, AttributeValue> = {};
  for (const [name, value] of entries) {
    if (!ATTRIBUTE_NAME.test(name)) {
      throw errors.invalidParameter(`Message attribute name '${name}' is invalid.`);
    }
    const v = (value ?? {}) as Json;
    const dataType = v.DataType;
    if (typeof dataType !== "string" || !DATA_TYPE.test(dataType)) {
      throw errors.invalidParameter(
        `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
      );
    }
    if (v.StringListValues !== undefined || v.BinaryListValues !== undefined) {
      throw errors.invalidParameter(
        `Message attribute list values in SendMessage operation are not supported.`,
      );
    }
    if (dataType.startsWith("Binary")) {
      if (typeof v.BinaryValue !== "string" || v.BinaryValue === "") {
        throw errors.invalidParameter(
          `The message attribute '${name}' with type 'Binary' must use field 'Binary'.`,
        );
      }
      attributes[name] = { DataType: dataType, BinaryValue: Buffer.from(v.BinaryValue, "base64") };
    } else {
      if (typeof v.StringValue !== "string" || v.StringValue === "") {
        throw errors.invalidParameter(
          `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType.split(".")[0]}'.`,
        );
      }
      if (INVALID_CHARACTER.test(v.StringValue)) throw errors.invalidContents();
      if (
        dataType.startsWith("Number") &&
        !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v.StringValue)
      ) {
        throw errors.invalidParameter(
          `Can't cast the value of message (user) attribute '${name}' to a number.`,
        );
      }
      attributes[name] = { DataType: dataType, StringValue: v.StringValue };
    }
  }
  return attributes;
}

function attributesSize(attributes: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    size += value.BinaryValue?.length ?? Buffer.byteLength(value.StringValue ?? "");
  }
  return size;
}

function attributesToJson(attributes: Record<string, AttributeValue>) {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      value.BinaryValue
        ? {
            DataType: value.DataType,
            BinaryValue: Buffer.from(value.BinaryValue).toString("base64"),
          }
        : { DataType: value.DataType, StringValue: value.StringValue },
    ]),
  );
}

/** Which of the message's attributes `MessageAttributeNames` asks for ("All", ".*", "prefix.*"). */
function selectAttributes(
  attributes: Record<string, AttributeValue>,
  wanted: string[],
): Record<string, AttributeValue> {
  const selected: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const matches = wanted.some(
      (w) =>
        w === "All" ||
        w === ".*" ||
        w === name ||
        (w.endsWith(".*") && name.startsWith(w.slice(0, -1))),
    );
    if (matches) selected[name] = value;
  }
  return selected;
}

const SYSTEM_ATTRIBUTES = [
  "SenderId",
  "SentTimestamp",
  "ApproximateReceiveCount",
  "ApproximateFirstReceiveTimestamp",
] as const;

const QUEUE_ATTRIBUTES = [
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
  "CreatedTimestamp",
  "LastModifiedTimestamp",
  "DelaySeconds",
  "MaximumMessageSize",
  "MessageRetentionPeriod",
  "QueueArn",
  "ReceiveMessageWaitTimeSeconds",
  "VisibilityTimeout",
  "RedrivePolicy",
  "SqsManagedSseEnabled",
] as const;

/** Accepted on CreateQueue and otherwise ignored: they change nothing locally. */
const IGNORED_QUEUE_ATTRIBUTES = new Set([
  "Policy",
  "KmsMasterKeyId",
  "KmsDataKeyReusePeriodSeconds",
  "SqsManagedSseEnabled",
  "RedriveAllowPolicy",
]);

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

/** A receipt handle names its queue and message, and which receive issued it. */
function newReceiptHandle(queue: string, messageId: string): string {
  return Buffer.from(
    JSON.stringify({ q: queue, m: messageId, r: randomBytes(12).toString("base64url") }),
  ).toString("base64url");
}

function readReceiptHandle(queue: Queue, handle: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(handle, "base64url").toString("utf8")) as Json;
    if (parsed.q === queue.name && typeof parsed.m === "string") return parsed.m;
  } catch {
    // falls through to the error
  }
  throw errors.receiptHandleIsInvalid(handle);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

async function readBody(request: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Time as the local SQS sees it (delays, visibility timeouts, long polls). Tests pass a clock
 * they move themselves, so a long poll's wait or a visibility timeout passes without sleeping.
 */
export interface SqsClock {
  now(): Date;
  /** Calls `fire` once `ms` have passed on this clock; the answer cancels it. */
  after(ms: number, fire: () => void): () => void;
}

const systemSqsClock: SqsClock = {
  now: () => new Date(),
  after(ms, fire) {
    const timer = setTimeout(fire, ms);
    return () => clearTimeout(timer);
  },
};

/** Starts the local SQS on 127.0.0.1 (or `host`), on a free port unless `port` is given. */
export async function startLocalSqs(
  options: { host?: string; port?: number; clock?: SqsClock } = {},
): Promise<LocalSqs> {
  const host = options.host ?? "127.0.0.1";
  const clock = options.clock ?? systemSqsClock;
  const nowMs = () => clock.now().getTime();
  const queues = new Map<string, Queue>();
  const closing = new AbortController();
  let endpoint = "";

  const queueNamed = (name: string) => {
    const queue = queues.get(name);
    if (!queue) throw errors.queueDoesNotExist();
    return queue;
  };

  /** The queue a URL names: `<any origin>/<account>/<name>`, as SQS itself matches them. */
  const queueAt = (url: string) => {
    let path: string[];
    try {
      path = new URL(url).pathname.split("/").filter(Boolean);
    } catch {
      throw errors.queueDoesNotExist();
    }
    if (path.length !== 2 || path[0] !== ACCOUNT) throw errors.queueDoesNotExist();
    return queueNamed(path[1] as string);
  };

  const notify = (queue: Queue) => {
    for (const wake of [...queue.waiters]) wake();
  };

  const waitForChange = (queue: Queue, ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        cancel();
        queue.waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const cancel = clock.after(Math.max(0, ms), done);
      queue.waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });

  const settingsFrom = (attributes: Record<string, unknown>): Partial<QueueSettings> => {
    const settings: Partial<QueueSettings> = {};
    const int = (name: string, min: number, max: number) => {
      const raw = attributes[name];
      const value = typeof raw === "number" ? raw : Number(raw);
      if (typeof raw !== "string" && typeof raw !== "number") {
        throw errors.invalidAttributeValue(`Invalid value for the parameter ${name}.`);
      }
      if (!Number.isInteger(value) || value < min || value > max) {
        throw errors.invalidAttributeValue(`Invalid value for the parameter ${name}.`);
      }
      return value;
    };
    for (const name of Object.keys(attributes)) {
      switch (name) {
        case "VisibilityTimeout":
          settings.VisibilityTimeout = int(name, 0, 43_200);
          break;
        case "DelaySeconds":
          settings.DelaySeconds = int(name, 0, 900);
          break;
        case "ReceiveMessageWaitTimeSeconds":
          settings.ReceiveMessageWaitTimeSeconds = int(name, 0, 20);
          break;
        case "MaximumMessageSize":
          settings.MaximumMessageSize = int(name, 1024, 1_048_576);
          break;
        case "MessageRetentionPeriod":
          settings.MessageRetentionPeriod = int(name, 60, 1_209_600);
          break;
        case "RedrivePolicy": {
          let policy: Json;
          try {
            policy = JSON.parse(String(attributes[name])) as Json;
          } catch {
            throw errors.invalidAttributeValue("Invalid value for the parameter RedrivePolicy.");
          }
          const arn = String(policy.deadLetterTargetArn ?? "");
          const maxReceiveCount = Number(policy.maxReceiveCount);
          const target = arn.split(":").pop() ?? "";
          if (!arn.startsWith("arn:aws:sqs:") || !queues.has(target)) {
            throw errors.invalidParameter(
              "Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.",
            );
          }
          if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
            throw errors.invalidAttributeValue(
              "Value for parameter RedrivePolicy is invalid. Reason: maxReceiveCount must be 1 to 1000.",
            );
          }
          settings.redrive = { deadLetterQueue: target, maxReceiveCount };
          break;
        }
        case "FifoQueue":
          if (String(attributes[name]) === "true") throw errors.unsupported("A FIFO queue");
          break;
        default:
          if (!IGNORED_QUEUE_ATTRIBUTES.has(name)) throw errors.invalidAttributeName(name);
      }
    }
    return settings;
  };

  const redrivePolicyOf = (settings: QueueSettings) =>
    settings.redrive
      ? JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${settings.redrive.deadLetterQueue}`,
          maxReceiveCount: settings.redrive.maxReceiveCount,
        })
      : undefined;

  const createQueueNamed = (name: string, attributes: Record<string, unknown>): Queue => {
    if (!QUEUE_NAME.test(name)) {
      throw errors.invalidParameter(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
      );
    }
    const given = settingsFrom(attributes);
    const existing = queues.get(name);
    if (existing) {
      for (const [key, value] of Object.entries(given) as [keyof QueueSettings, unknown][]) {
        if (JSON.stringify(existing.settings[key]) !== JSON.stringify(value)) {
          throw errors.queueNameExists(key === "redrive" ? "RedrivePolicy" : key);
        }
      }
      return existing;
    }
    const queue: Queue = {
      name,
      url: `${endpoint}/${ACCOUNT}/${name}`,
      arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
      createdAt: nowMs(),
      settings: {
        VisibilityTimeout: 30,
        DelaySeconds: 0,
        ReceiveMessageWaitTimeSeconds: 0,
        MaximumMessageSize: DEFAULT_MAX_MESSAGE_BYTES,
        MessageRetentionPeriod: 345_600,
        redrive: null,
        ...given,
      },
      messages: [],
      waiters: new Set(),
    };
    queues.set(name, queue);
    return queue;
  };

  const enqueue = (queue: Queue, message: StoredMessage) => {
    queue.messages.push(message);
    notify(queue);
  };

  /** Validates and stores one message; the answer's fields (SendMessage and batch entries). */
  const send = (queue: Queue, entry: Json) => {
    const body = requireString(entry, "MessageBody");
    if (INVALID_CHARACTER.test(body)) throw errors.invalidContents();
    const delaySeconds = optionalInt(entry, "DelaySeconds", 0, 900) ?? queue.settings.DelaySeconds;
    const messageAttributes = parseMessageAttributes(entry.MessageAttributes);
    const size = Buffer.byteLength(body) + attributesSize(messageAttributes);
    if (size > queue.settings.MaximumMessageSize) {
      throw errors.invalidParameter(
        `One or more parameters are invalid. Reason: Message must be shorter than ${queue.settings.MaximumMessageSize} bytes.`,
      );
    }
    const now = nowMs();
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5(body),
      messageAttributes,
      sentTimestamp: now,
      firstReceiveTimestamp: null,
      receiveCount: 0,
      visibleAt: now + delaySeconds * 1000,
      receiptHandle: null,
    };
    enqueue(queue, message);
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5OfBody,
      MD5OfMessageAttributes: messageAttributesMd5(messageAttributes),
    };
  };

  /** Moves a message that was received maxReceiveCount times to the queue's DLQ. */
  const redrive = (queue: Queue, message: StoredMessage): boolean => {
    const policy = queue.settings.redrive;
    if (!policy || message.receiveCount < policy.maxReceiveCount) return false;
    const target = queues.get(policy.deadLetterQueue);
    if (!target) return false;
    queue.messages.splice(queue.messages.indexOf(message), 1);
    enqueue(target, {
      ...message,
      receiveCount: 0,
      firstReceiveTimestamp: null,
      visibleAt: nowMs(),
      receiptHandle: null,
    });
    return true;
  };

  const take = (queue: Queue, max: number, visibilityTimeout: number) => {
    const now = nowMs();
    const taken: StoredMessage[] = [];
    for (const message of [...queue.messages]) {
      if (taken.length >= max) break;
      if (message.visibleAt > now || redrive(queue, message)) continue;
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.visibleAt = now + visibilityTimeout * 1000;
      message.receiptHandle = newReceiptHandle(queue.name, message.messageId);
      taken.push(message);
    }
    return taken;
  };

  const nextChange = (queue: Queue, now: number) => {
    let next = Number.POSITIVE_INFINITY;
    for (const message of queue.messages) {
      if (message.visibleAt > now) next = Math.min(next, message.visibleAt);
    }
    return next;
  };

  /** The message a receipt handle still stands for, or null (deleted, or received again). */
  const messageFor = (queue: Queue, handle: string) => {
    const messageId = readReceiptHandle(queue, handle);
    const message = queue.messages.find((m) => m.messageId === messageId);
    return message && message.receiptHandle === handle ? message : null;
  };

  const deleteMessage = (queue: Queue, handle: string) => {
    // a handle of a message already deleted (or received again since) deletes nothing
    const message = messageFor(queue, handle);
    if (message) queue.messages.splice(queue.messages.indexOf(message), 1);
  };

  const changeVisibility = (queue: Queue, handle: string, seconds: number) => {
    const message = messageFor(queue, handle);
    const now = nowMs();
    if (!message || message.visibleAt <= now) throw errors.messageNotInflight();
    message.visibleAt = now + seconds * 1000;
    notify(queue);
  };

  /** Runs a batch: entries checked as SQS does, then each one answered on its own. */
  const batch = <T>(input: Json, run: (entry: Json) => T) => {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length === 0) throw errors.emptyBatch();
    if (entries.length > 10) throw errors.tooManyEntries(entries.length);
    const ids = entries.map((entry) => (entry as Json).Id);
    if (ids.some((id) => typeof id !== "string" || !BATCH_ENTRY_ID.test(id))) {
      throw errors.invalidBatchEntryId();
    }
    if (new Set(ids).size !== ids.length) throw errors.idsNotDistinct();
    const Successful: (T & { Id: string })[] = [];
    const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
    for (const entry of entries as Json[]) {
      const Id = entry.Id as string;
      try {
        Successful.push({ Id, ...run(entry) });
      } catch (error) {
        if (!(error instanceof SqsError)) throw error;
        Failed.push({
          Id,
          SenderFault: error.status < 500,
          Code: error.code,
          Message: error.message,
        });
      }
    }
    return { Successful, Failed };
  };

  const systemAttributes = (message: StoredMessage, wanted: string[]) => {
    const all = wanted.includes("All");
    const values: Record<(typeof SYSTEM_ATTRIBUTES)[number], string> = {
      SenderId: ACCOUNT,
      SentTimestamp: String(message.sentTimestamp),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? ""),
    };
    const selected: Record<string, string> = {};
    for (const name of SYSTEM_ATTRIBUTES) {
      if (all || wanted.includes(name)) selected[name] = values[name];
    }
    return Object.keys(selected).length > 0 ? selected : undefined;
  };

  const operations: Record<string, (input: Json, signal: AbortSignal) => Promise<Json> | Json> = {
    CreateQueue(input) {
      const attributes = (input.Attributes ?? {}) as Record<string, unknown>;
      return { QueueUrl: createQueueNamed(requireString(input, "QueueName"), attributes).url };
    },
    GetQueueUrl(input) {
      return { QueueUrl: queueNamed(requireString(input, "QueueName")).url };
    },
    ListQueues(input) {
      const prefix = typeof input.QueueNamePrefix === "string" ? input.QueueNamePrefix : "";
      const urls = [...queues.values()].filter((q) => q.name.startsWith(prefix)).map((q) => q.url);
      return urls.length > 0 ? { QueueUrls: urls } : {};
    },
    DeleteQueue(input) {
      const queue = queueAt(requireString(input, "QueueUrl"));
      queues.delete(queue.name);
      notify(queue);
      return {};
    },
    PurgeQueue(input) {
      const queue = queueAt(requireString(input, "QueueUrl"));
      queue.messages = [];
      return {};
    },
    GetQueueAttributes(input) {
      const queue = queueAt(requireString(input, "QueueUrl"));
      const wanted = stringList(input, "AttributeNames");
      for (const name of wanted) {
        if (name !== "All" && !(QUEUE_ATTRIBUTES as readonly string[]).includes(name)) {
          throw errors.invalidAttributeName(name);
        }
      }
      const now = nowMs();
      const count = (test: (m: StoredMessage) => boolean) =>
        String(queue.messages.filter(test).length);
      const values: Record<string, string | undefined> = {
        ApproximateNumberOfMessages: count((m) => m.visibleAt <= now),
        ApproximateNumberOfMessagesNotVisible: count(
          (m) => m.visibleAt > now && m.receiveCount > 0,
        ),
        ApproximateNumberOfMessagesDelayed: count((m) => m.visibleAt > now && m.receiveCount === 0),
        CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
        LastModifiedTimestamp: String(Math.floor(queue.createdAt / 1000)),
        DelaySeconds: String(queue.settings.DelaySeconds),
        MaximumMessageSize: String(queue.settings.MaximumMessageSize),
        MessageRetentionPeriod: String(queue.settings.MessageRetentionPeriod),
        QueueArn: queue.arn,
        ReceiveMessageWaitTimeSeconds: String(queue.settings.ReceiveMessageWaitTimeSeconds),
        VisibilityTimeout: String(queue.settings.VisibilityTimeout),
        RedrivePolicy: redrivePolicyOf(queue.settings),
        SqsManagedSseEnabled: "false",
      };
      const Attributes: Record<string, string> = {};
      for (const [name, value] of Object.entries(values)) {
        if (value !== undefined && (wanted.includes("All") || wanted.includes(name))) {
          Attributes[name] = value;
        }
      }
      return Object.keys(Attributes).length > 0 ? { Attributes } : {};
    },
    SendMessage(input) {
      return send(queueAt(requireString(input, "QueueUrl")), input);
    },
    SendMessageBatch(input) {
      const queue = queueAt(requireString(input, "QueueUrl"));
      return batch(input, (entry) => send(queue, entry));
    },
    async ReceiveMessage(input, signal) {
      const queue = queueAt(requireString(input, "QueueUrl"));
      const max = optionalInt(input, "MaxNumberOfMessages", 1, 10) ?? 1;
      const visibilityTimeout =
        optionalInt(input, "VisibilityTimeout", 0, 43_200) ?? queue.settings.VisibilityTimeout;
      const wait =
        optionalInt(input, "WaitTimeSeconds", 0, 20) ??
        queue.settings.ReceiveMessageWaitTimeSeconds;
      const systemNames = [
        ...stringList(input, "AttributeNames"),
        ...stringList(input, "MessageSystemAttributeNames"),
      ];
      const attributeNames = stringList(input, "MessageAttributeNames");
      const deadline = nowMs() + wait * 1000;
      let taken = take(queue, max, visibilityTimeout);
      while (taken.length === 0 && !signal.aborted && queues.get(queue.name) === queue) {
        const now = nowMs();
        if (now >= deadline) break;
        await waitForChange(queue, Math.min(deadline, nextChange(queue, now)) - now, signal);
        if (signal.aborted) break;
        taken = take(queue, max, visibilityTimeout);
      }
      return {
        Messages: taken.map((message) => {
          const selected = selectAttributes(message.messageAttributes, attributeNames);
          const hasAttributes = Object.keys(selected).length > 0;
          return {
            MessageId: message.messageId,
            ReceiptHandle: message.receiptHandle,
            MD5OfBody: message.md5OfBody,
            Body: message.body,
            Attributes: systemAttributes(message, systemNames),
            MD5OfMessageAttributes: hasAttributes ? messageAttributesMd5(selected) : undefined,
            MessageAttributes: hasAttributes ? attributesToJson(selected) : undefined,
          };
        }),
      };
    },
    DeleteMessage(input) {
      const queue = queueAt(requireString(input, "QueueUrl"));
      deleteMessage(queue, requireString(input, "ReceiptHandle"));
      return {};
    },
    DeleteMessageBatch(input) {
      const queue = queueAt(requireString(input, "QueueUrl"));
      return batch(input, (entry) => {
        deleteMessage(queue, requireString(entry, "ReceiptHandle"));
        return {};
      });
    },
    ChangeMessageVisibility(input) {
      const queue = queueAt(requireString(input, "QueueUrl"));
      const seconds = optionalInt(input, "VisibilityTimeout", 0, 43_200);
      if (seconds === undefined) throw errors.missingParameter("VisibilityTimeout");
      changeVisibility(queue, requireString(input, "ReceiptHandle"), seconds);
      return {};
    },
    ChangeMessageVisibilityBatch(input) {
      const queue = queueAt(requireString(input, "QueueUrl"));
      return batch(input, (entry) => {
        const seconds = optionalInt(entry, "VisibilityTimeout", 0, 43_200);
        if (seconds === undefined) throw errors.missingParameter("VisibilityTimeout");
        changeVisibility(queue, requireString(entry, "ReceiptHandle"), seconds);
        return {};
      });
    },
  };

  const answer = (response: ServerResponse, status: number, body: unknown, error?: SqsError) => {
    if (response.writableEnded || response.destroyed) return;
    const headers: Record<string, string> = {
      "content-type": "application/x-amz-json-1.0",
      "x-amzn-requestid": randomUUID(),
    };
    if (error)
      headers["x-amzn-query-error"] = `${error.code};${error.status < 500 ? "Sender" : "Receiver"}`;
    response.writeHead(status, headers);
    response.end(JSON.stringify(body));
  };

  const fail = (response: ServerResponse, error: SqsError) =>
    answer(
      response,
      error.status,
      { __type: `com.amazonaws.sqs#${error.shape}`, message: error.message },
      error,
    );

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const target = String(request.headers["x-amz-target"] ?? "");
    const contentType = String(request.headers["content-type"] ?? "");
    if (
      request.method !== "POST" ||
      !target.startsWith("AmazonSQS.") ||
      !contentType.startsWith("application/x-amz-json-1.0")
    ) {
      return fail(response, errors.unsupported("Only the AWS JSON 1.0 protocol"));
    }
    const operation = operations[target.slice("AmazonSQS.".length)];
    if (!operation) return fail(response, errors.unsupported(`The operation ${target}`));
    const raw = await readBody(request);
    if (raw === null) return fail(response, errors.invalidParameter("The request is too large."));
    let input: Json;
    try {
      input = raw.length > 0 ? (JSON.parse(raw.toString("utf8")) as Json) : {};
      if (!input || typeof input !== "object" || Array.isArray(input))
        throw new Error("not an object");
    } catch {
      return answer(response, 400, {
        __type: "com.amazon.coral.service#SerializationException",
        message: "The request body is not a JSON object.",
      });
    }
    const gone = new AbortController();
    response.on("close", () => gone.abort());
    try {
      answer(response, 200, await operation(input, AbortSignal.any([gone.signal, closing.signal])));
    } catch (error) {
      if (error instanceof SqsError) return fail(response, error);
      fail(response, new SqsError("InternalError", "InternalError", "Internal error.", 500));
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((ok, failed) => {
    server.once("error", failed);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", failed);
      ok();
    });
  });
  const port = (server.address() as AddressInfo).port;
  endpoint = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  const urlOrName = (queue: string) => (queue.includes("/") ? queueAt(queue).name : queue);

  return {
    endpoint,
    createQueue(name, queueOptions = {}) {
      const attributes: Record<string, unknown> = {};
      if (queueOptions.visibilityTimeoutSeconds !== undefined) {
        attributes.VisibilityTimeout = queueOptions.visibilityTimeoutSeconds;
      }
      if (queueOptions.deadLetterQueue !== undefined) {
        attributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${urlOrName(queueOptions.deadLetterQueue)}`,
          maxReceiveCount: queueOptions.maxReceiveCount ?? 3,
        });
      }
      return createQueueNamed(name, attributes).url;
    },
    messages(queueUrl) {
      return queueAt(queueUrl).messages.map((message) => ({
        messageId: message.messageId,
        body: message.body,
        attributes: Object.fromEntries(
          Object.entries(message.messageAttributes).map(([name, value]) => [
            name,
            value.StringValue ?? Buffer.from(value.BinaryValue ?? []).toString("base64"),
          ]),
        ),
        visibleAt: message.visibleAt,
        receiveCount: message.receiveCount,
      }));
    },
    stop: () =>
      new Promise<void>((ok) => {
        closing.abort();
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** A Lambda-style record of a received message (what the SQS event source mapping delivers). */
function toRecord(message: Message): QueueRecord {
  return {
    messageId: message.MessageId ?? "",
    body: message.Body ?? "",
    attributes: { ...message.Attributes },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        value.StringValue === undefined
          ? { dataType: value.DataType ?? "String" }
          : { dataType: value.DataType ?? "String", stringValue: value.StringValue },
      ]),
    ),
  };
}

/**
 * Feeds a queue to a batch handler as Lambda's SQS event source mapping does (locally; on AWS
 * the mapping does it): long-polls batches, hands them over as Lambda-style records, and
 * deletes the records the handler did not list in `batchItemFailures`. Failures stay and come
 * back after their visibility timeout (with a higher ApproximateReceiveCount); a handler that
 * throws, or names a record not in the batch, fails the whole batch, as on AWS. `stop()` ends
 * the current long poll and waits for a batch in hand to be handled and deleted.
 */
export function pollQueue(options: {
  client: SQSClient;
  queueUrl: string;
  batchSize?: number;
  waitTimeSeconds?: number;
  visibilityTimeoutSeconds?: number;
  handle(records: QueueRecord[]): Promise<BatchResponse>;
  onError?(e: Error): void;
}): { stop(): Promise<void> } {
  const stopping = new AbortController();
  const { client, queueUrl } = options;
  const report = (error: unknown) => {
    options.onError?.(error instanceof Error ? error : new Error(String(error)));
  };

  const handleBatch = async (messages: Message[]) => {
    const records = messages.map(toRecord);
    const ids = new Set(records.map((r) => r.messageId));
    let failed: Set<string>;
    try {
      const { batchItemFailures } = await options.handle(records);
      failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      if ([...failed].some((id) => !ids.has(id))) failed = ids;
    } catch (error) {
      report(error);
      failed = ids;
    }
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
    if (done.length === 0) return;
    const result = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    if (result.Failed?.length) {
      report(new Error(`${result.Failed.length} handled messages were not deleted`));
    }
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: options.batchSize ?? 10,
            WaitTimeSeconds: options.waitTimeSeconds ?? 20,
            VisibilityTimeout: options.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
          { abortSignal: stopping.signal },
        );
        if (Messages.length > 0) await handleBatch(Messages);
      } catch (error) {
        if (stopping.signal.aborted) break;
        report(error);
        await sleep(1000, stopping.signal);
      }
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}

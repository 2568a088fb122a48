import {
  EventBridgeClient,
  EventBridgeServiceException,
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import type { TaskEvent } from "../core/events.ts";

/** The `source` of every event paperboat publishes; subscribers' rules match on it. */
export const EVENT_SOURCE = "paperboat";

/** EventBridge's limit on one entry, counted as `entrySize` counts it. */
export const MAX_ENTRY_BYTES = 256 * 1024;

/**
 * The event and its types are core's (`core/events.ts`, shared with the webhooks): one
 * `TaskEvent` is both a webhook's body and, through its `data`, the bus event's `detail`.
 */
export type { TaskEvent, TaskEventType } from "../core/events.ts";

export interface EventPublisher {
  /**
   * Publishes one entry: `source` "paperboat", `detail-type` the event's type, `detail` the task
   * exactly as the API shows it (the documented contract), `time` the transition's timestamp.
   * EventBridge assigns its own event id; `event.id` is not sent.
   *
   * Throws EventPublishError when EventBridge refuses or cannot be reached; the caller retries
   * later on its own schedule. Delivery is therefore at least once (a retry after an attempt
   * that did land publishes twice), and subscribers dedupe by `detail.id` + `detail-type`: a
   * task makes each terminal or modal transition once. (`task.progress` repeats per task; add
   * `detail.progress` to the key for those.)
   */
  publish(event: TaskEvent): Promise<void>;
}

/**
 * Publishing failed. `code` is stable: `too_large` (refused before calling AWS), an entry's
 * `ErrorCode` (`InternalFailure`, `ThrottlingException` ...), the SDK error's name
 * (`InternalException`, `AccessDeniedException` ...) or a network error's code (`ECONNREFUSED`).
 * The message names the code only, never the event's detail (a task carries prompts and URLs).
 */
export class EventPublishError extends Error {
  override name = "EventPublishError";
  constructor(
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(`publishing the task event failed: ${code}`, options);
  }
}

/**
 * An entry's size as EventBridge counts it against its limit: 14 bytes for `Time`, plus the
 * UTF-8 bytes of `Source`, `DetailType`, `Detail` and every `Resources` ARN.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) => (text ? Buffer.byteLength(text, "utf8") : 0);
  return (
    (entry.Time ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, arn) => sum + bytes(arn), 0)
  );
}

function errorCode(error: unknown): string {
  if (error instanceof EventBridgeServiceException) return error.name;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && code ? code : error.name;
  }
  return "unknown";
}

/**
 * A publisher to the EventBridge bus `busName`. With `endpoint` (the local stand-in) it signs
 * with fake static credentials in region "local"; without it, the default AWS credential chain
 * and region. The client makes at most 3 attempts per publish (the SDK retries 5xx and
 * throttling); beyond that the dispatcher retries on its own schedule. A given `client` is used
 * as it is (its own endpoint, credentials and retries).
 */
export function createEventBus(options: {
  busName: string;
  endpoint?: string;
  region?: string;
  client?: EventBridgeClient;
}): EventPublisher {
  const client =
    options.client ??
    (options.endpoint
      ? new EventBridgeClient({
          endpoint: options.endpoint,
          region: options.region ?? "local",
          credentials: { accessKeyId: "local", secretAccessKey: "local" },
          maxAttempts: 3,
        })
      : new EventBridgeClient({
          ...(options.region ? { region: options.region } : {}),
          maxAttempts: 3,
        }));

  return {
    async publish(event) {
      const entry: PutEventsRequestEntry = {
        Source: EVENT_SOURCE,
        DetailType: event.type,
        Detail: JSON.stringify(event.data),
        EventBusName: options.busName,
        Time: new Date(event.timestamp),
        Resources: [],
      };
      if (entrySize(entry) > MAX_ENTRY_BYTES) throw new EventPublishError("too_large");

      let result: PutEventsCommandOutput;
      try {
        result = await client.send(new PutEventsCommand({ Entries: [entry] }));
      } catch (error) {
        throw new EventPublishError(errorCode(error), { cause: error });
      }
      if ((result.FailedEntryCount ?? 0) > 0) {
        throw new EventPublishError(result.Entries?.[0]?.ErrorCode ?? "failed_entry");
      }
    },
  };
}

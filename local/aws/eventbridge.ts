import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One entry the local EventBridge accepted, as a subscriber would see it. */
export interface RecordedEvent {
  eventId: string;
  source: string;
  detailType: string;
  /** The parsed `Detail`. */
  detail: Record<string, unknown>;
  /** `"default"` when the entry named no bus, as EventBridge does. */
  eventBusName: string;
  /** ISO 8601: the entry's `Time`, or when it was accepted. */
  time: string;
}

export type EventBridgeFault = "http500" | "entries";

export interface LocalEventBridge {
  /** `http://127.0.0.1:<port>`: pass it as the SDK client's `endpoint`. */
  endpoint: string;
  /** Every accepted entry, in order. */
  events(): RecordedEvent[];
  clear(): void;
  /**
   * Fault injection: the next n PutEvents calls answer HTTP 500 `InternalException` (the SDK
   * retries those, so n counts attempts, not publishes), or, with "entries", answer 200 with
   * every entry failed (`FailedEntryCount`, `ErrorCode: "InternalFailure"`) and record nothing.
   */
  failNext(n: number, mode?: EventBridgeFault): void;
  stop(): Promise<void>;
}

const JSON_11 = "application/x-amz-json-1.1";
const MAX_ENTRIES = 10;
/** EventBridge's limit on the entries of one request, counted as in `entrySize`. */
const MAX_REQUEST_BYTES = 256 * 1024;
/** Well above any valid request: a local server still should not buffer without bound. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ServiceError(413, "RequestEntityTooLarge", "too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, {
    "content-type": JSON_11,
    "x-amzn-requestid": randomUUID(),
  });
  response.end(JSON.stringify(body));
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const byteLength = (value: unknown) =>
  typeof value === "string" ? Buffer.byteLength(value, "utf8") : 0;

/** EventBridge's size of an entry: 14 bytes for Time, plus Source, DetailType, Detail, Resources. */
function entrySize(entry: Record<string, unknown>): number {
  const resources = Array.isArray(entry.Resources) ? entry.Resources : [];
  return (
    (entry.Time !== undefined ? 14 : 0) +
    byteLength(entry.Source) +
    byteLength(entry.DetailType) +
    byteLength(entry.Detail) +
    resources.reduce((sum: number, arn) => sum + byteLength(arn), 0)
  );
}

const invalid = (parameter: string, reason: string): EntryResult => ({
  ErrorCode: "InvalidArgument",
  ErrorMessage: `Parameter ${parameter} is not valid. Reason: ${reason}`,
});

/** One entry checked as EventBridge checks it: a recorded event, or the entry's error. */
function acceptEntry(entry: unknown): RecordedEvent | EntryResult {
  if (!isRecord(entry)) return invalid("Entry", "Entry must be an object.");
  const { Source, DetailType, Detail, EventBusName, Time } = entry;
  if (typeof Source !== "string" || Source === "")
    return invalid("Source", "Source is a required argument.");
  if (typeof DetailType !== "string" || DetailType === "")
    return invalid("DetailType", "DetailType is a required argument.");
  if (typeof Detail !== "string" || Detail === "")
    return invalid("Detail", "Detail is a required argument.");
  let detail: unknown;
  try {
    detail = JSON.parse(Detail);
  } catch {
    detail = undefined;
  }
  if (!isRecord(detail))
    return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
  // the JSON protocols send timestamps as epoch seconds (fractions for milliseconds)
  if (Time !== undefined && (typeof Time !== "number" || !Number.isFinite(Time)))
    return invalid("Time", "Time must be a timestamp in epoch seconds.");
  return {
    eventId: randomUUID(),
    source: Source,
    detailType: DetailType,
    detail,
    eventBusName: typeof EventBusName === "string" && EventBusName ? EventBusName : "default",
    time: new Date(typeof Time === "number" ? Time * 1000 : Date.now()).toISOString(),
  };
}

function validationError(message: string): ServiceError {
  return new ServiceError(400, "ValidationException", message);
}

/**
 * A local stand-in for EventBridge's `PutEvents`, speaking the AWS JSON 1.1 protocol as the real
 * SDK sends it (`POST /`, `X-Amz-Target: AWSEvents.PutEvents`), so tests and `npm start` publish
 * through the real `@aws-sdk/client-eventbridge` offline. Entries are validated one by one like
 * EventBridge does (a bad entry fails alone, with `ErrorCode`/`ErrorMessage`; the others are
 * accepted); a request with more than 10 entries or over 256 KB is a `ValidationException`.
 * Any bus name is accepted and nothing is delivered anywhere: accepted entries are recorded, and
 * `GET /_events` answers them as JSON. SigV4 signatures are not verified.
 */
export async function startLocalEventBridge(
  options: { host?: string; port?: number } = {},
): Promise<LocalEventBridge> {
  const recorded: RecordedEvent[] = [];
  let fault: { remaining: number; mode: EventBridgeFault } = { remaining: 0, mode: "http500" };

  const putEvents = (body: Buffer) => {
    let input: unknown;
    try {
      input = JSON.parse(body.toString("utf8"));
    } catch {
      throw new ServiceError(400, "SerializationException", "The request body is not valid JSON.");
    }
    const entries = isRecord(input) ? input.Entries : undefined;
    if (!Array.isArray(entries) || entries.length < 1)
      throw validationError(
        "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    if (entries.length > MAX_ENTRIES)
      throw validationError(
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
      );
    const total = entries.reduce(
      (sum: number, entry) => sum + (isRecord(entry) ? entrySize(entry) : 0),
      0,
    );
    if (total > MAX_REQUEST_BYTES)
      throw validationError("Total size of the entries in the request is over the limit.");

    if (fault.remaining > 0 && fault.mode === "entries") {
      fault.remaining--;
      return {
        FailedEntryCount: entries.length,
        Entries: entries.map(() => ({
          ErrorCode: "InternalFailure",
          ErrorMessage: "Internal service failure.",
        })),
      };
    }
    const results: EntryResult[] = entries.map((entry) => {
      const outcome = acceptEntry(entry);
      if (!("eventId" in outcome)) return outcome;
      recorded.push(outcome);
      return { EventId: outcome.eventId };
    });
    return {
      FailedEntryCount: results.filter((result) => "ErrorCode" in result).length,
      Entries: results,
    };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method === "GET" && path === "/_events") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(recorded));
      return;
    }
    if (request.method !== "POST" || path !== "/") {
      send(response, 404, { __type: "UnknownOperationException", message: "Not found." });
      return;
    }
    const body = await readBody(request);
    const contentType = String(request.headers["content-type"] ?? "");
    if (!contentType.startsWith(JSON_11))
      throw new ServiceError(400, "SerializationException", `Content-Type must be ${JSON_11}.`);
    const target = String(request.headers["x-amz-target"] ?? "");
    if (target !== "AWSEvents.PutEvents")
      throw new ServiceError(400, "UnknownOperationException", "Unknown operation.");
    if (fault.remaining > 0 && fault.mode === "http500") {
      fault.remaining--;
      throw new ServiceError(500, "InternalException", "Internal service failure.");
    }
    send(response, 200, putEvents(body));
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) return response.destroy();
      if (error instanceof ServiceError)
        send(response, error.status, { __type: error.type, message: error.message });
      else send(response, 500, { __type: "InternalException", message: "Internal failure." });
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? "127.0.0.1";
  return {
    endpoint: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    events: () => recorded.map((event) => ({ ...event })),
    clear: () => {
      recorded.length = 0;
    },
    failNext: (n, mode = "http500") => {
      fault = { remaining: n, mode };
    },
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

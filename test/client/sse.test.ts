import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readEventStream, type ServerSentEvent } from "../../client/sse.ts";

/**
 * The client's server-sent events reader: the event stream format's rules (line ends, comments,
 * the one leading space, `retry:`), and the same events however the bytes are cut into chunks
 * (a CRLF split between two chunks included).
 */
function bodyOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function read(chunks: string[]) {
  const events: ServerSentEvent[] = [];
  const retries: number[] = [];
  for await (const event of readEventStream(bodyOf(chunks), (ms) => retries.push(ms))) {
    events.push(event);
  }
  return { events, retries };
}

const STREAM = [
  "retry: 1500\r\n\r\n",
  ": keep-alive\n\n",
  'event: task\ndata: {"status":"SUBMITTED"}\nid: 1\n\n',
  "event: task\r\ndata:first line\r\ndata: second line\r\nid: 2\r\n\r\n",
  "data: no event name\rid\r\r",
  "event: task\nid: 3\n\n", // no data: nothing dispatched
  'event: task\ndata: {"status":"SUCCESS"}\nid: 4\n\n',
].join("");

const EXPECTED: ServerSentEvent[] = [
  { event: "task", data: '{"status":"SUBMITTED"}', id: "1" },
  { event: "task", data: "first line\nsecond line", id: "2" },
  // a bare `id` field sets the id to the empty string
  { event: "message", data: "no event name", id: "" },
  { event: "task", data: '{"status":"SUCCESS"}', id: "4" },
];

describe("readEventStream", () => {
  it("reads events, skips comments and data-less blocks, and reports retry", async () => {
    const { events, retries } = await read([STREAM]);
    expect(events).toEqual(EXPECTED);
    expect(retries).toEqual([1500]);
  });

  it("gives the same events however the bytes are chunked", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: STREAM.length - 1 }), { maxLength: 12 }),
        async (cuts) => {
          const points = [0, ...cuts.sort((a, b) => a - b), STREAM.length];
          const chunks = points.slice(1).map((end, i) => STREAM.slice(points[i], end));
          const { events, retries } = await read(chunks);
          expect(events).toEqual(EXPECTED);
          expect(retries).toEqual([1500]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("keeps the last id for events that carry none, and ignores a malformed retry", async () => {
    const { events, retries } = await read(["id: 7\ndata: a\n\ndata: b\n\nretry: soon\n\n"]);
    expect(events).toEqual([
      { event: "message", data: "a", id: "7" },
      { event: "message", data: "b", id: "7" },
    ]);
    expect(retries).toEqual([]);
  });
});

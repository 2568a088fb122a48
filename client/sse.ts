/** One event of a `text/event-stream` body. */
export interface ServerSentEvent {
  /** `event:`; "message" when the server named none */
  event: string;
  /** the `data:` lines, joined with "\n" */
  data: string;
  /** the last `id:` seen so far in this stream (the reconnect's Last-Event-ID), or null */
  id: string | null;
}

/**
 * Reads a server-sent events body as the event stream format defines it: lines end in CRLF, LF
 * or CR; a blank line dispatches the event; `:` lines are comments (keep-alives); a field's
 * value loses one leading space; `retry:` sets the reconnection time (given to `onRetry`).
 * Blocks without data dispatch nothing. `onChunk` hears of every chunk received, comments
 * included (a watchdog of the connection). Plain web streams: Node 20 and browsers alike.
 */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
  onRetry?: (ms: number) => void,
  onChunk?: () => void,
): AsyncGenerator<ServerSentEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | null = null;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onChunk?.();
      buffer += value;
      for (let match = /\r\n|\r|\n/.exec(buffer); match; match = /\r\n|\r|\n/.exec(buffer)) {
        // a CR at the very end may be the first half of a CRLF: wait for the next chunk
        if (match[0] === "\r" && match.index === buffer.length - 1) break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === "") {
          if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const raw = colon === -1 ? "" : line.slice(colon + 1);
        const text = raw.startsWith(" ") ? raw.slice(1) : raw;
        if (field === "event") event = text;
        else if (field === "data") data.push(text);
        else if (field === "id" && !text.includes("\0")) id = text;
        else if (field === "retry" && /^\d+$/.test(text)) onRetry?.(Number(text));
      }
    }
  } finally {
    // the consumer stopped early (or the stream failed): close the connection
    await reader.cancel().catch(() => {});
  }
}

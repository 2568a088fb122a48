// Hosts one bundled handler in its own Node process, the way the Lambda Node.js runtime does:
// the module is imported once (the cold start, with cwd = the bundle directory, like /var/task),
// then each event from the parent (over IPC) is one invocation with a Lambda context.
// Plain JavaScript: it runs on bare `node`, without tsx or vitest, next to the bundle only.
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { PassThrough } from "node:stream";
import { pathToFileURL } from "node:url";

const [file, exportName, timeoutMs] = process.argv.slice(2);

const send = (message) => new Promise((ok) => process.send(message, () => ok()));
const describe = (error) => ({
  name: error?.name ?? "Error",
  message: error?.message ?? String(error),
  stack: error?.stack,
});

// The runtime's global for response streaming (a function URL with streaming: true): a marked
// handler gets a writable stream; the answer's status and headers go first, as JSON and eight
// NUL bytes. An invocation of a streaming handler results in { metadata, body } here.
const STREAMING = Symbol("streaming");
globalThis.awslambda = {
  streamifyResponse: (fn) => Object.assign(fn, { [STREAMING]: true }),
  HttpResponseStream: {
    from(stream, metadata) {
      stream.write(Buffer.concat([Buffer.from(JSON.stringify(metadata)), Buffer.alloc(8, 0)]));
      return stream;
    },
  },
};

async function invokeStreaming(event, context) {
  const stream = new PassThrough();
  const chunks = [];
  stream.on("data", (chunk) => chunks.push(chunk));
  await handler(event, stream, context);
  const all = Buffer.concat(chunks);
  const split = all.indexOf(Buffer.alloc(8, 0));
  return {
    metadata: JSON.parse(all.subarray(0, split).toString("utf8")),
    body: all.subarray(split + 8).toString("utf8"),
  };
}

let handler;
try {
  const module = await import(pathToFileURL(resolve(file)).href);
  handler = module[exportName];
  if (typeof handler !== "function") throw new Error(`${file} does not export ${exportName}`);
} catch (error) {
  await send({ type: "init-error", error: describe(error) });
  process.exit(1);
}

process.on("message", async ({ id, event }) => {
  const started = Date.now();
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${name}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "2026/11/25/[$LATEST]0123456789abcdef",
    getRemainingTimeInMillis: () => Math.max(0, Number(timeoutMs) - (Date.now() - started)),
  };
  try {
    const result = handler[STREAMING]
      ? await invokeStreaming(event, context)
      : await handler(event, context);
    await send({ type: "result", id, result });
  } catch (error) {
    await send({ type: "error", id, error: describe(error) });
  }
});

await send({ type: "ready" });

import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readEventStream } from "../../client/sse.ts";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";
import { apiGatewayV2Event, lambdaContext } from "./events.ts";

/**
 * The stream function's Lambda entry (functions/lambda/stream.ts) as Lambda runs it behind a function
 * URL with response streaming, and read's answer to the same route behind API Gateway.
 * Faked here: AWS itself, i.e. the function URL's event (built by hand in its payload v2 shape)
 * and the `awslambda` global that Lambda's Node runtime provides to streaming handlers
 * (`streamifyResponse`, and `HttpResponseStream.from`, which writes the answer's status and
 * headers as JSON and eight NUL bytes before the body, as the runtime does). DynamoDB Local, the
 * simulator and the code under test are real.
 */
let stack: TestStack;
const saved = { ...process.env };
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startTestStack();
  env = {
    TABLE_NAME: stack.tableName,
    DYNAMODB_ENDPOINT: stack.dynamodbEndpoint,
    PUBLIC_URL: stack.url,
    // read lists the upstreams' ids on /health
    MJ_API_BASE_URL: stack.upstreamUrl,
    API_KEYS: `alice:${OWNERS.alice.key},bob:${OWNERS.bob.key}`,
    IMAGE_DIR: stack.imageDir ?? "",
    IMAGE_URL_SECRET: randomBytes(24).toString("base64url"),
    EVENTS_INTERVAL_MS: "100",
  };
  const prelude = Buffer.alloc(8, 0);
  Object.assign(globalThis, {
    awslambda: {
      streamifyResponse: (handler: unknown) => handler,
      HttpResponseStream: {
        from(stream: PassThrough, metadata: unknown) {
          stream.write(Buffer.concat([Buffer.from(JSON.stringify(metadata)), prelude]));
          return stream;
        },
      },
    },
  });
});
afterAll(async () => {
  process.env = saved;
  Reflect.deleteProperty(globalThis, "awslambda");
  await stack.stop();
});

async function entry(name: "stream" | "read", overrides: Record<string, string> = {}) {
  vi.resetModules();
  process.env = { ...saved, ...env, ...overrides };
  const module = await import(`../../functions/lambda/${name}.ts`);
  return module.handler as (...args: unknown[]) => Promise<any>;
}

/** Invokes a streaming handler; what it wrote: the metadata, then the body. */
async function invokeStreaming(handler: (...args: unknown[]) => Promise<unknown>, event: unknown) {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  await handler(event, stream, lambdaContext("paperboat-stream"));
  const all = Buffer.concat(chunks);
  const split = all.indexOf(Buffer.alloc(8, 0));
  const metadata = JSON.parse(all.subarray(0, split).toString("utf8"));
  return { metadata, body: all.subarray(split + 8).toString("utf8") };
}

const functionUrlEvent = (path: string, headers: Record<string, string> = {}) =>
  apiGatewayV2Event({
    method: "GET",
    path,
    routeKey: "$default",
    headers: { host: "abc123.lambda-url.us-east-1.on.aws", ...headers },
  });

async function statesOf(body: string) {
  const bytes = new Blob([body]).stream();
  const states: string[] = [];
  for await (const event of readEventStream(bytes)) {
    const task = JSON.parse(event.data);
    states.push(`${event.id}:${task.status}:${task.progress}`);
  }
  return states;
}

describe("the stream function behind its function URL", () => {
  it("streams a task's states to its end, each once; resumes after Last-Event-ID", async () => {
    const alice = api(stack, OWNERS.alice.key);
    const task = await alice.imagine({ prompt: "a paper boat, streamed from Lambda" });
    const handler = await entry("stream");
    const auth = { authorization: `Bearer ${OWNERS.alice.key}` };
    const { metadata, body } = await invokeStreaming(
      handler,
      functionUrlEvent(`/v1/tasks/${task.body.id}/events`, auth),
    );
    expect(metadata).toMatchObject({
      statusCode: 200,
      headers: { "content-type": "text/event-stream" },
    });
    const states = await statesOf(body);
    expect(states[0]).toBe("1:NOT_START:0");
    expect(states.at(-1)).toMatch(/:SUCCESS:100$/);
    expect(states.map((s) => s.split(":")[0])).toEqual(states.map((_, i) => String(i + 1)));

    const resumed = await invokeStreaming(
      handler,
      functionUrlEvent(`/v1/tasks/${task.body.id}/events`, { ...auth, "last-event-id": "2" }),
    );
    expect(await statesOf(resumed.body)).toEqual(states.slice(2));
  });

  it("checks the API key itself: 401 without one, 404 for another owner's task and other paths", async () => {
    const alice = api(stack, OWNERS.alice.key);
    const task = await alice.imagine({ prompt: "alice's boat, not bob's" });
    const handler = await entry("stream");
    const path = `/v1/tasks/${task.body.id}/events`;
    const anonymous = await invokeStreaming(handler, functionUrlEvent(path));
    expect(anonymous.metadata.statusCode).toBe(401);
    expect(JSON.parse(anonymous.body).error.code).toBe("unauthorized");
    const bob = await invokeStreaming(
      handler,
      functionUrlEvent(path, { authorization: `Bearer ${OWNERS.bob.key}` }),
    );
    expect(bob.metadata.statusCode).toBe(404);
    expect(JSON.parse(bob.body).error.code).toBe("not_found");
    const elsewhere = await invokeStreaming(
      handler,
      functionUrlEvent(`/v1/tasks/${task.body.id}`, {
        authorization: `Bearer ${OWNERS.alice.key}`,
      }),
    );
    expect(elsewhere.metadata.statusCode).toBe(404);
  });
});

describe("read behind API Gateway (EVENTS_MAX_SECONDS 0)", () => {
  it("answers the states recorded so far in one buffered answer, with the retry time", async () => {
    const alice = api(stack, OWNERS.alice.key);
    const task = await alice.imagine({ prompt: "a paper boat, one read" });
    await eventually(
      () => alice.task(task.body.id),
      (r) => r.body?.status === "SUCCESS",
    );
    const read = await entry("read", { EVENTS_MAX_SECONDS: "0" });
    const answer = await read(
      apiGatewayV2Event({
        method: "GET",
        path: `/v1/tasks/${task.body.id}/events`,
        routeKey: "GET /v1/tasks/{id}/events",
        headers: { authorization: `Bearer ${OWNERS.alice.key}`, "last-event-id": "1" },
      }),
      lambdaContext("paperboat-read"),
    );
    expect(answer.statusCode).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^text\/event-stream/);
    // API Gateway decodes a body the handler marks as base64
    const body = answer.isBase64Encoded
      ? Buffer.from(answer.body, "base64").toString("utf8")
      : answer.body;
    expect(body).toMatch(/^retry: 100\n\n/);
    const states = await statesOf(body);
    expect(states[0]).toBe("2:SUBMITTED:0");
    expect(states.at(-1)).toMatch(/:SUCCESS:100$/);
  });
});

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createStateToken } from "../../functions/core/state-token.ts";
import { OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";
import { apiGatewayV2Event, lambdaContext, scheduledEvent } from "./events.ts";

/**
 * Each Lambda entry point (functions/lambda/*.ts) imported as Lambda imports it, configured through its
 * environment, and invoked with realistic events. AWS itself is the one part faked here: the
 * events are built by hand in the shape API Gateway v2 and EventBridge Scheduler send.
 * DynamoDB Local and the simulator are real (they come from a test stack whose HTTP server
 * the entries do not use).
 */
let stack: TestStack;
const callbackSecret = randomBytes(32).toString("base64url");
let env: Record<string, string>;
const saved = { ...process.env };

beforeAll(async () => {
  stack = await startTestStack({ callbackSecret });
  env = {
    TABLE_NAME: stack.tableName,
    DYNAMODB_ENDPOINT: stack.dynamodbEndpoint,
    MJ_API_BASE_URL: stack.upstreamUrl,
    MJ_API_KEY: "sim-local-key",
    PUBLIC_URL: stack.url,
    CALLBACK_SECRET: callbackSecret,
    API_KEYS: `alice:${OWNERS.alice.key}`,
    // durable image copies on disk (the test stack's folder), links signed with this secret
    IMAGE_DIR: stack.imageDir ?? "",
    IMAGE_URL_SECRET: randomBytes(24).toString("base64url"),
    ALLOW_PRIVATE_IMAGE_SOURCES: "true",
  };
});
afterAll(async () => {
  process.env = saved;
  await stack.stop();
});

async function entry(
  name: "submit" | "callback" | "read" | "reconcile" | "admin",
  overrides: Record<string, string | undefined> = {},
) {
  vi.resetModules();
  process.env = { ...saved, ...env, ...overrides };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete process.env[k];
  const module = await import(`../../functions/lambda/${name}.ts`);
  return module.handler as (event: unknown, context: unknown) => Promise<any>;
}

describe("Lambda entry points", () => {
  it("admin: ADMIN_KEY creates a key through its handler, the read handler takes it; no ADMIN_KEY fails at cold start", async () => {
    const adminKey = `pba_${randomBytes(24).toString("base64url")}`;
    const admin = await entry("admin", { ADMIN_KEY: adminKey });
    const created = await admin(
      apiGatewayV2Event({
        method: "POST",
        path: "/v1/admin/keys",
        headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ owner: "lambda-owner" }),
      }),
      lambdaContext("paperboat-admin"),
    );
    expect(created.statusCode).toBe(201);
    const { key } = JSON.parse(created.body);
    const read = await entry("read");
    const listed = await read(
      apiGatewayV2Event({
        method: "GET",
        path: "/v1/tasks",
        headers: { authorization: `Bearer ${key}` },
      }),
      lambdaContext("paperboat-read"),
    );
    expect(listed.statusCode).toBe(200);
    await expect(entry("admin", { ADMIN_KEY: undefined })).rejects.toThrow(
      "setting ADMIN_KEY is missing",
    );
  });

  it("submit → callback → read, each through its handler and API Gateway v2 events", async () => {
    const submit = await entry("submit");
    const answer = await submit(
      apiGatewayV2Event({
        method: "POST",
        path: "/v1/imagine",
        headers: { authorization: `Bearer ${OWNERS.alice.key}` },
        body: JSON.stringify({ prompt: "lambda boat --sim-drop-hooks" }),
      }),
      lambdaContext("paperboat-submit"),
    );
    expect(answer.statusCode).toBe(202);
    const task = JSON.parse(answer.body);
    expect(task.status).toBe("SUBMITTED");

    const callback = await entry("callback");
    const hook = await callback(
      apiGatewayV2Event({
        method: "POST",
        path: "/hooks/midjourney",
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify({
          id: task.upstreamTaskId,
          status: "IN_PROGRESS",
          progress: "46%",
          state: createStateToken(callbackSecret, task.id),
        }),
      }),
      lambdaContext("paperboat-callback"),
    );
    expect(hook.statusCode).toBe(200);

    const read = await entry("read");
    const got = await read(
      apiGatewayV2Event({
        method: "GET",
        path: `/v1/tasks/${task.id}`,
        routeKey: "GET /v1/tasks/{id}",
        headers: { authorization: `Bearer ${OWNERS.alice.key}` },
      }),
      lambdaContext("paperboat-read"),
    );
    expect(got.statusCode).toBe(200);
    expect(JSON.parse(got.body)).toMatchObject({
      id: task.id,
      status: "IN_PROGRESS",
      progress: 46,
    });

    const list = await read(
      apiGatewayV2Event({
        method: "GET",
        path: "/v1/tasks",
        query: "limit=1&status=IN_PROGRESS",
        headers: { authorization: `Bearer ${OWNERS.alice.key}` },
      }),
      lambdaContext("paperboat-read"),
    );
    expect(JSON.parse(list.body).items.map((t: { id: string }) => t.id)).toEqual([task.id]);

    // the reconciler's scheduled run finishes the task whose webhooks were dropped
    await stack.simulator?.idle();
    const reconcile = await entry("reconcile");
    // a fresh run of the deployed function has its 50 s ahead (the copier keeps 25 s spare)
    const report = await reconcile(scheduledEvent(), {
      ...lambdaContext("paperboat-reconcile"),
      getRemainingTimeInMillis: () => 50_000,
    });
    expect(report.applied).toBeGreaterThanOrEqual(1);
    // the same run copied the finished task's images
    expect(report.images.copied).toBeGreaterThanOrEqual(1);
    const after = await read(
      apiGatewayV2Event({
        method: "GET",
        path: `/v1/tasks/${task.id}`,
        headers: { authorization: `Bearer ${OWNERS.alice.key}` },
      }),
      lambdaContext("paperboat-read"),
    );
    const finished = JSON.parse(after.body);
    expect(finished).toMatchObject({ status: "SUCCESS", imagesStatus: "done" });
    expect(finished.images[0]).toMatchObject({
      kind: "grid",
      url: expect.stringMatching(/\/images\/[0-9A-Z]{26}\/grid\.png\?expires=\d+&sig=/),
    });
  });

  it("answers bad input through the entry with the contract's 4xx", async () => {
    const submit = await entry("submit");
    const answer = await submit(
      apiGatewayV2Event({
        method: "POST",
        path: "/v1/imagine",
        headers: { authorization: `Bearer ${OWNERS.alice.key}` },
        body: "{nope",
      }),
      lambdaContext("paperboat-submit"),
    );
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body).error.code).toBe("invalid_json");
  });

  it("refuses to start with a missing or malformed setting, naming it", async () => {
    await expect(entry("read", { API_KEYS: undefined })).rejects.toThrow(
      "paperboat: setting API_KEYS is missing",
    );
    await expect(entry("submit", { MJ_API_BASE_URL: "ftp://nope" })).rejects.toThrow(
      /paperboat: setting MJ_API_BASE_URL is malformed/,
    );
    await expect(entry("callback", { CALLBACK_SECRET: "short" })).rejects.toThrow(
      /CALLBACK_SECRET is malformed/,
    );
    await expect(entry("read", { IMAGE_DIR: undefined })).rejects.toThrow(
      "paperboat: setting IMAGE_BUCKET is missing (or IMAGE_DIR, for image copies on disk)",
    );
    await expect(entry("read", { IMAGE_URL_SECRET: undefined })).rejects.toThrow(
      "paperboat: setting IMAGE_URL_SECRET is missing (IMAGE_DIR needs it)",
    );
    await expect(entry("reconcile", { ALLOW_PRIVATE_IMAGE_SOURCES: "maybe" })).rejects.toThrow(
      /ALLOW_PRIVATE_IMAGE_SOURCES is malformed/,
    );
  });
});

describe("log lines of an invocation", () => {
  /** Runs `fn` with stdout captured: the JSON lines the entries write (functions/log.ts). */
  async function linesOf(fn: () => Promise<unknown>) {
    const lines: Record<string, unknown>[] = [];
    const raw: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: unknown) => {
      const text = String(chunk);
      raw.push(text);
      for (const line of text.split("\n").filter((l) => l.startsWith("{"))) {
        lines.push(JSON.parse(line));
      }
      return true;
    });
    try {
      await fn();
    } finally {
      spy.mockRestore();
    }
    return { lines, raw: raw.join("") };
  }

  it("carry the Lambda request id and the task id, and never the state token", async () => {
    const submit = await entry("submit");
    const submitContext = lambdaContext("paperboat-submit");
    let task: { id: string; upstreamTaskId: string } = { id: "", upstreamTaskId: "" };
    const submitted = await linesOf(async () => {
      const answer = await submit(
        apiGatewayV2Event({
          method: "POST",
          path: "/v1/imagine",
          headers: { authorization: `Bearer ${OWNERS.alice.key}` },
          body: JSON.stringify({ prompt: "logged boat --sim-drop-hooks" }),
        }),
        submitContext,
      );
      task = JSON.parse(answer.body);
    });
    expect(submitted.lines.length).toBeGreaterThan(0);
    for (const line of submitted.lines) {
      expect(line).toMatchObject({ awsRequestId: submitContext.awsRequestId });
    }

    const callback = await entry("callback");
    const state = createStateToken(callbackSecret, task.id);
    // two invocations: an update, then a status the callback does not know (a warning)
    const contexts = [lambdaContext("paperboat-callback"), lambdaContext("paperboat-callback")];
    const hooks = await linesOf(async () => {
      for (const [i, status] of ["IN_PROGRESS", "SOMETHING_NEW"].entries()) {
        const hook = await callback(
          apiGatewayV2Event({
            method: "POST",
            path: "/hooks/midjourney",
            body: JSON.stringify({ id: task.upstreamTaskId, status, progress: "46%", state }),
          }),
          contexts[i],
        );
        expect(hook.statusCode).toBe(200);
      }
    });
    expect(hooks.lines.map((l) => [l.message, l.awsRequestId, l.taskId])).toEqual([
      ["webhook", contexts[0]?.awsRequestId, task.id],
      ["webhook with unknown status ignored", contexts[1]?.awsRequestId, task.id],
    ]);
    expect(hooks.raw).not.toContain(state);
    expect(hooks.raw).not.toContain(callbackSecret);
  });
});

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

let stack: TestStack;
let alice: ReturnType<typeof api>;

beforeAll(async () => {
  stack = await startTestStack({ upstreamTimeoutMs: 400 });
  alice = api(stack, OWNERS.alice.key);
});
afterAll(() => stack.stop());

const PNG_1x1 =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

describe("POST /v1/imagine: bad input is a 4xx with the contract's body, and records nothing", () => {
  it.each<[string, unknown, string]>([
    ["malformed JSON", "{prompt:", "invalid_json"],
    ["an empty body", "", "invalid_json"],
    ["a JSON array", [], "validation_failed"],
    ["no prompt", {}, "validation_failed"],
    ["a blank prompt", { prompt: "   " }, "validation_failed"],
    ["a number as prompt", { prompt: 42 }, "validation_failed"],
    ["an unknown botType", { prompt: "p", botType: "DALL_E" }, "validation_failed"],
    ["an unknown field", { prompt: "p", colour: "red" }, "validation_failed"],
    [
      "an image that is not a data URI",
      { prompt: "p", base64Array: ["https://example.org/a.png"] },
      "validation_failed",
    ],
    [
      "a data URI that is not an image",
      { prompt: "p", base64Array: ["data:image/png;base64,aGVsbG8gd29ybGQ="] },
      "validation_failed",
    ],
    ["six images", { prompt: "p", base64Array: Array(6).fill(PNG_1x1) }, "validation_failed"],
    [
      "a webhookUrl that is not a URL",
      { prompt: "p", webhookUrl: "not a url" },
      "validation_failed",
    ],
    ["metadata that is not an object", { prompt: "p", metadata: [1, 2] }, "validation_failed"],
    ["metadata over 4 KB", { prompt: "p", metadata: { x: "y".repeat(5000) } }, "validation_failed"],
    [
      "an unknown accountFilter mode",
      { prompt: "p", accountFilter: { modes: ["SLOW"] } },
      "validation_failed",
    ],
  ])("%s", async (_name, body, code) => {
    const before = (await alice.list("?limit=100")).body.items.length;
    const answer = await alice.imagine(body);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code, message: expect.any(String) });
    if (code === "validation_failed" && !Array.isArray(body)) {
      expect(answer.body.error.details[0]).toMatchObject({
        path: expect.any(String),
        message: expect.any(String),
      });
    }
    expect((await alice.list("?limit=100")).body.items.length).toBe(before);
  });

  it("accepts a real image prompt", async () => {
    const answer = await alice.imagine({
      prompt: "p",
      base64Array: [PNG_1x1],
      botType: "NIJI_JOURNEY",
    });
    expect(answer.status).toBe(202);
  });

  it("needs a valid API key", async () => {
    const none = await api(stack, "").imagine({ prompt: "p" });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe("unauthorized");
    expect((await api(stack, "wrong-key-123").imagine({ prompt: "p" })).status).toBe(401);
  });

  it("property: however odd its JSON body, a submit is answered 202 or a contract 4xx, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.record({ prompt: fc.oneof(fc.string(), fc.jsonValue()) }, { requiredKeys: [] }),
          fc.record({
            prompt: fc.constant("p"),
            botType: fc.oneof(fc.string(), fc.constant("MID_JOURNEY")),
            base64Array: fc.array(fc.string(), { maxLength: 3 }),
            metadata: fc.jsonValue(),
          }),
        ),
        async (body) => {
          const answer = await alice.imagine(
            typeof body === "string" ? body : JSON.stringify(body),
          );
          return (
            answer.status === 202 ||
            (answer.status >= 400 &&
              answer.status < 500 &&
              typeof answer.body?.error?.code === "string")
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("POST /v1/imagine: each upstream answer maps as the contract's table says", () => {
  it.each<[string, number, string, Record<string, unknown>]>([
    ["queued (code 22)", 202, "--sim-queued", { status: "SUBMITTED" }],
    [
      "banned prompt (code 24)",
      422,
      "--sim-submit=bannedPrompt",
      {
        status: "FAILURE",
        failReason: "the prompt may contain banned words",
        upstreamFailReason: "可能包含敏感词",
      },
    ],
    ["validation refusal (code 4)", 422, "--sim-submit=refused", { status: "FAILURE" }],
    ["TA envelope", 422, "--sim-submit=envelope", { status: "FAILURE" }],
    ["queue full (23, HTTP 429)", 429, "--sim-submit=queueFull", { status: "FAILURE" }],
    ["HTTP 500", 502, "--sim-submit=http500", { status: "FAILURE" }],
    ["not JSON", 502, "--sim-submit=garbage", { status: "FAILURE" }],
    ["empty answer", 502, "--sim-submit=empty", { status: "FAILURE" }],
    ["timeout", 502, "--sim-submit=timeout", { status: "FAILURE" }],
  ])("%s → %i", async (_name, status, directive, task) => {
    const answer = await alice.imagine({ prompt: `a harbour ${directive}` });
    expect(answer.status).toBe(status);
    if (status === 202) {
      expect(answer.body).toMatchObject(task);
      return;
    }
    expect(answer.body.error.code).toBe(
      status === 422
        ? "upstream_rejected"
        : status === 429
          ? "upstream_busy"
          : "upstream_unavailable",
    );
    expect(answer.body.task).toMatchObject(task);
    expect(answer.body.task.failReason).toEqual(expect.any(String));
    if (status === 429) expect(Number(answer.headers.get("retry-after"))).toBeGreaterThan(0);
    // the failure is recorded, not lost
    expect((await alice.task(answer.body.task.id)).body).toMatchObject(task);
  });

  it("keeps a job whose answer was lost when its webhook proves it started (no 502, no lost job)", async () => {
    const answer = await alice.imagine({ prompt: "slow gateway --sim-submit=acceptedTimeout" });
    expect(answer.status).toBe(202);
    expect(answer.body.upstreamTaskId).toEqual(expect.stringMatching(/^\d+$/));
    await stack.simulator?.idle();
    expect((await alice.task(answer.body.id)).body.status).toBe("SUCCESS");
  });

  it("fails a lost answer with no webhook to prove the job (502): the contract's 'unless proven started'", async () => {
    const answer = await alice.imagine({
      prompt: "silent gateway --sim-submit=acceptedTimeout --sim-drop-hooks",
    });
    expect(answer.status).toBe(502);
    expect(answer.body.task).toMatchObject({ status: "FAILURE", upstreamTaskId: null });
  });

  it("answers 502 when the upstream cannot be reached at all", async () => {
    const dead = await startTestStack({ upstream: { baseUrl: "http://127.0.0.1:1", apiKey: "k" } });
    try {
      const answer = await api(dead, OWNERS.alice.key).imagine({ prompt: "p" });
      expect(answer.status).toBe(502);
      expect(answer.body).toMatchObject({
        error: { code: "upstream_unavailable" },
        task: { status: "FAILURE" },
      });
    } finally {
      await dead.stop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUpstreamClient } from "../../functions/upstream/client.ts";
import { serveOverHttp } from "../serve.ts";

/**
 * A canned upstream over real HTTP: each test queues the raw answers the next calls get,
 * copied from the answers real midjourney-proxy servers and gateways give
 * (docs/upstreams.md §2, §5).
 */
type Canned = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number };
const queue: Canned[] = [];
const seen: { method: string; path: string; auth: string | null; body: string }[] = [];
let server: Awaited<ReturnType<typeof serveOverHttp>>;

beforeAll(async () => {
  server = await serveOverHttp(async (request) => {
    const url = new URL(request.url);
    seen.push({
      method: request.method,
      path: url.pathname,
      auth: request.headers.get("authorization"),
      body: await request.text(),
    });
    const next = queue.shift() ?? { status: 500, body: "no canned answer" };
    if (next.delayMs) await new Promise((r) => setTimeout(r, next.delayMs));
    return new Response(next.status === 204 ? null : (next.body ?? ""), {
      status: next.status,
      headers: next.headers,
    });
  });
});
afterAll(() => server.close());

/** The waits between read attempts, recorded instead of slept (jitter fixed at half). */
const waits: number[] = [];
const client = () =>
  createUpstreamClient({
    baseUrl: `${server.url}/`,
    apiKey: "upstream-key",
    timeoutMs: 300,
    retryBaseMs: 200,
    retryCapMs: 700,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });

const json = (value: unknown) => JSON.stringify(value);

describe("submit: every answer of the upstream family maps to one outcome", () => {
  it.each<[string, Canned, unknown]>([
    [
      "code 1, string id",
      {
        status: 200,
        body: json({
          code: 1,
          description: "提交成功",
          result: "1773314942177684",
          properties: {},
        }),
      },
      { kind: "accepted", upstreamTaskId: "1773314942177684" },
    ],
    [
      "code 1, numeric id",
      { status: 200, body: json({ code: 1, description: "ok", result: 1320098173412546 }) },
      { kind: "accepted", upstreamTaskId: "1320098173412546" },
    ],
    [
      "code 22 queued",
      {
        status: 200,
        body: json({
          code: 22,
          description: "排队中，前面还有1个任务",
          result: "0741798445574458",
          properties: { numberOfQueues: 1 },
        }),
      },
      { kind: "accepted", upstreamTaskId: "0741798445574458" },
    ],
    [
      "code 21 modal",
      {
        status: 200,
        body: json({ code: 21, description: "窗口等待", result: "14001929738841620" }),
      },
      { kind: "modal", upstreamTaskId: "14001929738841620" },
    ],
    [
      "code 24 banned prompt",
      {
        status: 200,
        body: json({ code: 24, description: "可能包含敏感词", properties: { bannedWord: "nude" } }),
      },
      { kind: "rejected", code: 24, reason: "可能包含敏感词" },
    ],
    [
      "code 4 validation",
      { status: 200, body: json({ code: 4, description: "prompt不能为空" }) },
      { kind: "rejected", code: 4, reason: "prompt不能为空" },
    ],
    [
      "code 9 system error",
      { status: 200, body: json({ code: 9, description: "提交失败，系统异常" }) },
      { kind: "rejected", code: 9, reason: "提交失败，系统异常" },
    ],
    [
      "code 9 queue full (TA)",
      { status: 200, body: json({ code: 9, description: "提交失败，队列已满，请稍后重试" }) },
      { kind: "busy", retryAfterSeconds: 30, reason: "提交失败，队列已满，请稍后重试" },
    ],
    [
      "TA envelope",
      {
        status: 200,
        body: json({
          success: false,
          code: -1,
          message: "服务暂不可用，请联系管理员",
          timestamp: "1",
        }),
      },
      { kind: "rejected", code: -1, reason: "服务暂不可用，请联系管理员" },
    ],
    [
      "code 23, HTTP 429 with Retry-After",
      {
        status: 429,
        body: json({ code: 23, description: "队列已满，请稍后尝试", result: "1" }),
        headers: { "retry-after": "12" },
      },
      { kind: "busy", retryAfterSeconds: 12, reason: "队列已满，请稍后尝试" },
    ],
    [
      "code 23 at HTTP 200",
      { status: 200, body: json({ code: 23, description: "队列已满，请稍后尝试", result: "1" }) },
      { kind: "busy", retryAfterSeconds: 30, reason: "队列已满，请稍后尝试" },
    ],
    [
      "gateway 400",
      {
        status: 400,
        body: json({ description: "prompt_is_required ", type: "upstream_error", code: 4 }),
      },
      { kind: "rejected", code: 4, reason: "prompt_is_required" },
    ],
    [
      "HTTP 500 envelope",
      { status: 500, body: json({ success: false, code: -1, message: "操作失败" }) },
      // nothing accepted: a submit may go on to another upstream (docs/upstreams.md)
      { kind: "unavailable", reason: "HTTP 500", nothingStarted: true },
    ],
    [
      "HTTP 503",
      { status: 503, body: "" },
      { kind: "unavailable", reason: "HTTP 503", nothingStarted: true },
    ],
    // a gateway that stopped waiting: the host behind it may have started the job
    ["HTTP 504", { status: 504, body: "" }, { kind: "unavailable", reason: "HTTP 504" }],
    [
      "not JSON",
      { status: 200, body: "<html>Bad gateway</html>" },
      { kind: "unavailable", reason: "answer is not JSON (HTTP 200)" },
    ],
    [
      "empty",
      { status: 200, body: "" },
      { kind: "unavailable", reason: "empty answer (HTTP 200)" },
    ],
    [
      "accepted without id",
      { status: 200, body: json({ code: 1, description: "ok", result: null }) },
      { kind: "unavailable", reason: "accepted without a task id" },
    ],
    // trueai-org/midjourney-proxy, src/Midjourney.API/Controllers/SubmitController.cs: per-user
    // limits are a LogicException, code 4 from imagine and the {success:false} envelope from
    // the other routes; src/Midjourney.Services/TaskService.cs: code 3 "无可用的账号实例".
    [
      "TA code 4 concurrency limit (busy, not refused)",
      { status: 200, body: json({ code: 4, description: "并发数已达上限", result: null }) },
      { kind: "busy", retryAfterSeconds: 30, reason: "并发数已达上限" },
    ],
    [
      "TA code 4 queue limit",
      { status: 200, body: json({ code: 4, description: "队列数已达上限", result: null }) },
      { kind: "busy", retryAfterSeconds: 30, reason: "队列数已达上限" },
    ],
    [
      "TA code 3 no account instance",
      { status: 200, body: json({ code: 3, description: "无可用的账号实例", result: null }) },
      { kind: "busy", retryAfterSeconds: 30, reason: "无可用的账号实例" },
    ],
    [
      "TA envelope with a limit",
      {
        status: 200,
        body: json({ success: false, code: -1, message: "并发数已达上限", timestamp: "1" }),
      },
      { kind: "busy", retryAfterSeconds: 30, reason: "并发数已达上限" },
    ],
    [
      "TA code 4 bad parameters stays a refusal",
      { status: 200, body: json({ code: 4, description: "prompt不能为空", result: null }) },
      { kind: "rejected", code: 4, reason: "prompt不能为空" },
    ],
    [
      "auth refused",
      { status: 401, body: json({ error: { message: "bad key", type: "comet_api_error" } }) },
      {
        kind: "unavailable",
        reason: "the upstream refused our credentials (HTTP 401)",
        nothingStarted: true,
      },
    ],
    [
      "timeout",
      { status: 200, body: json({ code: 1, result: "1" }), delayMs: 1000 },
      { kind: "unavailable", reason: "no answer within 300 ms" },
    ],
  ])("%s", async (_name, canned, outcome) => {
    queue.length = 0;
    queue.push(canned);
    expect(await client().submit("imagine", { prompt: "p" })).toEqual(outcome);
  });

  it("sends the key as a Bearer token and never retries a submit", async () => {
    queue.length = 0;
    seen.length = 0;
    queue.push({ status: 503 }, { status: 200, body: json({ code: 1, result: "5" }) });
    expect((await client().submit("imagine", { prompt: "p" })).kind).toBe("unavailable");
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: "POST",
      path: "/mj/submit/imagine",
      auth: "Bearer upstream-key",
    });
    expect(JSON.parse(seen[0]?.body ?? "{}")).toEqual({ prompt: "p" });
  });

  it("reports a refused connection as unavailable, with nothing started", async () => {
    // a port nothing listens on: the connection is refused, so no job can exist upstream and
    // failover may try the next upstream at once
    const dead = createUpstreamClient({
      baseUrl: "http://127.0.0.1:1",
      apiKey: "k",
      timeoutMs: 500,
    });
    expect(await dead.submit("imagine", { prompt: "p" })).toEqual({
      kind: "unavailable",
      reason: "the upstream refused the connection",
      nothingStarted: true,
    });
  });
});

describe("reads: the three 'unknown task' answers, retries, permissive parsing", () => {
  it.each<[string, Canned]>([
    ["200 with an empty body (NZ)", { status: 200, body: "" }],
    ["204 (TA)", { status: 204 }],
    [
      "400 task_no_found (NA/CometAPI)",
      {
        status: 400,
        body: json({ description: "task_no_found ", type: "upstream_error", code: 4 }),
      },
    ],
  ])("fetch: %s is 'not found'", async (_name, canned) => {
    queue.length = 0;
    queue.push(canned);
    expect(await client().fetchTask("123")).toBeNull();
  });

  it("fetch retries 5xx and timeouts with capped backoff, then parses the task permissively", async () => {
    queue.length = 0;
    seen.length = 0;
    waits.length = 0;
    queue.push(
      { status: 502, body: "bad gateway" },
      { status: 200, body: "{}", delayMs: 1000 },
      {
        status: 200,
        body: json({
          id: 1748339029401828,
          status: "IN_PROGRESS",
          progress: "57%",
          buttons: null,
          imageUrl: "https://cdn.example/preview.png",
          somethingNew: { nested: true },
        }),
      },
    );
    const task = await client().fetchTask("1748339029401828");
    expect(seen).toHaveLength(3);
    // half of min(cap 700, 200 * 2^attempt): 200, then 350 where the cap holds it
    expect(waits).toEqual([200, 350]);
    expect(task).toMatchObject({
      id: "1748339029401828",
      status: "IN_PROGRESS",
      progress: 57,
      buttons: [],
    });
  });

  it("fetch gives up after its attempts with an error that names the failure", async () => {
    queue.length = 0;
    queue.push({ status: 500 }, { status: 500 }, { status: 500 });
    await expect(client().fetchTask("1")).rejects.toThrow(/fetch failed after 3 attempts/);
  });

  it("list-by-condition posts the ids and skips items it cannot read", async () => {
    queue.length = 0;
    seen.length = 0;
    queue.push({
      status: 200,
      body: json([
        {
          id: "1",
          status: "SUCCESS",
          progress: "100%",
          buttons: [{ customId: "MJ::JOB::upsample::1::x", label: "U1" }],
        },
        { nonsense: true },
        {
          id: "2",
          status: "FAILURE",
          progress: "",
          failReason: "[Invalid parameter] Invalid value",
        },
      ]),
    });
    const tasks = await client().listByCondition(["1", "2", "3"]);
    expect(JSON.parse(seen[0]?.body ?? "{}")).toEqual({ ids: ["1", "2", "3"] });
    expect(tasks.map((t) => [t.id, t.status, t.progress])).toEqual([
      ["1", "SUCCESS", 100],
      ["2", "FAILURE", null],
    ]);
    expect(tasks[0]?.buttons[0]).toEqual({
      customId: "MJ::JOB::upsample::1::x",
      label: "U1",
      emoji: "",
      style: 2,
      type: 2,
    });
  });
});

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskStore } from "../../functions/core/ports.ts";
import { createStateToken } from "../../functions/core/state-token.ts";
import { newTask } from "../../functions/core/submit.ts";
import { explainUpstreamReason } from "../../functions/core/upstream-reasons.ts";
import { createIdFactory, systemClock } from "../../functions/deps.ts";
import { createCallbackApp } from "../../functions/http/callback-app.ts";
import { silentLogger } from "../../functions/log.ts";
import { api, createTestStore, OWNERS } from "../helpers.ts";
import { serveOverHttp } from "../serve.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * midjourney-proxy servers refuse and fail jobs in Chinese. `failReason` is English, the
 * upstream's words are kept in `upstreamFailReason`. The texts are the servers' own, as found in:
 * - novicezk/midjourney-proxy: src/main/java/com/github/novicezk/midjourney/controller/SubmitController.java,
 *   loadbalancer/DiscordInstanceImpl.java, service/TaskServiceImpl.java, support/TaskTimeoutSchedule.java
 * - trueai-org/midjourney-proxy: src/Midjourney.API/Controllers/SubmitController.cs,
 *   src/Midjourney.Services/DiscordService.cs, src/Midjourney.Services/TaskService.cs,
 *   src/Midjourney.Services/DiscordWebSocketService.cs
 */
describe("explainUpstreamReason", () => {
  it.each([
    ["可能包含敏感词", "the prompt may contain banned words"],
    ["并发数已达上限", "the upstream's concurrency limit is reached"],
    ["队列数已达上限", "the upstream's queue limit is reached"],
    ["无可用的账号实例", "no upstream account is available"],
    ["队列已满，请稍后尝试", "the upstream queue is full, try again later"],
    ["提交失败，队列已满，请稍后重试", "the upstream queue is full, try again later"],
    ["账号不可用: 1234567890", "upstream account 1234567890 is not available"],
    ["排队中，前面还有3个任务", "queued upstream behind 3 tasks"],
    ["执行超时 5 分钟", "the job timed out upstream after 5 minutes"],
    ["任务超时", "the job timed out upstream"],
    ["关联任务不存在或已失效", "the related task does not exist or has expired"],
    ["prompt不能为空", "the prompt is empty"],
    ["Prompt 不能为空", "the prompt is empty"],
    ["base64格式错误", "an image is not valid base64"],
    [
      "[Banned prompt detected] 可能包含敏感词",
      "[Banned prompt detected] the prompt may contain banned words",
    ],
  ])("%s → %s, the original kept", (text, english) => {
    expect(explainUpstreamReason(text)).toEqual({ failReason: english, upstreamFailReason: text });
  });

  it.each([
    "[Banned prompt detected] Sorry! Our AI moderators feel your prompt might be against our community standards.",
    "banned prompt",
    // Chinese we have no English for: kept as it is rather than guessed
    "某个未知的错误",
  ])("%s is kept as it is, with nothing alongside", (text) => {
    expect(explainUpstreamReason(text)).toEqual({ failReason: text, upstreamFailReason: null });
  });
});

describe("a refusal at submit (the simulator answers code 24 可能包含敏感词, as trueai does)", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  it("the error, the task and its read say it in English, the upstream's words alongside", async () => {
    const alice = api(stack, OWNERS.alice.key);
    const refused = await alice.imagine({ prompt: "a paper boat --sim-banned" });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect(refused.body.error.message).toContain("the prompt may contain banned words");
    expect(refused.body.error.message).not.toMatch(/\p{Script=Han}/u);
    expect(refused.body.task).toMatchObject({
      status: "FAILURE",
      failReason: "the prompt may contain banned words",
      upstreamFailReason: "可能包含敏感词",
    });
    const read = await alice.task(refused.body.task.id);
    expect(read.body).toMatchObject({
      failReason: "the prompt may contain banned words",
      upstreamFailReason: "可能包含敏感词",
    });
  });
});

describe("a failure by webhook", () => {
  const secret = randomBytes(32).toString("base64url");
  let store: TaskStore;
  let server: Awaited<ReturnType<typeof serveOverHttp>>;
  beforeAll(async () => {
    ({ store } = await createTestStore());
    const app = createCallbackApp({
      store,
      clock: systemClock,
      log: silentLogger,
      callbackSecret: secret,
    });
    server = await serveOverHttp(app.fetch);
  });
  afterAll(() => server?.close());

  it("stores the English reason and the upstream's own; a task that never failed has neither", async () => {
    const task = newTask({
      id: createIdFactory()(),
      owner: "alice",
      action: "IMAGINE",
      prompt: "cat",
      now: new Date(),
    });
    await store.create(task);
    expect((await store.get(task.id))?.upstreamFailReason).toBeNull();
    const response = await fetch(`${server.url}/hooks/midjourney`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        id: "1712345678901",
        action: "IMAGINE",
        status: "FAILURE",
        progress: "0%",
        failReason: "执行超时 10 分钟",
        state: createStateToken(secret, task.id),
      }),
    });
    expect(response.status).toBe(200);
    expect(await store.get(task.id)).toMatchObject({
      status: "FAILURE",
      failReason: "the job timed out upstream after 10 minutes",
      upstreamFailReason: "执行超时 10 分钟",
    });
  });
});

import { describe, expect, it } from "vitest";
import { loadConfig } from "../functions/config.ts";
import {
  addToLogScope,
  createLogger,
  type LogFormat,
  type LogLevel,
  withLogScope,
} from "../functions/log.ts";

/** A logger writing into an array, at a fixed local time (22:31:04 whatever the time zone). */
function capture(options: {
  level?: LogLevel;
  format?: LogFormat;
  base?: Record<string, unknown>;
}) {
  const lines: string[] = [];
  const log = createLogger({
    ...options,
    sink: (line) => lines.push(line),
    now: () => new Date(2026, 11, 1, 22, 31, 4),
  });
  return { log, lines };
}

const ID = "01JDZQ6R7X3N5V2K8M4P9T0WQA";

describe("JSON lines", () => {
  it("carry the message, level, time, the logger's base and the caller's fields", () => {
    const { log, lines } = capture({ base: { fn: "callback" } });
    log.info("webhook", { taskId: ID, status: "IN_PROGRESS", progress: 46, failReason: undefined });
    expect(JSON.parse(lines[0] ?? "")).toEqual({
      level: "info",
      message: "webhook",
      time: new Date(2026, 11, 1, 22, 31, 4).toISOString(),
      fn: "callback",
      taskId: ID,
      status: "IN_PROGRESS",
      progress: 46,
    });
  });

  it("never let a field named message, level or time replace the logger's own", () => {
    const { log, lines } = capture({});
    log.error("unhandled error", {
      message: "boom",
      level: "debug",
      time: "yesterday",
      path: "/x",
    });
    const line = JSON.parse(lines[0] ?? "");
    expect(line).toMatchObject({ level: "error", message: "unhandled error", path: "/x" });
    expect(line.time).toBe(new Date(2026, 11, 1, 22, 31, 4).toISOString());
    // the caller's values are kept, beside the logger's
    expect(line).toMatchObject({
      "field.message": "boom",
      "field.level": "debug",
      "field.time": "yesterday",
    });
  });

  it.each([
    ["debug", ["info", "warn", "error"]],
    ["info", ["info", "warn", "error"]],
    ["warn", ["warn", "error"]],
    ["error", ["error"]],
  ] as const)("LOG_LEVEL=%s keeps %j", (level, kept) => {
    const { log, lines } = capture({ level });
    log.info("a", {});
    log.warn("b", {});
    log.error("c", {});
    expect(lines.map((line) => JSON.parse(line).level)).toEqual(kept);
  });
});

describe("the human format (npm start on a terminal)", () => {
  it("is one short line per task change, quiet about everything else", () => {
    const { log, lines } = capture({ format: "human", base: { app: "paperboat-local" } });
    log.info("task created", { component: "simulator", taskId: "sim-1", status: "SUBMITTED" });
    log.info("task submitted", { taskId: ID, action: "IMAGINE", status: "SUBMITTED" });
    log.info("webhook", {
      taskId: ID,
      action: "IMAGINE",
      status: "IN_PROGRESS",
      progress: 46,
      result: "applied",
    });
    log.info("webhook", {
      taskId: ID,
      action: "IMAGINE",
      status: "IN_PROGRESS",
      progress: 20,
      result: "stale",
    });
    log.info("delivery", { taskId: ID, deliveryId: "d1", statusCode: 204 });
    log.info("images copied", { taskId: ID, images: 5 });
    log.info("webhook", {
      taskId: ID,
      action: "IMAGINE",
      status: "SUCCESS",
      progress: 100,
      result: "applied",
    });
    log.info("webhook", {
      taskId: ID,
      action: "UPSCALE",
      status: "FAILURE",
      progress: 100,
      failReason: "banned prompt",
      result: "applied",
    });
    expect(lines).toEqual([
      `22:31:04 imagine ${ID} SUBMITTED`,
      `22:31:04 imagine ${ID} IN_PROGRESS 46%`,
      `22:31:04 imagine ${ID} SUCCESS`,
      `22:31:04 upscale ${ID} FAILURE banned prompt`,
    ]);
  });

  it("shows warnings and errors with their fields, but not the logger's context", () => {
    const { log, lines } = capture({ format: "human", base: { app: "paperboat-local" } });
    log.warn("task expired", { taskId: ID, upstreamTaskId: "17000" });
    log.error("dispatch failed", { error: "TimeoutError", message: "took too long" });
    expect(lines).toEqual([
      `22:31:04 WARN task expired taskId=${ID} upstreamTaskId=17000`,
      '22:31:04 ERROR dispatch failed error=TimeoutError message="took too long"',
    ]);
  });

  it("LOG_LEVEL=debug shows every line; LOG_LEVEL=warn hides the task changes", () => {
    const debug = capture({ format: "human", level: "debug" });
    debug.log.info("delivery", { taskId: ID, statusCode: 204 });
    expect(debug.lines).toEqual([`22:31:04 delivery taskId=${ID} statusCode=204`]);

    const warn = capture({ format: "human", level: "warn" });
    warn.log.info("task submitted", { taskId: ID, action: "IMAGINE", status: "SUBMITTED" });
    warn.log.warn("task expired", { taskId: ID });
    expect(warn.lines).toEqual([`22:31:04 WARN task expired taskId=${ID}`]);
  });
});

describe("LOG_LEVEL and LOG_FORMAT settings", () => {
  it("are read like every other setting, and a bad value names the setting", () => {
    expect(
      loadConfig({ LOG_LEVEL: "warn", LOG_FORMAT: "json" }, ["LOG_LEVEL", "LOG_FORMAT"]),
    ).toEqual({ LOG_LEVEL: "warn", LOG_FORMAT: "json" });
    expect(loadConfig({}, ["LOG_LEVEL"])).toEqual({ LOG_LEVEL: undefined });
    expect(() => loadConfig({ LOG_LEVEL: "loud" }, ["LOG_LEVEL"])).toThrow(
      /setting LOG_LEVEL is malformed/,
    );
  });
});

describe("log scopes", () => {
  it("put each invocation's request id, and the task it names, on its lines only", async () => {
    const { log, lines } = capture({ base: { fn: "callback" } });
    for (const [i, awsRequestId] of ["req-1", "req-2"].entries()) {
      await withLogScope({ awsRequestId }, async () => {
        log.info("received");
        await new Promise((resolve) => setTimeout(resolve, 5));
        addToLogScope({ taskId: `task-${i}` });
        log.info("webhook", { status: "SUCCESS" });
      });
    }
    log.info("outside");
    addToLogScope({ taskId: "nowhere" });
    log.info("still outside");
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.map((l) => [l.message, l.awsRequestId, l.taskId])).toEqual([
      ["received", "req-1", undefined],
      ["webhook", "req-1", "task-0"],
      ["received", "req-2", undefined],
      ["webhook", "req-2", "task-1"],
      ["outside", undefined, undefined],
      ["still outside", undefined, undefined],
    ]);
  });

  it("keep concurrent invocations apart when Lambda runs several in one process", async () => {
    const { log, lines } = capture({});
    process.env.AWS_LAMBDA_MAX_CONCURRENCY = "4";
    try {
      await Promise.all(
        ["req-1", "req-2"].map((awsRequestId, i) =>
          withLogScope({ awsRequestId }, async () => {
            await new Promise((resolve) => setTimeout(resolve, i === 0 ? 20 : 0));
            addToLogScope({ taskId: `task-${i}` });
            log.info("webhook");
          }),
        ),
      );
    } finally {
      delete process.env.AWS_LAMBDA_MAX_CONCURRENCY;
    }
    expect(lines.map((l) => JSON.parse(l)).map((l) => [l.awsRequestId, l.taskId])).toEqual([
      ["req-2", "task-1"],
      ["req-1", "task-0"],
    ]);
  });

  it("leave the request id off a person's terminal lines", async () => {
    const { log, lines } = capture({ format: "human" });
    await withLogScope({ awsRequestId: "req-1", taskId: ID }, async () =>
      log.warn("store unavailable"),
    );
    expect(lines).toEqual([`22:31:04 WARN store unavailable taskId=${ID}`]);
  });
});

import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "./core/ports.ts";

type Sink = (line: string) => void;

/** `LOG_LEVEL`: lines below it are dropped (functions/config.ts parses the setting). */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `LOG_FORMAT`: JSON lines (Lambda, pipes, log collectors) or short lines for a person. */
export const LOG_FORMATS = ["json", "human"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One log line before it is formatted: the logger's own three keys, then the caller's fields. */
export interface LogRecord {
  level: LogLevel;
  message: string;
  time: Date;
  fields: Record<string, unknown>;
}

/** The messages that report a task's new status: the lines the human format is about. */
const TASK_CHANGES = new Set(["task submitted", "webhook"]);

/** Context every line of a logger carries; repeating it on a terminal is noise. */
const CONTEXT_KEYS = new Set(["app", "fn", "component", "awsRequestId"]);

/**
 * A JSON line. `level`, `message` and `time` are the logger's: a caller's field of the same
 * name is kept under `field.<name>` instead of replacing them.
 */
export function formatJson(record: LogRecord): string {
  return jsonLine(record.level, record.message, record.time, [record.fields]);
}

/**
 * The JSON line of `parts` merged in order (a later part's key wins, undefined drops it), built
 * straight into the line: no intermediate merged object (spreading three objects per line
 * cost more than the JSON itself, on the webhook's warm path).
 */
function jsonLine(
  level: LogLevel,
  message: string,
  time: Date,
  parts: readonly (Record<string, unknown> | undefined)[],
): string {
  const line: Record<string, unknown> = { level, message, time: time.toISOString() };
  for (const part of parts) {
    if (!part) continue;
    for (const key in part) {
      const name = key === "level" || key === "message" || key === "time" ? `field.${key}` : key;
      const value = part[key];
      if (value === undefined) delete line[name];
      else line[name] = value;
    }
  }
  return JSON.stringify(line);
}

const clockTime = (t: Date) =>
  [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");

function renderValue(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

/**
 * A line for a person at a terminal, or null to stay quiet: one line per task change
 * (`22:31:04 imagine 01J… IN_PROGRESS 46%`), every warning and error, and the rest only at
 * `LOG_LEVEL=debug`. A webhook that changed nothing (stale) is not a change.
 */
export function formatHuman(record: LogRecord, level: LogLevel = "info"): string | null {
  const { fields } = record;
  const time = clockTime(record.time);
  if (
    record.level === "info" &&
    TASK_CHANGES.has(record.message) &&
    typeof fields.taskId === "string" &&
    typeof fields.status === "string"
  ) {
    if (fields.result === "stale")
      return level === "debug" ? `${time} ${fields.taskId} stale` : null;
    const action = typeof fields.action === "string" ? fields.action.toLowerCase() : "task";
    const parts = [time, action, fields.taskId, fields.status];
    if (fields.status === "IN_PROGRESS" && typeof fields.progress === "number") {
      parts.push(`${fields.progress}%`);
    }
    if (typeof fields.failReason === "string") parts.push(fields.failReason);
    return parts.join(" ");
  }
  if (record.level === "info" || record.level === "debug") {
    if (level !== "debug") return null;
  }
  const rest = Object.entries(fields)
    .filter(([key, value]) => value !== undefined && !CONTEXT_KEYS.has(key))
    .map(([key, value]) => `${key}=${renderValue(value)}`);
  const tag = record.level === "info" ? "" : ` ${record.level.toUpperCase()}`;
  return [`${time}${tag} ${record.message}`, ...rest].join(" ");
}

/**
 * Fields every line of one Lambda invocation carries: its request id (`awsRequestId`, set by
 * the entry's wrapper, functions/lambda/invocation.ts) and the task id once the request names
 * one (the callback's verified state, a path's `{id}`). Lambda adds neither to what a function
 * writes to stdout itself, so the logger puts them on each line.
 *
 * A Lambda process runs one invocation at a time, so the scope is a plain variable, as the AWS
 * SDK's own per-invocation store keeps it; only when Lambda runs several invocations in one
 * process (AWS_LAMBDA_MAX_CONCURRENCY) is it an AsyncLocalStorage, whose promise hooks would
 * otherwise tax every await of the warm path. Outside an invocation (the local stack, tests'
 * apps) there is no scope, and lines carry their own fields only.
 */
let current: Record<string, unknown> | undefined;
let concurrent: AsyncLocalStorage<Record<string, unknown>> | undefined;

const scopeFields = () => concurrent?.getStore() ?? current;

/** Runs one invocation with `fields` (and whatever is added to them) on every line it logs. */
export async function withLogScope<T>(
  fields: Record<string, unknown>,
  fn: () => Promise<T>,
): Promise<T> {
  if (process.env.AWS_LAMBDA_MAX_CONCURRENCY) {
    concurrent ??= new AsyncLocalStorage();
    return concurrent.run({ ...fields }, fn);
  }
  current = { ...fields };
  try {
    return await fn();
  } finally {
    current = undefined;
  }
}

/** Adds `fields` to the lines of the current invocation from here on (outside one: nothing). */
export function addToLogScope(fields: Record<string, unknown>): void {
  const store = scopeFields();
  if (store) Object.assign(store, fields);
}

/**
 * Structured logs: a constant message plus fields. Callers pass ids and statuses only;
 * secrets, API keys, state tokens, auth headers and webhook bodies are never passed here.
 * JSON lines by default (what Lambda and log collectors read); `format: "human"` for a terminal.
 */
export function createLogger(
  options: {
    sink?: Sink;
    base?: Record<string, unknown>;
    level?: LogLevel;
    format?: LogFormat;
    now?: () => Date;
  } = {},
): Logger {
  const sink: Sink = options.sink ?? ((line) => process.stdout.write(`${line}\n`));
  const threshold = options.level ?? "info";
  const format = options.format ?? "json";
  const now = options.now ?? (() => new Date());
  const write = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < RANK[threshold]) return;
    if (format === "json") {
      sink(jsonLine(level, message, now(), [options.base, scopeFields(), fields]));
      return;
    }
    const record: LogRecord = {
      level,
      message,
      time: now(),
      fields: { ...options.base, ...scopeFields(), ...fields },
    };
    const line = formatHuman(record, threshold);
    if (line !== null) sink(line);
  };
  return { info: write("info"), warn: write("warn"), error: write("error") };
}

/** A test's or the local stack's logger if given, else JSON lines at LOG_LEVEL (Lambda). */
export function loggerFor(
  config: { LOG_LEVEL?: LogLevel },
  overrides: { log?: Logger },
  fn: string,
): Logger {
  return overrides.log ?? createLogger({ base: { fn }, level: config.LOG_LEVEL });
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

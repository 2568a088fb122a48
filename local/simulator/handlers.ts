import { createHash } from "node:crypto";
import * as z from "zod";
import type { Engine, Job, Look } from "./engine.ts";
import {
  type Directives,
  findBannedWord,
  parseDirectives,
  type SubmitFaultKind,
} from "./faults.ts";
import { type Size, SQUARE } from "./images.ts";
import { accepted, json, logicEnvelope, type Reply, submitResult } from "./reply.ts";
import { chance, pick } from "./rng.ts";
import { buttonEffect, type SimAction, type SimTask } from "./task.ts";
import { describePrompts, shortenedPrompts } from "./texts.ts";

type Handler = (engine: Engine, body: Record<string, unknown>, directives: Directives) => Reply;

const PROMPT_REQUIRED = "prompt不能为空";
/** TA answers a missing parent (or modal/seed task) with HTTP 404 and code 3. */
const PARENT_MISSING = submitResult(3, "关联任务不存在或已失效", null, {}, 404);
const PARENT_STATE = "关联任务状态错误";
const UNKNOWN_ACTION = "未知的 Action 类型";

const DATA_URI = /^data:[\w.+-]+\/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+$/;
const HTTP_URL = /^https?:\/\/\S+$/;

const DataUri = z.string({ error: "base64格式错误" }).regex(DATA_URI, { error: "base64格式错误" });
const Prompt = z.string({ error: PROMPT_REQUIRED }).trim().min(1, { error: PROMPT_REQUIRED });

/** `BaseSubmitDTO`, with TA's length limits; a blank notifyHook means none. */
const Base = {
  state: z
    .string({ error: "state参数错误" })
    .max(255, { error: "state长度不能超过255" })
    .nullish()
    .transform((s) => s ?? null),
  notifyHook: z
    .string({ error: "notifyHook参数错误" })
    .max(2000, { error: "notifyHook长度不能超过2000" })
    .nullish()
    .transform((s) => (s?.trim() ? s.trim() : null)),
  accountFilter: z.record(z.string(), z.unknown(), { error: "accountFilter参数错误" }).nullish(),
  botType: z
    .enum(["MID_JOURNEY", "NIJI_JOURNEY", "mj", "niji"], { error: "botType参数错误" })
    .nullish(),
};

const Imagine = z.object({
  ...Base,
  prompt: Prompt,
  base64Array: z.array(DataUri, { error: "base64格式错误" }).nullish(),
  base64: DataUri.nullish(),
});

const Action = z.object({
  ...Base,
  taskId: z.string({ error: "参数错误" }).min(1, { error: "参数错误" }),
  customId: z.string({ error: "参数错误" }).min(1, { error: "参数错误" }),
  enableRemix: z.boolean({ error: "enableRemix参数错误" }).nullish(),
});

const Modal = z.object({
  taskId: z.string({ error: "taskId不能为空" }).min(1, { error: "taskId不能为空" }),
  prompt: z.string({ error: "prompt参数错误" }).nullish(),
  maskBase64: DataUri.nullish(),
});

const BLEND_SIZES: Record<"PORTRAIT" | "SQUARE" | "LANDSCAPE", Size> = {
  PORTRAIT: { width: 512, height: 768 },
  SQUARE,
  LANDSCAPE: { width: 768, height: 512 },
};

const Blend = z.object({
  ...Base,
  base64Array: z
    .array(DataUri, { error: "base64List参数错误" })
    .min(2, { error: "base64List参数错误" })
    .max(5, { error: "base64List参数错误" }),
  dimensions: z
    .enum(["PORTRAIT", "SQUARE", "LANDSCAPE"], { error: "dimensions参数错误" })
    .optional()
    .transform((d) => d ?? "SQUARE"),
});

const Describe = z.object({
  ...Base,
  base64: DataUri.nullish(),
  link: z.string({ error: "link参数错误" }).regex(HTTP_URL, { error: "link参数错误" }).nullish(),
});

const Shorten = z.object({ ...Base, prompt: Prompt });

const Video = z.object({
  ...Base,
  prompt: z.string({ error: "prompt参数错误" }).nullish(),
  // an extend may leave the first frame out (trueai-org/midjourney-proxy, SubmitVideoDTO.cs)
  image: z
    .string({ error: "image不能为空" })
    .refine((s) => DATA_URI.test(s) || HTTP_URL.test(s), { error: "image参数错误" })
    .nullish(),
  motion: z
    .enum(["low", "high"], { error: "motion参数错误" })
    .optional()
    .transform((m) => m ?? "low"),
  videoType: z.enum(["vid_1.1_i2v_480", "vid_1.1_i2v_720"]).nullish(),
  batchSize: z.union([z.literal(1), z.literal(2), z.literal(4)]).nullish(),
  action: z.string().nullish(),
  index: z.number().int().min(0).max(3).nullish(),
  taskId: z.string().nullish(),
});

// trueai-org/midjourney-proxy, src/Midjourney.Base/Dto/SubmitEditsDTO.cs: prompt and image
// (an http URL or a data URI) for both /submit/edits and /submit/retexture; the mask some
// gateways document is `maskBase64`
const Edit = z.object({
  ...Base,
  prompt: z
    .string({ error: "image或prompt不能为空" })
    .trim()
    .min(1, { error: "image或prompt不能为空" }),
  image: z
    .string({ error: "image或prompt不能为空" })
    .refine((s) => DATA_URI.test(s) || HTTP_URL.test(s), { error: "base64格式错误" }),
  maskBase64: DataUri.nullish(),
});

const ListByCondition = z.object({
  ids: z.array(z.union([z.string(), z.number()]).transform(String)).nullish(),
});

function invalid(error: z.ZodError): Reply {
  return submitResult(4, error.issues[0]?.message ?? "参数错误");
}

function banned(prompt: string, word: string): Reply {
  return submitResult(24, "可能包含敏感词", null, { promptEn: prompt, bannedWord: word });
}

function checkBanned(prompt: string): Reply | undefined {
  const word = findBannedWord(prompt);
  return word === undefined ? undefined : banned(prompt, word);
}

/** code 1, or code 22 (queued, still a job) when the prompt says `--sim-queued`. */
function acceptedOrQueued(task: SimTask, directives: Directives): Reply {
  return directives.queued
    ? accepted(task, 22, "排队中，前面还有1个任务", { numberOfQueues: 1 })
    : accepted(task);
}

function faultReply(engine: Engine, kind: SubmitFaultKind, prompt: string, route: string): Reply {
  switch (kind) {
    case "concurrencyLimit":
    case "queueLimit": {
      // a LogicException: imagine catches it as code 4, the other routes let the filter wrap it
      const text = kind === "concurrencyLimit" ? "并发数已达上限" : "队列数已达上限";
      return route === "imagine" ? submitResult(4, text) : logicEnvelope(text, 200);
    }
    case "noAccount":
      return submitResult(3, "无可用的账号实例");
    case "http500":
      return logicEnvelope("操作失败", 500);
    case "timeout":
      return { kind: "hold" };
    case "garbage":
      return {
        kind: "text",
        status: 200,
        body: "<html>Bad gateway</html>",
        contentType: "text/html",
      };
    case "empty":
      return { kind: "empty", status: 200 };
    case "queueFull":
      return submitResult(23, "队列已满，请稍后尝试", engine.nextId(), {}, 429);
    case "refused":
      return submitResult(4, "参数错误");
    case "bannedPrompt":
      return banned(prompt, findBannedWord(prompt) ?? prompt.split(/\s+/)[0] ?? "");
    case "envelope":
      return logicEnvelope("服务暂不可用，请联系管理员", 200);
    case "acceptedTimeout":
      return { kind: "hold" };
  }
}

function parseJson(raw: string): Record<string, unknown> | undefined {
  try {
    const body: unknown = JSON.parse(raw);
    return typeof body === "object" && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const INVALID_JSON = submitResult(4, "参数错误: 请求体不是合法的 JSON", null, {}, 400);

/**
 * The path every submit takes: count it, parse JSON (400 if not an object), read `--sim-*`
 * directives from the prompt, maybe answer a submit fault (forced by a directive, else drawn
 * from the run's faults), else run the endpoint's handler. No fault creates a job, except
 * `acceptedTimeout`, which creates it and then withholds the answer.
 */
export function submit(engine: Engine, raw: string, handler: Handler, route: string): Reply {
  engine.countSubmit();
  const body = parseJson(raw);
  if (!body) return INVALID_JSON;
  const prompt = typeof body.prompt === "string" ? body.prompt : "";
  const parsed = parseDirectives(prompt);
  if (!parsed.ok) return submitResult(4, `未知的模拟指令: ${parsed.unknown}`);
  const { submitFailure, submitFailureKinds } = engine.faults;
  const fault =
    parsed.directives.submit ??
    (chance(engine.submitRng, submitFailure)
      ? pick(engine.submitRng, submitFailureKinds)
      : undefined);
  if (fault === "acceptedTimeout") {
    // the job starts, the answer is lost: only the webhooks can tell the client's side
    const reply = handler(engine, body, parsed.directives);
    if (reply.kind !== "json" || (reply.body as { code?: number }).code !== 1) return reply;
    engine.countWithheld(String((reply.body as { result?: unknown }).result));
    return faultReply(engine, fault, prompt, route);
  }
  if (fault) return faultReply(engine, fault, prompt, route);
  return handler(engine, body, parsed.directives);
}

function gridLook(seed: string, size: Size = SQUARE): Look {
  return { kind: "grid", seed, size };
}

export const imagine: Handler = (engine, body, directives) => {
  const input = Imagine.safeParse(body);
  if (!input.success) return invalid(input.error);
  const { prompt, state, notifyHook } = input.data;
  const refusal = checkBanned(prompt);
  if (refusal) return refusal;
  const task = engine.createTask({
    action: "IMAGINE",
    prompt,
    description: () => `/imagine ${prompt}`,
    state,
    notifyHook,
    look: gridLook(prompt),
  });
  return acceptedOrQueued(task, directives);
};

const REMIXABLE: readonly SimAction[] = [
  "REROLL",
  "VARIATION",
  "LOW_VARIATION",
  "HIGH_VARIATION",
  "PAN",
];

function actionDescription(
  action: SimAction,
  parentId: string,
  index: number,
  prompt: string,
): string {
  switch (action) {
    case "UPSCALE":
      return `/up ${parentId} U${index}`;
    case "VARIATION":
      return `/up ${parentId} V${index}`;
    case "REROLL":
      return `/up ${parentId} R`;
    case "IMAGINE":
      return `/imagine ${prompt}`;
    default:
      return `/${action.toLowerCase()} ${parentId}`;
  }
}

/** What the child of a button click looks like: upscales and videos keep the parent's picture. */
function childLook(parent: Job, action: SimAction, index: number, prompt: string): Look {
  const look = parent.look;
  if (action === "UPSCALE" || action === "VIDEO") {
    return look.kind === "grid" ? { kind: "quadrant", seed: look.seed, index, size: SQUARE } : look;
  }
  if (action === "DESCRIBE") return look;
  if (action === "IMAGINE") return gridLook(prompt);
  return gridLook(`${prompt}#${action}#${parent.task.id}#${index}`);
}

/**
 * A button click. Checks follow TA (parent missing → 404 code 3, not SUCCESS → code 4, customId
 * not among its buttons → code 4); the answer follows the CometAPI gateway: Inpaint/CustomZoom
 * → code 21 with the task in MODAL; remix and describe/shorten picks → MODAL behind a code 1.
 */
export const action: Handler = (engine, body) => {
  const input = Action.safeParse(body);
  if (!input.success) return invalid(input.error);
  const { taskId, customId, state, notifyHook, enableRemix } = input.data;
  const parent = engine.job(taskId);
  if (!parent) return PARENT_MISSING;
  if (parent.task.status !== "SUCCESS") return submitResult(4, PARENT_STATE);
  if (!parent.task.buttons.some((b) => b.customId === customId))
    return submitResult(4, UNKNOWN_ACTION);
  const effect = buttonEffect(customId);
  if (effect.kind === "unknown") return submitResult(4, UNKNOWN_ACTION);
  const isPickButton =
    effect.kind === "describeAll" ||
    /^MJ::(Job::PicReader|Job::PromptAnalyzer|Picread::Retry)/.test(customId);
  if (engine.profile === "cometapi" && isPickButton) {
    // new-api maps customIds to its own actions and knows none of these
    // (QuantumNous/new-api, service/midjourney.go CoverPlusActionToNormalAction)
    return json({ description: "unknown_action ", type: "upstream_error", code: 4 }, 400);
  }
  if (engine.profile === "trueai" && customId.startsWith("MJ::Job::PromptAnalyzer::")) {
    return submitResult(4, UNKNOWN_ACTION);
  }
  if (effect.kind === "describeAll") {
    const ids = parent.choices.map(
      (prompt) =>
        engine.createTask({
          action: "IMAGINE",
          prompt,
          description: () => `/imagine ${prompt}`,
          state,
          notifyHook,
          look: gridLook(prompt),
        }).id,
    );
    return submitResult(1, "Submit success", ids.join(","), {});
  }
  const isPick = effect.action === "IMAGINE";
  const isRetry = effect.action === "DESCRIBE";
  const prompt = isPick
    ? (parent.choices[effect.index - 1] ?? "")
    : isRetry
      ? ""
      : parent.task.prompt;
  const modal =
    enableRemix && REMIXABLE.includes(effect.action) && effect.modal === "no"
      ? "code1"
      : effect.modal;
  const task = engine.createTask({
    action: effect.action,
    prompt,
    description: () => actionDescription(effect.action, parent.task.id, effect.index, prompt),
    state,
    notifyHook,
    modal: modal !== "no",
    look: childLook(parent, effect.action, effect.index, prompt),
    choices: isRetry ? describePrompts(`${parent.look.seed}#retry#${Date.now()}`) : undefined,
  });
  // only the new-api gateway rewrites 21 to 1 (relay/mjproxy_handler.go); trueai answers 21
  if (modal === "code21" || (modal === "code1" && engine.profile !== "cometapi")) {
    return accepted(task, 21, "Waiting for window confirm", {
      finalPrompt: task.properties.finalPrompt,
      remix: true,
    });
  }
  return accepted(task);
};

const Change = z.object({
  ...Base,
  taskId: z.string({ error: "taskId不能为空" }).trim().min(1, { error: "taskId不能为空" }),
  action: z.enum(["UPSCALE", "VARIATION", "REROLL"], { error: "action参数错误" }),
  index: z.number({ error: "index参数错误" }).int().min(1).max(4).nullish(),
});

/**
 * novicezk's `/submit/change` (novicezk/midjourney-proxy, controller/SubmitController.java):
 * `{taskId, action: UPSCALE|VARIATION|REROLL, index}`. A missing target is code 3 (HTTP 200),
 * a target not SUCCESS or not a grid (IMAGINE, VARIATION, REROLL, BLEND) code 4.
 */
export const change: Handler = (engine, body) => {
  const input = Change.safeParse(body);
  if (!input.success) return invalid(input.error);
  const { taskId, action, state, notifyHook } = input.data;
  const index = input.data.index ?? 1;
  const target = engine.job(taskId);
  if (!target) return submitResult(3, "关联任务不存在或已失效");
  if (target.task.status !== "SUCCESS") return submitResult(4, PARENT_STATE);
  if (!["IMAGINE", "VARIATION", "REROLL", "BLEND"].includes(target.task.action)) {
    return submitResult(4, "关联任务不允许执行变化");
  }
  const prompt = target.task.prompt;
  const task = engine.createTask({
    action,
    prompt,
    description: () => actionDescription(action, target.task.id, index, prompt),
    state,
    notifyHook,
    look: childLook(target, action, index, prompt),
  });
  return accepted(task);
};

const ZOOM = /--zoom\s+(\d+(?:\.\d+)?)/;

/** Completes a MODAL task: Custom Zoom needs `--zoom 1..2`, Vary (Region) a mask. */
export const modal: Handler = (engine, body) => {
  const input = Modal.safeParse(body);
  if (!input.success) return invalid(input.error);
  const { taskId, maskBase64 } = input.data;
  const prompt = input.data.prompt?.trim() || undefined;
  const job = engine.job(taskId);
  if (!job) return PARENT_MISSING;
  if (job.task.status !== "MODAL") return submitResult(4, PARENT_STATE);
  if (job.task.action === "CUSTOM_ZOOM") {
    const zoom = Number(prompt?.match(ZOOM)?.[1]);
    if (!(zoom >= 1 && zoom <= 2)) return submitResult(4, "Custom Zoom 需要 --zoom 1~2");
  }
  if (job.task.action === "INPAINT" && !maskBase64) return submitResult(4, "maskBase64不能为空");
  const refusal = prompt === undefined ? undefined : checkBanned(prompt);
  if (refusal) return refusal;
  return accepted(engine.confirmModal(job, prompt));
};

export const blend: Handler = (engine, body, directives) => {
  const input = Blend.safeParse(body);
  if (!input.success) return invalid(input.error);
  const { base64Array, dimensions, state, notifyHook } = input.data;
  const seed = createHash("sha256").update(base64Array.join("|")).digest("hex");
  const task = engine.createTask({
    action: "BLEND",
    prompt: "",
    description: (id) => `/blend ${id} ${base64Array.length}`,
    state,
    notifyHook,
    look: gridLook(seed, BLEND_SIZES[dimensions]),
  });
  return acceptedOrQueued(task, directives);
};

export const describe: Handler = (engine, body, directives) => {
  const input = Describe.safeParse(body);
  if (!input.success) return invalid(input.error);
  const { base64, link, state, notifyHook } = input.data;
  const source = base64 || link;
  if (!source) return submitResult(4, "base64或link不能为空");
  const seed = createHash("sha256").update(source).digest("hex");
  const task = engine.createTask({
    action: "DESCRIBE",
    prompt: "",
    description: () => "/describe",
    state,
    notifyHook,
    look: gridLook(seed),
    choices: describePrompts(seed),
  });
  return acceptedOrQueued(task, directives);
};

export const shorten: Handler = (engine, body, directives) => {
  const input = Shorten.safeParse(body);
  if (!input.success) return invalid(input.error);
  const { prompt, state, notifyHook } = input.data;
  const refusal = checkBanned(prompt);
  if (refusal) return refusal;
  const task = engine.createTask({
    action: "SHORTEN",
    prompt,
    description: () => `/shorten ${prompt}`,
    state,
    notifyHook,
    look: gridLook(prompt),
    choices: shortenedPrompts(prompt),
  });
  return acceptedOrQueued(task, directives);
};

export const video: Handler = (engine, body, directives) => {
  const input = Video.safeParse(body);
  if (!input.success) return invalid(input.error);
  const { image, motion, state, notifyHook, taskId } = input.data;
  const prompt = input.data.prompt?.trim() ?? "";
  const refusal = checkBanned(prompt);
  if (refusal) return refusal;
  // trueai's checks (SubmitController.cs, Video): an extend names a SUCCESS video task
  if (taskId) {
    if (input.data.action !== "extend") return submitResult(4, "任务类型错误");
    const parent = engine.job(taskId);
    if (!parent) return PARENT_MISSING;
    if (parent.task.status !== "SUCCESS") return submitResult(4, "关联任务状态错误");
  } else if (!image) {
    return submitResult(4, "image不能为空");
  }
  const seed = createHash("sha256")
    .update(image ?? `${taskId}:${input.data.index ?? 0}`)
    .digest("hex");
  const task = engine.createTask({
    action: "VIDEO",
    prompt,
    // the simulator's own words: what was asked, for tests to read back
    description: () =>
      [
        "/video",
        taskId ? `extend ${taskId} ${input.data.index ?? 0}` : null,
        motion,
        input.data.videoType ?? null,
        prompt,
      ]
        .filter(Boolean)
        .join(" "),
    state,
    notifyHook,
    look: { kind: "quadrant", seed, index: 1, size: SQUARE },
    batchSize: input.data.batchSize ?? 4,
  });
  return acceptedOrQueued(task, directives);
};

function imageJob(action: "EDIT" | "RETEXTURE", command: string): Handler {
  return (engine, body, directives) => {
    const input = Edit.safeParse(body);
    if (!input.success) return invalid(input.error);
    const { prompt, image, maskBase64, state, notifyHook } = input.data;
    const refusal = checkBanned(prompt);
    if (refusal) return refusal;
    const seed = createHash("sha256")
      .update(`${action}|${image}|${maskBase64 ?? ""}|${prompt}`)
      .digest("hex");
    const task = engine.createTask({
      action,
      prompt,
      description: () => `/${command} ${prompt}`,
      state,
      notifyHook,
      look: gridLook(seed),
    });
    return acceptedOrQueued(task, directives);
  };
}

/** `/submit/edits` (trueai also answers `/submit/edit`): a grid, like imagine's. */
export const edits: Handler = imageJob("EDIT", "edit");

/** `/submit/retexture`: trueai only (new-api's relay forwards no such route). */
export const retexture: Handler = imageJob("RETEXTURE", "retexture");

/** Unknown ids answer as the configured real server would: NZ 200 empty, TA 204, NA/CometAPI 400. */
export function fetchTask(engine: Engine, id: string): Reply {
  const task = engine.polledTask(id);
  if (task) return json(task);
  switch (engine.faults.unknownTaskFetch) {
    case "empty200":
      return { kind: "empty", status: 200 };
    case "204":
      return { kind: "empty", status: 204 };
    case "400":
      return json({ description: "task_no_found ", type: "upstream_error", code: 4 }, 400);
  }
}

/** Known tasks among `ids`, unknown ones skipped; `[]` for none or no ids. */
export function listByCondition(engine: Engine, raw: string): Reply {
  const body = parseJson(raw);
  if (!body) return INVALID_JSON;
  const input = ListByCondition.safeParse(body);
  if (!input.success) return invalid(input.error);
  const tasks = (input.data.ids ?? []).flatMap((id) => engine.polledTask(id) ?? []);
  return json(tasks);
}

/** TA: 404 code 3 for a missing task, 400 code 4 before SUCCESS, else a stable seed. */
export function imageSeed(engine: Engine, id: string): Reply {
  const task = engine.task(id);
  if (!task) return PARENT_MISSING;
  if (task.status !== "SUCCESS") return submitResult(4, PARENT_STATE, null, {}, 400);
  const seed = createHash("sha256").update(id).digest().readUInt32BE(0);
  return json({ code: 1, description: "成功", result: String(seed) });
}

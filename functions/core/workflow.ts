import type {
  ActionBody,
  BlendBody,
  DescribeBody,
  EditBody,
  ImagineBody,
  ModalBody,
  RetextureBody,
  ShortenBody,
  VideoBody,
} from "../contract/submit.ts";
import type { Seed } from "../contract/task.ts";
import {
  InvalidStateError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
  UpstreamUnsupportedError,
  ValidationError,
} from "./errors.ts";
import { getTask } from "./queries.ts";
import {
  type JobSteps,
  newTask,
  requestFingerprint,
  type SubmitDeps,
  submitJob,
} from "./submit.ts";
import type { Task, TaskAction, TaskMode } from "./task.ts";
import {
  type SubmitKind,
  type Upstream,
  type UpstreamId,
  UpstreamReadError,
} from "./upstream-port.ts";

/**
 * The Midjourney workflow after the first grid: buttons (actions), the MODAL step, blend,
 * describe, shorten and video. Every job goes through submitJob, so each has imagine's
 * semantics: the task is recorded first, the upstream gets a signed `state` and our callback,
 * its answer maps as the contract says, and an Idempotency-Key replays the first answer.
 */

/** Whether a button's job waits in MODAL for `POST /v1/tasks/{id}/modal`. */
export type ModalNeed = "never" | "maybe" | "always";

export type ButtonEffect =
  | {
      kind: "job";
      action: TaskAction;
      modal: ModalNeed;
      /** describe/shorten picks: which of the parent's `prompts` (1-based) the job takes */
      pick: number | null;
    }
  | { kind: "unsupported"; reason: string };

interface ButtonRule {
  match: RegExp;
  action: TaskAction;
  modal: ModalNeed;
  pick?: boolean;
}

/**
 * customId → the action the child task gets, first match wins (specific names before their
 * substrings), after the NA/CometAPI gateway's `CoverPlusActionToNormalAction` (docs/upstreams.md §7)
 * extended to the describe, shorten and animate buttons. `modal`: Custom Zoom and Vary (Region)
 * always wait in MODAL; remixable clicks and animate may (an account with Remix on, or
 * `enableRemix`), which the gateway hides behind a code 1 (docs/upstreams.md §2). Describe and
 * shorten picks never do: they run as an imagine of the picked prompt.
 */
export const BUTTON_RULES: readonly ButtonRule[] = [
  { match: /^MJ::Job::PicReader::(\d+)$/, action: "IMAGINE", modal: "never", pick: true },
  { match: /^MJ::Job::PromptAnalyzer::(\d+)$/, action: "IMAGINE", modal: "never", pick: true },
  { match: /^MJ::Picread::Retry/, action: "DESCRIBE", modal: "never" },
  { match: /video_virtual_upscale/, action: "UPSCALE", modal: "never" },
  { match: /animate_/, action: "VIDEO", modal: "maybe" },
  { match: /upsample/, action: "UPSCALE", modal: "never" },
  { match: /low_variation/, action: "LOW_VARIATION", modal: "maybe" },
  { match: /high_variation/, action: "HIGH_VARIATION", modal: "maybe" },
  { match: /variation/, action: "VARIATION", modal: "maybe" },
  { match: /pan_(left|right|up|down)/, action: "PAN", modal: "maybe" },
  { match: /reroll/, action: "REROLL", modal: "maybe" },
  { match: /Outpaint/, action: "ZOOM", modal: "never" },
  { match: /CustomZoom/, action: "CUSTOM_ZOOM", modal: "always" },
  { match: /Inpaint/, action: "INPAINT", modal: "always" },
];

/** What clicking `customId` starts; a button none of the rules knows runs as `ACTION`. */
export function buttonEffect(customId: string): ButtonEffect {
  if (customId === "MJ::Job::PicReader::all") {
    return {
      kind: "unsupported",
      reason:
        "“Imagine all” starts four upstream jobs under one answer; run the picks " +
        "(MJ::Job::PicReader::1 to 4) one by one instead",
    };
  }
  for (const rule of BUTTON_RULES) {
    const match = rule.match.exec(customId);
    if (!match) continue;
    return {
      kind: "job",
      action: rule.action,
      modal: rule.modal,
      pick: rule.pick ? Number(match[1]) : null,
    };
  }
  return { kind: "job", action: "ACTION", modal: "maybe", pick: null };
}

/**
 * How long the extra look at the upstream after a submit may take: it runs inside the submit
 * function's time limit, next to an upstream call that may itself take UPSTREAM_TIMEOUT_MS.
 */
export const STATUS_CHECK_MS = 2_000;

/** The upstream's status word for a job, or null if it cannot tell within STATUS_CHECK_MS. */
async function upstreamStatus(
  upstream: Upstream,
  id: string,
  mode?: TaskMode | null,
  at?: UpstreamId,
): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), STATUS_CHECK_MS);
  });
  try {
    const task = await Promise.race([upstream.fetchTask(id, mode, at), timeout]);
    return task ? task.status.trim().toUpperCase() : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Actions that may open a modal: the CometAPI gateway rewrites code 21 to 1 for every modal but
 * Inpaint and Custom Zoom, so an accepted click is looked at once and, if the upstream job
 * waits in MODAL, recorded as MODAL (which a code 1 would otherwise hide until the deadline).
 */
function withModalCheck(upstream: Upstream): Upstream {
  return {
    ...upstream,
    async submit(kind, body, mode, at) {
      const outcome = await upstream.submit(kind, body, mode, at);
      if (outcome.kind !== "accepted") return outcome;
      const where = outcome.upstream ?? at;
      const status = await upstreamStatus(upstream, outcome.upstreamTaskId, mode, where);
      return status === "MODAL"
        ? { kind: "modal", upstreamTaskId: outcome.upstreamTaskId, upstream: outcome.upstream }
        : outcome;
    },
  };
}

const STARTED = ["SUBMITTED", "IN_PROGRESS", "SUCCESS", "FAILURE", "CANCEL"];

/**
 * A modal submit names a job the upstream already has, so an answer that got lost (timeout,
 * 5xx, garbage) can be checked: if the job has left MODAL it was started, and the task is
 * SUBMITTED rather than failed. A code 21 in answer to a modal is no answer at all.
 */
function withStartedCheck(upstream: Upstream, upstreamTaskId: string): Upstream {
  return {
    ...upstream,
    async submit(kind, body, mode, at) {
      const outcome = await upstream.submit(kind, body, mode, at);
      if (outcome.kind !== "unavailable" && outcome.kind !== "modal") return outcome;
      const status = await upstreamStatus(upstream, upstreamTaskId, mode, at);
      if (status && STARTED.includes(status)) {
        return { kind: "accepted", upstreamTaskId, upstream: outcome.upstream };
      }
      return outcome.kind === "modal"
        ? { kind: "unavailable", reason: "the upstream answered the modal with another modal" }
        : outcome;
    },
  };
}

/** Fields every job-starting body may carry besides its own (the contract's submit options). */
type JobInput = Pick<ImagineBody, "metadata" | "webhookUrl" | "webhookEvents" | "mode">;

/** A child reports where its parent does, unless its own request names a webhookUrl. */
function childWebhook(input: JobInput, parent: Task) {
  return input.webhookUrl
    ? { url: input.webhookUrl, events: input.webhookEvents }
    : { url: parent.webhookUrl ?? undefined, events: parent.webhookEvents };
}

/** The upstream fields of `input` that are set, for the submit body. */
function present<T extends object>(input: T, fields: readonly (keyof T & string)[]) {
  const body: Record<string, unknown> = {};
  for (const field of fields) if (input[field] !== undefined) body[field] = input[field];
  return body;
}

/** A new root task (no parent) for `kind`, submitted with imagine's semantics. */
function startJob(
  deps: SubmitDeps,
  owner: string,
  job: { route: string; kind: SubmitKind; action: TaskAction; prompt: string | null },
  input: JobInput,
  body: Record<string, unknown>,
  idempotencyKey: string | undefined,
): Promise<Task> {
  const task = newTask({
    id: deps.newId(),
    owner,
    action: job.action,
    prompt: job.prompt,
    metadata: input.metadata,
    webhook: { url: input.webhookUrl, events: input.webhookEvents },
    mode: input.mode,
    now: deps.clock.now(),
  });
  const idempotency = idempotencyKey
    ? { key: idempotencyKey, fingerprint: requestFingerprint(job.route, input) }
    : undefined;
  return submitJob(deps, task, job.kind, body, idempotency);
}

/** The validated body of its route (functions/contract/submit.ts). */
export type ActionInput = ActionBody;

/**
 * `POST /v1/tasks/{id}/actions`: clicks one of a finished task's buttons. The parent must be the
 * owner's (else 404), SUCCESS and have that button (else 409 invalid_state); the child task has
 * `parentId`, the action its customId stands for, and the parent's prompt (a describe/shorten
 * pick: the picked prompt). Code 21, or a job found waiting in MODAL, makes a MODAL child.
 */
export async function submitAction(
  deps: SubmitDeps,
  owner: string,
  parentId: string,
  input: ActionInput,
  idempotencyKey?: string,
): Promise<Task> {
  const parent = await getTask(deps, owner, parentId);
  if (parent.status !== "SUCCESS" || !parent.upstreamTaskId) {
    throw new InvalidStateError(
      `Buttons can be used once the task is SUCCESS; this one is ${parent.status}.`,
    );
  }
  if (!parent.buttons.some((button) => button.customId === input.customId)) {
    throw new InvalidStateError("The task has no button with this customId.");
  }
  const effect = buttonEffect(input.customId);
  if (effect.kind === "unsupported") {
    throw new ValidationError([{ path: "customId", message: effect.reason }]);
  }
  const prompt =
    effect.pick !== null
      ? (parent.prompts[effect.pick - 1] ?? null)
      : effect.action === "DESCRIBE"
        ? null
        : parent.prompt;
  const task = newTask({
    id: deps.newId(),
    owner,
    action: effect.action,
    prompt,
    parentId: parent.id,
    metadata: input.metadata,
    webhook: childWebhook(input, parent),
    mode: input.mode ?? parent.mode,
    // its button runs on the parent's upstream (a pick or describe again goes anywhere)
    upstream: parent.upstream,
    now: deps.clock.now(),
  });
  const idempotency = idempotencyKey
    ? {
        key: idempotencyKey,
        fingerprint: requestFingerprint(`POST /v1/tasks/${parent.id}/actions`, input),
      }
    : undefined;
  if (effect.pick !== null) {
    // A describe or shorten pick is an imagine of the picked prompt. Run as that: new-api
    // gateways answer these customIds 400 unknown_action (QuantumNous/new-api,
    // service/midjourney.go CoverPlusActionToNormalAction), trueai refuses PromptAnalyzer and
    // opens a modal for PicReader; an imagine runs the same job everywhere, as this child.
    if (!prompt) {
      throw new InvalidStateError("The task has no prompt at this position to imagine.");
    }
    return submitJob(deps, task, "imagine", { prompt }, idempotency);
  }
  if (effect.action === "DESCRIBE" && parent.imageUrl) {
    // "describe again" is a new describe of the same picture (new-api answers the Retry
    // customId 400 unknown_action, like the picks)
    return submitJob(deps, task, "describe", { link: parent.imageUrl }, idempotency);
  }
  const body = {
    taskId: parent.upstreamTaskId,
    customId: input.customId,
    ...present(input, ["enableRemix"]),
  };
  const submitDeps =
    effect.modal === "never" ? deps : { ...deps, upstream: withModalCheck(deps.upstream) };
  return submitJob(submitDeps, task, "action", body, idempotency);
}

/** The validated body of its route (functions/contract/submit.ts). */
export type ModalInput = ModalBody;

const ZOOM = /--zoom\s+(\d+(?:\.\d+)?)(?!\S)/;

/** What each kind of MODAL task needs (docs/upstreams.md §3, docs/api.md), checked before anything is written. */
function checkModalInput(task: Task, input: ModalInput): void {
  if (task.action === "CUSTOM_ZOOM") {
    const zoom = Number(ZOOM.exec(input.prompt ?? "")?.[1]);
    if (!(zoom >= 1 && zoom <= 2)) {
      throw new ValidationError([
        { path: "prompt", message: "Custom Zoom needs `--zoom <1 to 2>` in the prompt" },
      ]);
    }
  }
  if (task.action === "INPAINT" && !input.maskBase64) {
    throw new ValidationError([
      { path: "maskBase64", message: "Vary (Region) needs a mask: white areas are repainted" },
    ]);
  }
  if (task.action !== "INPAINT" && input.maskBase64) {
    throw new ValidationError([
      { path: "maskBase64", message: "a mask is only for Vary (Region) (an INPAINT task)" },
    ]);
  }
}

/**
 * `POST /v1/tasks/{id}/modal`: completes a task waiting in MODAL. The same task goes on: the
 * upstream job keeps its id and the modal carries the task's own signed `state`, so its webhooks
 * apply to this task, which a code 1/22 answer moves MODAL → SUBMITTED (forward-only).
 *
 * "Record the task first" is, here, a claim: one conditional write (in the Idempotency-Key's
 * transaction when there is one) that holds only while the task is the owner's, in MODAL and
 * unclaimed. So two concurrent modal submits never both reach the upstream, a retry with the
 * same key replays the first answer, and anything else is 409 invalid_state. A refused modal
 * fails the task, as any refused submit does (click the parent's button again for a new one).
 */
export async function submitModal(
  deps: SubmitDeps,
  owner: string,
  taskId: string,
  input: ModalInput,
  idempotencyKey?: string,
): Promise<Task> {
  const task = await getTask(deps, owner, taskId);
  const upstreamTaskId = task.upstreamTaskId;
  if (!upstreamTaskId || (task.status !== "MODAL" && !idempotencyKey)) {
    throw new InvalidStateError(`Only a task in MODAL takes a modal; this one is ${task.status}.`);
  }
  checkModalInput(task, input);
  const prompt = input.prompt?.trim() || undefined;
  const unclaimable = () =>
    new InvalidStateError(
      task.status === "MODAL"
        ? "A modal for this task was already submitted."
        : `Only a task in MODAL takes a modal; this one is ${task.status}.`,
    );
  // A modal's own steps: the MODAL task is claimed instead of created (with its key, if any);
  // an unanswered modal is checked against the upstream (withStartedCheck); and the answer may
  // move the task out of MODAL even though it is bound already (the action bound it, so being
  // bound proves nothing here).
  const steps: JobSteps = {
    async record() {
      const claimed = await deps.store.claimModal(task.id, {
        owner,
        prompt,
        at: deps.clock.now(),
      });
      if (claimed === "unclaimable") throw unclaimable();
    },
    async reserve(record, _task, now) {
      const reserved = await deps.idempotency.reserveAndClaimModal(record, { prompt }, now);
      if (reserved.outcome === "unclaimable") throw unclaimable();
      return reserved;
    },
    submit: withStartedCheck(deps.upstream, upstreamTaskId).submit,
    answerWrite: { onlyIfUnbound: false, leavingModal: true },
  };
  const body = {
    taskId: upstreamTaskId,
    ...(prompt ? { prompt } : {}),
    ...(input.maskBase64 ? { maskBase64: input.maskBase64 } : {}),
  };
  const idempotency = idempotencyKey
    ? {
        key: idempotencyKey,
        fingerprint: requestFingerprint(`POST /v1/tasks/${task.id}/modal`, input),
      }
    : undefined;
  return submitJob(
    deps,
    { ...task, prompt: prompt ?? task.prompt },
    "modal",
    body,
    idempotency,
    steps,
  );
}

/** The validated body of its route (functions/contract/submit.ts). */
export type BlendInput = BlendBody;

/** `POST /v1/blend`: 2–5 images into one grid (BLEND, no prompt). */
export function submitBlend(
  deps: SubmitDeps,
  owner: string,
  input: BlendInput,
  idempotencyKey?: string,
): Promise<Task> {
  return startJob(
    deps,
    owner,
    { route: "POST /v1/blend", kind: "blend", action: "BLEND", prompt: null },
    input,
    {
      base64Array: input.base64Array,
      dimensions: input.dimensions ?? "SQUARE",
      ...present(input, ["botType", "accountFilter"]),
    },
    idempotencyKey,
  );
}

/** The validated body of its route (functions/contract/submit.ts). */
export type DescribeInput = DescribeBody;

/** `POST /v1/describe`: four prompts for one image, in the task's `prompts` when SUCCESS. */
export function submitDescribe(
  deps: SubmitDeps,
  owner: string,
  input: DescribeInput,
  idempotencyKey?: string,
): Promise<Task> {
  return startJob(
    deps,
    owner,
    { route: "POST /v1/describe", kind: "describe", action: "DESCRIBE", prompt: null },
    input,
    present(input, ["base64", "link", "botType", "accountFilter"]),
    idempotencyKey,
  );
}

/** The validated body of its route (functions/contract/submit.ts). */
export type ShortenInput = ShortenBody;

/** `POST /v1/shorten`: shorter versions of a prompt, in the task's `prompts` when SUCCESS. */
export function submitShorten(
  deps: SubmitDeps,
  owner: string,
  input: ShortenInput,
  idempotencyKey?: string,
): Promise<Task> {
  return startJob(
    deps,
    owner,
    { route: "POST /v1/shorten", kind: "shorten", action: "SHORTEN", prompt: input.prompt },
    input,
    present(input, ["prompt", "botType", "accountFilter"]),
    idempotencyKey,
  );
}

/** The validated body of its route (functions/contract/submit.ts). */
export type VideoInput = VideoBody;

/**
 * `POST /v1/video`: animates an image; the result is the task's `videoUrl` and the batch its
 * `videoUrls`. Field names follow trueai's video DTO (trueai-org/midjourney-proxy,
 * src/Midjourney.Base/Dto/SubmitVideoDTO.cs). An extend is a child of the video task it names
 * (the owner's, SUCCESS, else 404 / 409 invalid_state) and runs with its prompt unless given one.
 */
export async function submitVideo(
  deps: SubmitDeps,
  owner: string,
  input: VideoInput,
  idempotencyKey?: string,
): Promise<Task> {
  const body: Record<string, unknown> = {
    ...present(input, ["prompt", "image", "endImage", "loop", "batchSize", "accountFilter"]),
    motion: input.motion ?? "low",
    ...(input.videoType ? { videoType: `vid_1.1_i2v_${input.videoType}` } : {}),
  };
  if (input.action !== "extend" || !input.taskId) {
    return startJob(
      deps,
      owner,
      { route: "POST /v1/video", kind: "video", action: "VIDEO", prompt: input.prompt ?? null },
      input,
      body,
      idempotencyKey,
    );
  }
  const parent = await getTask(deps, owner, input.taskId);
  if (parent.action !== "VIDEO" || parent.status !== "SUCCESS" || !parent.upstreamTaskId) {
    throw new InvalidStateError(
      `Only a finished video can be extended; this task is a ${parent.action} in ${parent.status}.`,
    );
  }
  const prompt = input.prompt ?? parent.prompt;
  const task = newTask({
    id: deps.newId(),
    owner,
    action: "VIDEO",
    prompt,
    parentId: parent.id,
    metadata: input.metadata,
    webhook: childWebhook(input, parent),
    mode: input.mode ?? parent.mode,
    // the extension names the parent's upstream job: it runs there
    upstream: parent.upstream,
    now: deps.clock.now(),
  });
  const idempotency = idempotencyKey
    ? { key: idempotencyKey, fingerprint: requestFingerprint("POST /v1/video", input) }
    : undefined;
  return submitJob(
    deps,
    task,
    "video",
    {
      ...body,
      ...(prompt ? { prompt } : {}),
      action: "extend",
      index: input.index ?? 0,
      taskId: parent.upstreamTaskId,
    },
    idempotency,
  );
}

/** The validated body of its route (functions/contract/submit.ts). */
export type EditInput = EditBody;

/** `POST /v1/edits`: Midjourney's editor on an image of the client's (EDIT, a grid). */
export function submitEdit(
  deps: SubmitDeps,
  owner: string,
  input: EditInput,
  idempotencyKey?: string,
): Promise<Task> {
  return startJob(
    deps,
    owner,
    { route: "POST /v1/edits", kind: "edits", action: "EDIT", prompt: input.prompt },
    input,
    {
      ...present(input, ["prompt", "image", "accountFilter"]),
      ...(input.mask ? { maskBase64: input.mask } : {}),
    },
    idempotencyKey,
  );
}

/** The validated body of its route (functions/contract/submit.ts). */
export type RetextureInput = RetextureBody;

/** `POST /v1/retexture`: the image's shapes kept, its surface redone from the prompt. */
export function submitRetexture(
  deps: SubmitDeps,
  owner: string,
  input: RetextureInput,
  idempotencyKey?: string,
): Promise<Task> {
  return startJob(
    deps,
    owner,
    {
      route: "POST /v1/retexture",
      kind: "retexture",
      action: "RETEXTURE",
      prompt: input.prompt,
    },
    input,
    present(input, ["prompt", "image", "accountFilter"]),
    idempotencyKey,
  );
}

/**
 * `GET /v1/tasks/{id}/seed`: the upstream's seed of a finished task. 409 before SUCCESS, 422
 * when the upstream has none for it, 502 when it cannot be asked.
 */
export async function getImageSeed(
  deps: Pick<SubmitDeps, "store" | "upstream">,
  owner: string,
  id: string,
): Promise<Seed> {
  const task = await getTask(deps, owner, id);
  if (task.status !== "SUCCESS" || !task.upstreamTaskId) {
    throw new InvalidStateError(
      `The seed is known once the task is SUCCESS; this one is ${task.status}.`,
    );
  }
  const at = task.upstream;
  const unsupported = deps.upstream.unsupported("image-seed", undefined, task.mode, at);
  if (unsupported) {
    throw new UpstreamUnsupportedError(
      deps.upstream.kindAt?.(at) ?? deps.upstream.kind,
      unsupported,
    );
  }
  let outcome: Awaited<ReturnType<Upstream["imageSeed"]>>;
  try {
    outcome = await deps.upstream.imageSeed(task.upstreamTaskId, task.mode, at);
  } catch (error) {
    if (error instanceof UpstreamReadError) {
      throw new UpstreamUnavailableError(null, error.message, { cause: error });
    }
    throw error;
  }
  if (outcome.kind === "refused") throw new UpstreamRejectedError(task, outcome.reason);
  return { taskId: task.id, seed: outcome.seed };
}

import * as z from "zod";

/**
 * The events a task's transitions make (docs/webhooks.md). A task reaches each
 * status once (statuses only move forward, see taskRank), so one transition makes at most one
 * event, and its id is derived from the transition itself: the same id however often the write
 * that recorded it is retried, and across every delivery attempt (`webhook-id`).
 */
export const TaskEventType = z.enum([
  "task.succeeded",
  "task.failed",
  "task.modal",
  "task.progress",
]);
export type TaskEventType = z.infer<typeof TaskEventType>;

/** Statuses use the upstream's words (see docs/api.md "The task"). */
export const TaskStatus = z.enum([
  "NOT_START",
  "SUBMITTED",
  "MODAL",
  "IN_PROGRESS",
  "SUCCESS",
  "FAILURE",
  "CANCEL",
]);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const TERMINAL_STATUSES: readonly TaskStatus[] = ["SUCCESS", "FAILURE", "CANCEL"];

export const TaskAction = z.enum([
  "IMAGINE",
  "UPSCALE",
  "VARIATION",
  "LOW_VARIATION",
  "HIGH_VARIATION",
  "REROLL",
  "ZOOM",
  "CUSTOM_ZOOM",
  "PAN",
  "INPAINT",
  "VIDEO",
  "DESCRIBE",
  "BLEND",
  "SHORTEN",
  // trueai's TaskAction names for /submit/edits and /submit/retexture
  "EDIT",
  "RETEXTURE",
  "ACTION",
]);
export type TaskAction = z.infer<typeof TaskAction>;

export const Button = z.object({
  customId: z.string(),
  label: z.string(),
  emoji: z.string(),
  style: z.number().int(),
  type: z.number().int(),
});
export type Button = z.infer<typeof Button>;

/** The speed a job was asked for (docs/api.md `mode`); null: the upstream's default. */
export const TaskMode = z.enum(["fast", "relax", "turbo"]);
export type TaskMode = z.infer<typeof TaskMode>;

/** A small JSON object of the client's, echoed back unchanged. */
export const Metadata = z.record(z.string(), z.unknown());
export type Metadata = z.infer<typeof Metadata>;

/**
 * What a durable copy is: the upstream's grid, one of its four quadrants (split by us), a
 * single image (an upscale, or an entry of `imageUrls`), the video, or the small thumbnail.
 */
export const ImageKind = z.enum(["grid", "quadrant", "image", "video", "thumbnail"]);
export type ImageKind = z.infer<typeof ImageKind>;

/**
 * One durable copy of a task's result, in our own storage (see docs/images.md).
 * `url` opens it without an API key and expires (a signed link, made when the task is read);
 * it is null only where the task was not read through the read function.
 */
export const TaskImage = z.object({
  kind: ImageKind,
  /** The file's name within the task (`grid.png`, `quadrant-2.png`, `thumbnail.webp` …). */
  name: z.string(),
  /**
   * Quadrant 1–4 (left to right, top to bottom), or the position in `imageUrls` (a video: in
   * `videoUrls`); else null.
   */
  index: z.number().int().min(1).nullable(),
  url: z.string().nullable().default(null),
  /** Pixels; null for a video. */
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
  contentType: z.string(),
  bytes: z.number().int().nonnegative(),
  /** The upstream URL it was copied from; null for what we made from it (quadrants, thumbnail). */
  source: z.string().nullable(),
});
export type TaskImage = z.infer<typeof TaskImage>;

/** Where the durable copy of a SUCCESS task's media stands; null: nothing to copy (yet). */
export const ImagesStatus = z.enum(["pending", "done", "failed"]);
export type ImagesStatus = z.infer<typeof ImagesStatus>;

/** The task exactly as the API shows it (docs/api.md). */
export const Task = z.object({
  id: z.string(),
  owner: z.string(),
  action: TaskAction,
  status: TaskStatus,
  progress: z.number().int().min(0).max(100),
  prompt: z.string().nullable(),
  upstreamTaskId: z.string().nullable(),
  parentId: z.string().nullable(),
  imageUrl: z
    .string()
    .nullable()
    .describe("the result; a link to our durable copy once it exists, else the upstream's"),
  imageUrls: z
    .array(z.string())
    .describe("the separate images; links to our copies once they exist, else the upstream's"),
  videoUrl: z
    .string()
    .nullable()
    .describe("the video; a link to our durable copy once it exists, else the upstream's"),
  /** The video batch (trueai's `videoUrls`); defaults keep older items parsing. */
  videoUrls: z
    .array(z.string())
    .default([])
    .describe("every video of the batch; links to our copies once they exist, else the upstream's"),
  /**
   * The text results of DESCRIBE (the four prompts) and SHORTEN (the shortened prompts), in the
   * upstream's order; `[]` for every other task. Defaults to `[]` so that items and replayed
   * answers stored before the field existed still parse.
   */
  prompts: z.array(z.string()).default([]),
  buttons: z.array(Button),
  failReason: z.string().nullable(),
  /**
   * The upstream's own words when `failReason` is our English of them (midjourney-proxy servers
   * answer in Chinese); null otherwise. Defaults keep older items parsing.
   */
  upstreamFailReason: z.string().nullable().default(null),
  metadata: Metadata,
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
  /**
   * Durable copies of the result (docs/images.md). Once a copy exists, a read shows it as
   * `imageUrl`/`imageUrls`/`videoUrl` and the upstream's own URLs as `upstream*` (stored items
   * keep only the upstream's). Defaults keep tasks stored before the copies existed parsing.
   */
  images: z.array(TaskImage).default([]),
  imagesStatus: ImagesStatus.nullable().default(null),
  /** Why the last copy attempt failed (kept while retrying, and once given up). */
  imagesError: z.string().nullable().default(null),
  /**
   * Where this task's events are POSTed (docs/webhooks.md), and which; null / []
   * when the submit gave no webhookUrl. Defaults keep older items parsing.
   */
  webhookUrl: z.string().nullable().default(null),
  webhookEvents: z.array(TaskEventType).default([]),
  /**
   * The upstream's own result URLs, as it sent them (they expire). `imageUrl`, `imageUrls` and
   * `videoUrl` equal them until the durable copies exist; from then on those point at the copies
   * (withCopyUrls, as the task is read) and these keep the originals. Derived from the stored
   * task, never stored; the defaults keep answers recorded before the fields existed parsing.
   */
  upstreamImageUrl: z
    .string()
    .nullable()
    .default(null)
    .describe("the upstream's own `imageUrl`, as it sent it (it expires)"),
  upstreamImageUrls: z
    .array(z.string())
    .default([])
    .describe("the upstream's own `imageUrls`, as it sent them (they expire)"),
  upstreamVideoUrl: z
    .string()
    .nullable()
    .default(null)
    .describe("the upstream's own `videoUrl`, as it sent it (it expires)"),
  upstreamVideoUrls: z
    .array(z.string())
    .default([])
    .describe("the upstream's own `videoUrls`, as it sent them (they expire)"),
  /**
   * The speed asked for: its upstream path prefix serves the submit and every poll of the
   * task. Defaults keep older items parsing.
   */
  mode: TaskMode.nullable().default(null),
  /**
   * The id of the upstream that runs the job (docs/upstreams.md "Several upstreams"; `GET
   * /health` lists them): its polls, buttons, modal and cancel go there. Null until an upstream
   * accepts it; defaults keep older items parsing.
   */
  upstream: z
    .string()
    .nullable()
    .default(null)
    .describe(
      "the id of the upstream running the job (`GET /health` lists them); null until one accepts it",
    ),
});
export type Task = z.infer<typeof Task>;

/** `GET /v1/tasks/{id}`: the task and the ids of the tasks started from it, newest first. */
export type TaskWithChildren = Task & { children: string[] };

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * NOT_START < SUBMITTED < MODAL < IN_PROGRESS < the terminal states (docs/api.md). MODAL
 * ranks above SUBMITTED because a gateway may reveal a modal late: new-api answers a remix
 * click with code 1 (its 21→1 rewrite) and shows MODAL only once it has synced, so the task is
 * first recorded SUBMITTED. Leaving MODAL (the modal submitted through this API) is the one
 * move back down, allowed only by that submit's own answer (TaskStore.advance `leavingModal`).
 */
const STATUS_RANK: Record<TaskStatus, number> = {
  NOT_START: 0,
  SUBMITTED: 1000,
  MODAL: 1500,
  IN_PROGRESS: 2000,
  SUCCESS: 3100,
  FAILURE: 3100,
  CANCEL: 3100,
};

/**
 * One number that orders every state a task can be in, so "only move forward" is a single
 * numeric comparison inside a DynamoDB condition: status rank first, then progress.
 * Terminal states share one rank (with progress pinned to 100) so that a finished task never
 * changes again, whichever terminal webhook arrived first.
 */
export function taskRank(status: TaskStatus, progress: number): number {
  const rank = STATUS_RANK[status];
  if (status === "IN_PROGRESS") return rank + Math.max(0, Math.min(100, Math.trunc(progress)));
  return rank;
}

import { TaskEventType } from "./events.ts";
import * as z from "./z.ts";

/** Statuses use the upstream's words (see docs/api.md "The task"). */
export const TaskStatus = /* @__PURE__ */ z.onDemand(() =>
  z.enum(["NOT_START", "SUBMITTED", "MODAL", "IN_PROGRESS", "SUCCESS", "FAILURE", "CANCEL"]),
);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const TaskAction = /* @__PURE__ */ z.onDemand(() =>
  z.enum([
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
  ]),
);
export type TaskAction = z.infer<typeof TaskAction>;

/** A task's id: a ULID. */
export const TaskId = /* @__PURE__ */ z.onDemand(() =>
  z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, { message: "not a task id" })),
);

const int = () => z.number().check(z.int());

export const Button = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    customId: z.string(),
    label: z.string(),
    emoji: z.string(),
    style: int(),
    type: int(),
  }),
);
export type Button = z.infer<typeof Button>;

/** The speed a job was asked for (docs/api.md `mode`); null: the upstream's default. */
export const TaskMode = /* @__PURE__ */ z.onDemand(() => z.enum(["fast", "relax", "turbo"]));
export type TaskMode = z.infer<typeof TaskMode>;

/** A small JSON object of the client's, echoed back unchanged. */
export const Metadata = /* @__PURE__ */ z.onDemand(() => z.record(z.string(), z.unknown()));
export type Metadata = z.infer<typeof Metadata>;

/**
 * What a durable copy is: the upstream's grid, one of its four quadrants (split by us), a
 * single image (an upscale, or an entry of `imageUrls`), the video, or the small thumbnail.
 */
export const ImageKind = /* @__PURE__ */ z.onDemand(() =>
  z.enum(["grid", "quadrant", "image", "video", "thumbnail"]),
);
export type ImageKind = z.infer<typeof ImageKind>;

const nullableString = () => z.nullable(z.string());
/** A field added later: null (or `[]`) when absent, so items stored before it existed parse. */
const nullOr = <T extends z.core.SomeType>(schema: T) => z._default(z.nullable(schema), null);
const listOf = <T extends z.core.SomeType>(schema: T) => z._default(z.array(schema), []);
/** The description the OpenAPI document shows for the field. */
const described = <T extends z.ZodMiniType>(schema: T, description: string): T =>
  schema.check(z.describe(description)) as T;

/**
 * One durable copy of a task's result, in our own storage (see docs/images.md).
 * `url` opens it without an API key and expires (a signed link, made when the task is read);
 * it is null only where the task was not read through the read function.
 */
export const TaskImage = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    kind: z.built(ImageKind),
    /** The file's name within the task (`grid.png`, `quadrant-2.png`, `thumbnail.webp` …). */
    name: z.string(),
    /**
     * Quadrant 1–4 (left to right, top to bottom), or the position in `imageUrls` (a video: in
     * `videoUrls`); else null.
     */
    index: z.nullable(int().check(z.minimum(1))),
    url: nullOr(z.string()),
    /** Pixels; null for a video. */
    width: z.nullable(int().check(z.positive())),
    height: z.nullable(int().check(z.positive())),
    contentType: z.string(),
    bytes: int().check(z.nonnegative()),
    /** The upstream URL it was copied from; null for what we made from it (quadrants, thumbnail). */
    source: nullableString(),
  }),
);
export type TaskImage = z.infer<typeof TaskImage>;

/** Where the durable copy of a SUCCESS task's media stands; null: nothing to copy (yet). */
export const ImagesStatus = /* @__PURE__ */ z.onDemand(() => z.enum(["pending", "done", "failed"]));
export type ImagesStatus = z.infer<typeof ImagesStatus>;

/**
 * The task's fields a status change writes besides the status itself: its progress, results and
 * failure. Task's own schemas for them, also checked alone before an update is written
 * (functions/store/task-advance.ts), which so builds these and not the whole task.
 */
export const TaskResultFields = /* @__PURE__ */ z.onDemand(() => ({
  progress: int().check(z.minimum(0), z.maximum(100)),
  imageUrl: described(
    nullableString(),
    "the result; a link to our durable copy once it exists, else the upstream's",
  ),
  imageUrls: described(
    z.array(z.string()),
    "the separate images; links to our copies once they exist, else the upstream's",
  ),
  videoUrl: described(
    nullableString(),
    "the video; a link to our durable copy once it exists, else the upstream's",
  ),
  /** The video batch (trueai's `videoUrls`); defaults keep older items parsing. */
  videoUrls: described(
    listOf(z.string()),
    "every video of the batch; links to our copies once they exist, else the upstream's",
  ),
  /**
   * The text results of DESCRIBE (the four prompts) and SHORTEN (the shortened prompts), in the
   * upstream's order; `[]` for every other task. Defaults to `[]` so that items and replayed
   * answers stored before the field existed still parse.
   */
  prompts: listOf(z.string()),
  buttons: z.array(z.built(Button)),
  failReason: nullableString(),
  /**
   * The upstream's own words when `failReason` is our English of them (midjourney-proxy servers
   * answer in Chinese); null otherwise. Defaults keep older items parsing.
   */
  upstreamFailReason: nullOr(z.string()),
  finishedAt: nullableString(),
}));

/** The task exactly as the API shows it (docs/api.md). */
export const Task = /* @__PURE__ */ z.onDemand(() => {
  const result = z.built(TaskResultFields);
  return z.object({
    id: z.string(),
    owner: z.string(),
    action: z.built(TaskAction),
    status: z.built(TaskStatus),
    progress: result.progress,
    prompt: nullableString(),
    upstreamTaskId: nullableString(),
    parentId: nullableString(),
    imageUrl: result.imageUrl,
    imageUrls: result.imageUrls,
    videoUrl: result.videoUrl,
    videoUrls: result.videoUrls,
    prompts: result.prompts,
    buttons: result.buttons,
    failReason: result.failReason,
    upstreamFailReason: result.upstreamFailReason,
    metadata: z.built(Metadata),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: result.finishedAt,
    /**
     * Durable copies of the result (docs/images.md). Once a copy exists, a read shows it as
     * `imageUrl`/`imageUrls`/`videoUrl` and the upstream's own URLs as `upstream*` (stored items
     * keep only the upstream's). Defaults keep tasks stored before the copies existed parsing.
     */
    images: listOf(z.built(TaskImage)),
    imagesStatus: nullOr(z.built(ImagesStatus)),
    /** Why the last copy attempt failed (kept while retrying, and once given up). */
    imagesError: nullOr(z.string()),
    /**
     * Where this task's events are POSTed (docs/webhooks.md), and which; null / []
     * when the submit gave no webhookUrl. Defaults keep older items parsing.
     */
    webhookUrl: nullOr(z.string()),
    webhookEvents: listOf(z.built(TaskEventType)),
    /**
     * The upstream's own result URLs, as it sent them (they expire). `imageUrl`, `imageUrls` and
     * `videoUrl` equal them until the durable copies exist; from then on those point at the copies
     * (withCopyUrls, as the task is read) and these keep the originals. Derived from the stored
     * task, never stored; the defaults keep answers recorded before the fields existed parsing.
     */
    upstreamImageUrl: described(
      nullOr(z.string()),
      "the upstream's own `imageUrl`, as it sent it (it expires)",
    ),
    upstreamImageUrls: described(
      listOf(z.string()),
      "the upstream's own `imageUrls`, as it sent them (they expire)",
    ),
    upstreamVideoUrl: described(
      nullOr(z.string()),
      "the upstream's own `videoUrl`, as it sent it (it expires)",
    ),
    upstreamVideoUrls: described(
      listOf(z.string()),
      "the upstream's own `videoUrls`, as it sent them (they expire)",
    ),
    /**
     * The speed asked for: its upstream path prefix serves the submit and every poll of the
     * task. Defaults keep older items parsing.
     */
    mode: nullOr(z.built(TaskMode)),
    /**
     * The id of the upstream that runs the job (docs/upstreams.md "Several upstreams"; `GET
     * /health` lists them): its polls, buttons, modal and cancel go there. Null until an upstream
     * accepts it; defaults keep older items parsing.
     */
    upstream: described(
      nullOr(z.string()),
      "the id of the upstream running the job (`GET /health` lists them); null until one accepts it",
    ),
  });
});

export type Task = z.infer<typeof Task>;

/** `GET /v1/tasks/{id}`: the task and the ids of the tasks started from its buttons, newest first. */
export const TaskWithChildren = /* @__PURE__ */ z.onDemand(() =>
  z.extend(z.built(Task), {
    children: z.array(z.string()).check(
      z.meta({
        description:
          "ids of the tasks started from this one's buttons, newest first (up to 1000; page through all with `GET /v1/tasks?parentId=`)",
      }),
    ),
  }),
);
export type TaskWithChildren = z.infer<typeof TaskWithChildren>;

/** `GET /v1/tasks`: one page, newest first. */
export const TaskPage = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    items: z.array(z.built(Task)),
    nextCursor: z
      .nullable(z.string())
      .check(z.meta({ description: "pass as `cursor` for the next page; null on the last page" })),
  }),
);
export type TaskPage = z.infer<typeof TaskPage>;

/** `GET /v1/tasks/{id}/seed`. */
export const Seed = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({ taskId: z.string(), seed: z.string() }),
);
export type Seed = z.infer<typeof Seed>;

/** The body we POST to a task's webhookUrl (docs/webhooks.md), and the bus's `detail`. */
export const TaskEvent = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    type: z.built(TaskEventType),
    id: described(z.string(), "the event's id: also the `webhook-id` header; dedupe by it"),
    timestamp: described(z.string(), "when the transition happened (ISO 8601)"),
    data: described(z.built(Task), "the task as it stood when the event was queued"),
  }),
);
export type TaskEvent = z.infer<typeof TaskEvent>;

import { TaskEventType } from "./events.ts";
import { Metadata, TaskId, TaskMode } from "./task.ts";
import { ImageDataUri } from "./uploads.ts";
import * as z from "./z.ts";

/** The job routes' request bodies (docs/api.md): what a client sends to start or complete a job. */

const METADATA_MAX_BYTES = 4096;

export const ClientMetadata = /* @__PURE__ */ z.onDemand(() =>
  z.built(Metadata).check(
    z.refine((m) => Buffer.byteLength(JSON.stringify(m)) <= METADATA_MAX_BYTES, {
      message: `metadata must be at most ${METADATA_MAX_BYTES} bytes of JSON`,
    }),
  ),
);

const shortString = (max: number) => z.optional(z.string().check(z.maxLength(max)));

export const AccountFilter = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    channelId: shortString(64),
    instanceId: shortString(64),
    modes: z.optional(z.array(z.enum(["RELAX", "FAST", "TURBO"])).check(z.maxLength(3))),
    remark: shortString(256),
    remix: z.optional(z.boolean()),
    nijiRemix: z.optional(z.boolean()),
    remixAutoConsidered: z.optional(z.boolean()),
  }),
);

const HttpUrl = /* @__PURE__ */ z.onDemand(() =>
  z.url({ protocol: /^https?$/ }).check(z.maxLength(2000)),
);

export const WebhookUrl = HttpUrl;

/** Which events go to webhookUrl (default: all but task.progress). */
export const WebhookEvents = /* @__PURE__ */ z.onDemand(() =>
  z.array(z.built(TaskEventType)).check(
    z.minLength(1),
    z.maxLength(4),
    z.refine((events) => new Set(events).size === events.length, {
      message: "webhookEvents lists an event twice",
    }),
  ),
);

/**
 * The speed of a job (docs/api.md): sent as the upstream path prefix `/mj-fast`, `/mj-relax`
 * or `/mj-turbo` for the submit and the task's polls.
 */
export const Mode = TaskMode;

/** `webhookEvents` means nothing without a `webhookUrl` to send them to. */
const eventsNeedUrl = () =>
  z.refine<{ webhookUrl?: string; webhookEvents?: unknown }>(
    (b) => b.webhookEvents === undefined || b.webhookUrl !== undefined,
    { message: "webhookEvents needs a webhookUrl", path: ["webhookEvents"] },
  );

/** What every submit route takes besides its own fields, in this order. */
const SUBMIT_OPTIONS = /* @__PURE__ */ z.onDemand(() => ({
  accountFilter: z.optional(z.built(AccountFilter)),
  webhookUrl: z.optional(z.built(WebhookUrl)),
  webhookEvents: z.optional(z.built(WebhookEvents)),
  metadata: z.optional(z.built(ClientMetadata)),
  mode: z.optional(z.built(Mode)),
}));

const BotType = /* @__PURE__ */ z.onDemand(() => z.enum(["MID_JOURNEY", "NIJI_JOURNEY"]));
const Prompt = /* @__PURE__ */ z.onDemand(() =>
  z
    .string()
    .check(z.trim(), z.minLength(1, { message: "prompt must not be empty" }), z.maxLength(8000)),
);

/** `POST /v1/imagine` (docs/api.md). */
export const ImagineBody = /* @__PURE__ */ z.onDemand(() =>
  z
    .strictObject({
      prompt: z.built(Prompt),
      botType: z.optional(z.built(BotType)),
      base64Array: z.optional(z.array(z.built(ImageDataUri)).check(z.maxLength(5))),
      ...z.built(SUBMIT_OPTIONS),
    })
    .check(eventsNeedUrl()),
);
export type ImagineBody = z.infer<typeof ImagineBody>;

/** `POST /v1/tasks/{id}/actions`: one of the task's buttons. */
export const ActionBody = /* @__PURE__ */ z.onDemand(() =>
  z
    .strictObject({
      customId: z.string().check(z.minLength(1), z.maxLength(512)),
      enableRemix: z.optional(z.boolean()),
      webhookUrl: z.optional(z.built(WebhookUrl)),
      webhookEvents: z.optional(z.built(WebhookEvents)),
      metadata: z.optional(z.built(ClientMetadata)),
      mode: z.optional(z.built(Mode)),
    })
    .check(eventsNeedUrl()),
);
export type ActionBody = z.infer<typeof ActionBody>;

/** `POST /v1/tasks/{id}/modal`: what the modal asks for (custom zoom: `--zoom`; vary region: a mask). */
export const ModalBody = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    prompt: z.optional(z.built(Prompt)),
    maskBase64: z.optional(z.built(ImageDataUri)),
  }),
);
export type ModalBody = z.infer<typeof ModalBody>;

const BLEND_COUNT = { message: "blend takes 2 to 5 images" };

/** `POST /v1/blend`. */
export const BlendBody = /* @__PURE__ */ z.onDemand(() =>
  z
    .strictObject({
      base64Array: z
        .array(z.built(ImageDataUri))
        .check(z.minLength(2, BLEND_COUNT), z.maxLength(5, BLEND_COUNT)),
      dimensions: z.optional(z.enum(["PORTRAIT", "SQUARE", "LANDSCAPE"])),
      botType: z.optional(z.built(BotType)),
      ...z.built(SUBMIT_OPTIONS),
    })
    .check(eventsNeedUrl()),
);
export type BlendBody = z.infer<typeof BlendBody>;

/** `POST /v1/describe`: one image, as a data URI (`base64`) or a URL (`link`). */
export const DescribeBody = /* @__PURE__ */ z.onDemand(() =>
  z
    .strictObject({
      base64: z.optional(z.built(ImageDataUri)),
      link: z.optional(z.built(HttpUrl)),
      botType: z.optional(z.built(BotType)),
      ...z.built(SUBMIT_OPTIONS),
    })
    .check(
      z.refine((b) => (b.base64 === undefined) !== (b.link === undefined), {
        message: "describe takes exactly one image: `base64` (a data URI) or `link` (a URL)",
        path: ["base64"],
      }),
      eventsNeedUrl(),
    ),
);
export type DescribeBody = z.infer<typeof DescribeBody>;

/** `POST /v1/shorten`. */
export const ShortenBody = /* @__PURE__ */ z.onDemand(() =>
  z
    .strictObject({
      prompt: z.built(Prompt),
      botType: z.optional(z.built(BotType)),
      ...z.built(SUBMIT_OPTIONS),
    })
    .check(eventsNeedUrl()),
);
export type ShortenBody = z.infer<typeof ShortenBody>;

const ImageRef = /* @__PURE__ */ z.onDemand(() =>
  z.union([z.built(ImageDataUri), z.built(HttpUrl)], {
    message: "expected an image data URI (PNG, JPEG, GIF or WebP) or an http(s) URL",
  }),
);

/**
 * `POST /v1/video`: animate an image, or extend a finished video (`action: "extend"` with the
 * video task's `taskId` and the batch `index`, 0–3) (docs/upstreams.md §3).
 */
export const VideoBody = /* @__PURE__ */ z.onDemand(() =>
  z
    .strictObject({
      image: z.optional(z.built(ImageRef)),
      endImage: z.optional(z.built(ImageRef)),
      prompt: z.optional(z.built(Prompt)),
      motion: z.optional(z.enum(["low", "high"])),
      loop: z.optional(z.boolean()),
      videoType: z.optional(
        z.union([z.literal(480), z.literal(720)], { message: "videoType is 480 or 720" }),
      ),
      batchSize: z.optional(
        z.union([z.literal(1), z.literal(2), z.literal(4)], { message: "batchSize is 1, 2 or 4" }),
      ),
      action: z.optional(z.literal("extend")),
      index: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(3))),
      taskId: z.optional(z.built(TaskId)),
      ...z.built(SUBMIT_OPTIONS),
    })
    .check(
      eventsNeedUrl(),
      z.refine((b) => b.action === "extend" || b.image !== undefined, {
        message: "image is required (unless action is extend)",
        path: ["image"],
      }),
      z.refine((b) => b.action !== "extend" || b.taskId !== undefined, {
        message: "an extend needs the video task's taskId",
        path: ["taskId"],
      }),
      z.refine((b) => b.action !== "extend" || b.index !== undefined, {
        message: "an extend needs the index (0-3) of the video to extend",
        path: ["index"],
      }),
      z.refine((b) => b.action === "extend" || (b.taskId === undefined && b.index === undefined), {
        message: "taskId and index are only for action extend",
        path: ["action"],
      }),
    ),
);
export type VideoBody = z.infer<typeof VideoBody>;

/** `POST /v1/edits`: Midjourney's editor (docs/upstreams.md §3). */
export const EditBody = /* @__PURE__ */ z.onDemand(() =>
  z
    .strictObject({
      image: z.built(ImageRef),
      prompt: z.built(Prompt),
      mask: z.optional(z.built(ImageDataUri)),
      ...z.built(SUBMIT_OPTIONS),
    })
    .check(eventsNeedUrl()),
);
export type EditBody = z.infer<typeof EditBody>;

/** `POST /v1/retexture`. */
export const RetextureBody = /* @__PURE__ */ z.onDemand(() =>
  z
    .strictObject({
      image: z.built(ImageRef),
      prompt: z.built(Prompt),
      ...z.built(SUBMIT_OPTIONS),
    })
    .check(eventsNeedUrl()),
);
export type RetextureBody = z.infer<typeof RetextureBody>;

import * as z from "zod";
import { ApiKeyView, KeyName, OwnerName } from "../core/api-keys.ts";
import { TaskEventType } from "../core/events.ts";
import { Metadata, TaskAction, TaskMode, TaskStatus } from "../core/task.ts";

const IMAGE_SIGNATURES: [string, number[]][] = [
  ["png", [0x89, 0x50, 0x4e, 0x47]],
  ["jpeg", [0xff, 0xd8, 0xff]],
  ["gif", [0x47, 0x49, 0x46, 0x38]],
  ["webp", [0x52, 0x49, 0x46, 0x46]],
];

/** `data:image/<png|jpeg|gif|webp>;base64,...` whose bytes really start like that image type. */
export const ImageDataUri = z
  .string()
  .regex(/^data:image\/(png|jpe?g|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/, {
    message: "expected a data URI of a PNG, JPEG, GIF or WebP image (data:image/png;base64,...)",
    // not a data URI at all: its bytes need no second complaint
    abort: true,
  })
  .refine(
    (uri) => {
      const comma = uri.indexOf(",");
      const head = Buffer.from(uri.slice(comma + 1, comma + 17), "base64");
      return IMAGE_SIGNATURES.some(([, sig]) => sig.every((byte, i) => head[i] === byte));
    },
    { message: "the data URI's bytes are not a PNG, JPEG, GIF or WebP image" },
  );

const METADATA_MAX_BYTES = 4096;

export const ClientMetadata = Metadata.refine(
  (m) => Buffer.byteLength(JSON.stringify(m)) <= METADATA_MAX_BYTES,
  { message: `metadata must be at most ${METADATA_MAX_BYTES} bytes of JSON` },
);

export const AccountFilter = z.strictObject({
  channelId: z.string().max(64).optional(),
  instanceId: z.string().max(64).optional(),
  modes: z
    .array(z.enum(["RELAX", "FAST", "TURBO"]))
    .max(3)
    .optional(),
  remark: z.string().max(256).optional(),
  remix: z.boolean().optional(),
  nijiRemix: z.boolean().optional(),
  remixAutoConsidered: z.boolean().optional(),
});

export const WebhookUrl = z.url({ protocol: /^https?$/ }).max(2000);

/** Which events go to webhookUrl (default: all but task.progress). */
export const WebhookEvents = z
  .array(TaskEventType)
  .min(1)
  .max(4)
  .refine((events) => new Set(events).size === events.length, {
    message: "webhookEvents lists an event twice",
  });

/**
 * The speed of a job (docs/api.md): sent as the upstream path prefix `/mj-fast`, `/mj-relax`
 * or `/mj-turbo` for the submit and the task's polls.
 */
export const Mode = TaskMode;

/** `webhookEvents` means nothing without a `webhookUrl` to send them to. */
const eventsNeedUrl: [
  (b: { webhookUrl?: string; webhookEvents?: unknown }) => boolean,
  { message: string; path: string[] },
] = [
  (b) => b.webhookEvents === undefined || b.webhookUrl !== undefined,
  { message: "webhookEvents needs a webhookUrl", path: ["webhookEvents"] },
];

/** What every submit route takes besides its own fields, in this order. */
const SUBMIT_OPTIONS = {
  accountFilter: AccountFilter.optional(),
  webhookUrl: WebhookUrl.optional(),
  webhookEvents: WebhookEvents.optional(),
  metadata: ClientMetadata.optional(),
  mode: Mode.optional(),
};

/** `POST /v1/imagine` (docs/api.md). */
export const ImagineBody = z
  .strictObject({
    prompt: z.string().trim().min(1, { message: "prompt must not be empty" }).max(8000),
    botType: z.enum(["MID_JOURNEY", "NIJI_JOURNEY"]).optional(),
    base64Array: z.array(ImageDataUri).max(5).optional(),
    ...SUBMIT_OPTIONS,
  })
  .refine(...eventsNeedUrl);
export type ImagineBody = z.infer<typeof ImagineBody>;

const BotType = z.enum(["MID_JOURNEY", "NIJI_JOURNEY"]);
const Prompt = z.string().trim().min(1, { message: "prompt must not be empty" }).max(8000);
const HttpUrl = z.url({ protocol: /^https?$/ }).max(2000);

/** `POST /v1/tasks/{id}/actions`: one of the task's buttons. */
export const ActionBody = z
  .strictObject({
    customId: z.string().min(1).max(512),
    enableRemix: z.boolean().optional(),
    webhookUrl: WebhookUrl.optional(),
    webhookEvents: WebhookEvents.optional(),
    metadata: ClientMetadata.optional(),
    mode: Mode.optional(),
  })
  .refine(...eventsNeedUrl);
export type ActionBody = z.infer<typeof ActionBody>;

/** `POST /v1/tasks/{id}/modal`: what the modal asks for (custom zoom: `--zoom`; vary region: a mask). */
export const ModalBody = z.strictObject({
  prompt: Prompt.optional(),
  maskBase64: ImageDataUri.optional(),
});
export type ModalBody = z.infer<typeof ModalBody>;

/** `POST /v1/blend`. */
export const BlendBody = z
  .strictObject({
    base64Array: z
      .array(ImageDataUri)
      .min(2, { message: "blend takes 2 to 5 images" })
      .max(5, { message: "blend takes 2 to 5 images" }),
    dimensions: z.enum(["PORTRAIT", "SQUARE", "LANDSCAPE"]).optional(),
    botType: BotType.optional(),
    ...SUBMIT_OPTIONS,
  })
  .refine(...eventsNeedUrl);
export type BlendBody = z.infer<typeof BlendBody>;

/** `POST /v1/describe`: one image, as a data URI (`base64`) or a URL (`link`). */
export const DescribeBody = z
  .strictObject({
    base64: ImageDataUri.optional(),
    link: HttpUrl.optional(),
    botType: BotType.optional(),
    ...SUBMIT_OPTIONS,
  })
  .refine((b) => (b.base64 === undefined) !== (b.link === undefined), {
    message: "describe takes exactly one image: `base64` (a data URI) or `link` (a URL)",
    path: ["base64"],
  })
  .refine(...eventsNeedUrl);
export type DescribeBody = z.infer<typeof DescribeBody>;

/** `POST /v1/shorten`. */
export const ShortenBody = z
  .strictObject({
    prompt: Prompt,
    botType: BotType.optional(),
    ...SUBMIT_OPTIONS,
  })
  .refine(...eventsNeedUrl);
export type ShortenBody = z.infer<typeof ShortenBody>;

const ImageRef = z.union([ImageDataUri, HttpUrl], {
  message: "expected an image data URI (PNG, JPEG, GIF or WebP) or an http(s) URL",
});

/**
 * `POST /v1/video`: animate an image, or extend a finished video (`action: "extend"` with the
 * video task's `taskId` and the batch `index`, 0–3) (docs/upstreams.md §3).
 */
export const VideoBody = z
  .strictObject({
    image: ImageRef.optional(),
    endImage: ImageRef.optional(),
    prompt: Prompt.optional(),
    motion: z.enum(["low", "high"]).optional(),
    loop: z.boolean().optional(),
    videoType: z
      .union([z.literal(480), z.literal(720)], { message: "videoType is 480 or 720" })
      .optional(),
    batchSize: z
      .union([z.literal(1), z.literal(2), z.literal(4)], { message: "batchSize is 1, 2 or 4" })
      .optional(),
    action: z.literal("extend").optional(),
    index: z.number().int().min(0).max(3).optional(),
    taskId: z
      .string()
      .regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, { message: "not a task id" })
      .optional(),
    ...SUBMIT_OPTIONS,
  })
  .refine(...eventsNeedUrl)
  .refine((b) => b.action === "extend" || b.image !== undefined, {
    message: "image is required (unless action is extend)",
    path: ["image"],
  })
  .refine((b) => b.action !== "extend" || b.taskId !== undefined, {
    message: "an extend needs the video task's taskId",
    path: ["taskId"],
  })
  .refine((b) => b.action !== "extend" || b.index !== undefined, {
    message: "an extend needs the index (0-3) of the video to extend",
    path: ["index"],
  })
  .refine((b) => b.action === "extend" || (b.taskId === undefined && b.index === undefined), {
    message: "taskId and index are only for action extend",
    path: ["action"],
  });
export type VideoBody = z.infer<typeof VideoBody>;

/** `POST /v1/edits`: Midjourney's editor (docs/upstreams.md §3). */
export const EditBody = z
  .strictObject({
    image: ImageRef,
    prompt: Prompt,
    mask: ImageDataUri.optional(),
    ...SUBMIT_OPTIONS,
  })
  .refine(...eventsNeedUrl);
export type EditBody = z.infer<typeof EditBody>;

/** `POST /v1/retexture`. */
export const RetextureBody = z
  .strictObject({
    image: ImageRef,
    prompt: Prompt,
    ...SUBMIT_OPTIONS,
  })
  .refine(...eventsNeedUrl);
export type RetextureBody = z.infer<typeof RetextureBody>;

/** `POST /v1/uploads`: one image, kept as our own copy (docs/images.md "Uploads"). */
export const UploadBody = z.strictObject({ image: ImageDataUri });
export type UploadBody = z.infer<typeof UploadBody>;

/** `201` of `POST /v1/uploads`. */
export const UploadResponse = z.object({
  url: z.url(),
  expiresAt: z.iso.datetime(),
});

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export const TaskId = z.string().regex(ULID, { message: "not a task id" });

/**
 * `Last-Event-ID` of `GET /v1/tasks/{id}/events` (the header, or `?lastEventId=` where a client
 * cannot set headers): the number of the last recorded state the client has seen.
 */
export const LastEventId = z
  .string()
  .regex(/^\d{1,6}$/, { message: "must be an event id this stream sent (a whole number)" })
  .transform(Number);

/** Cursors are opaque to clients: base64url of `{"v":1,"after":"<task id>"}`. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after: lastId })).toString("base64url");
}

const CursorPayload = z.object({ v: z.literal(1), after: z.string().regex(ULID) });

const Cursor = z
  .string()
  .max(200)
  .transform((raw, ctx) => {
    try {
      return CursorPayload.parse(JSON.parse(Buffer.from(raw, "base64url").toString("utf8"))).after;
    } catch {
      ctx.addIssue({ code: "custom", message: "cursor is not one this API returned" });
      return z.NEVER;
    }
  });

/** `GET /v1/tasks?status=&action=&mode=&parentId=&limit=&cursor=`. */
export const ListQuery = z.object({
  status: TaskStatus.optional(),
  mode: TaskMode.optional(),
  action: TaskAction.optional(),
  parentId: TaskId.optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, { message: "limit must be a whole number from 1 to 100" })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, { message: "limit must be at least 1" })
        .max(100, { message: "limit must be at most 100" }),
    )
    .optional(),
  cursor: Cursor.optional(),
});

/** `POST /v1/admin/keys`: whose key, and a label for people. */
export const CreateKeyBody = z.strictObject({
  owner: OwnerName,
  name: KeyName.optional(),
});
export type CreateKeyBody = z.infer<typeof CreateKeyBody>;

/** A key as listed: never the key itself. */
export const ApiKeyInfo = ApiKeyView;
export type ApiKeyInfo = z.infer<typeof ApiKeyInfo>;

/** The answer of `POST /v1/admin/keys`: the only time the key is shown. */
export const CreatedKey = ApiKeyView.omit({ lastUsedAt: true }).extend({ key: z.string() });
export type CreatedKey = z.infer<typeof CreatedKey>;

/** `GET /v1/admin/keys`. */
export const ApiKeyList = z.object({ items: z.array(ApiKeyView) });
export type ApiKeyList = z.infer<typeof ApiKeyList>;

/** `GET /v1/admin/keys?owner=`: every owner's keys without it. */
export const KeyListQuery = z.strictObject({ owner: OwnerName.optional() });

/** A limit: a whole number of tasks or jobs, 0 or more; null removes it (no limit). */
const Limit = z
  .number({ message: "a limit is a whole number, 0 or more, or null for no limit" })
  .int({ message: "a limit is a whole number" })
  .min(0, { message: "a limit cannot be negative" })
  .max(1_000_000_000, { message: "a limit is at most 1000000000" })
  .nullable();

/** `PUT /v1/admin/owners/{owner}/limits`: a field left out keeps its limit. */
export const LimitsBody = z.strictObject({
  concurrent: Limit.optional().meta({ description: "tasks unfinished at once; null: no limit" }),
  perDay: Limit.optional().meta({ description: "jobs started per UTC day; null: no limit" }),
});
export type LimitsBody = z.infer<typeof LimitsBody>;

/** The owner's limits as set. */
export const OwnerLimits = z.strictObject({
  owner: z.string(),
  concurrent: z.number().int().nullable(),
  perDay: z.number().int().nullable(),
});

const UsageDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: "a date is YYYY-MM-DD" })
  .refine((d) => !Number.isNaN(Date.parse(d)) && new Date(d).toISOString().startsWith(d), {
    message: "not a calendar date",
  });

/** `GET /v1/usage`: a UTC date range, both ends included (default: the last 30 days). */
export const UsageQuery = z.strictObject({
  from: UsageDate.optional(),
  to: UsageDate.optional(),
});

/** `GET /v1/admin/usage`: the same, for one owner. */
export const AdminUsageQuery = UsageQuery.extend({ owner: OwnerName });

const Counters = z.object({
  jobs: z.record(z.string(), z.number().int()).meta({ description: "jobs created, by action" }),
  modes: z
    .record(z.string(), z.number().int())
    .meta({ description: "jobs created, by mode (jobs without a mode are not listed)" }),
  failed: z.number().int().meta({ description: "tasks that ended in FAILURE" }),
});

/** `GET /v1/usage`: days with jobs, oldest first, and the totals over the range. */
export const UsageAnswer = z.strictObject({
  days: z.array(Counters.extend({ date: z.string() })),
  totals: Counters,
});

import * as z from "zod";

/** Ids arrive as strings or (in some gateways' docs) bare numbers: always keep them as strings. */
const Id = z.union([z.string(), z.number()]).transform((v) => String(v));

const optionalString = z
  .string()
  .nullish()
  .transform((v) => (v === "" || v == null ? null : v));

/** "57%", "100%", "", null, 57 → a number 0..100, or null when the upstream says nothing. */
export const Progress = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => {
    if (v == null || v === "") return null;
    const n =
      typeof v === "number" ? v : Number(/^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(v)?.[1] ?? Number.NaN);
    return Number.isFinite(n) ? Math.max(0, Math.min(100, Math.trunc(n))) : null;
  });

/**
 * A button's `style` / `type`: Discord's small integers. Any other number (2.5, 1e300) would not
 * fit the stored task, so it becomes the usual 2 rather than failing the task's every read.
 */
const ButtonCode = z
  .number()
  .nullish()
  .transform((v) => (v != null && Number.isSafeInteger(v) ? v : 2));

export const UpstreamButton = z.object({
  customId: z.string(),
  label: z
    .string()
    .nullish()
    .transform((v) => v ?? ""),
  emoji: z
    .string()
    .nullish()
    .transform((v) => v ?? ""),
  style: ButtonCode,
  type: ButtonCode,
});

const UrlEntry = z.union([z.string(), z.object({ url: z.string() }).loose()]);

/**
 * TA sends imageUrls as `{url, thumbnail}[]`; others send strings or nothing. An entry that is
 * neither (a null) is dropped on its own: it never costs the rest of the update.
 */
const UrlList = z
  .array(z.unknown())
  .nullish()
  .transform((v) =>
    (v ?? []).flatMap((entry) => {
      const parsed = UrlEntry.safeParse(entry);
      if (!parsed.success) return [];
      const url = typeof parsed.data === "string" ? parsed.data : parsed.data.url;
      return url === "" ? [] : [url];
    }),
  );

/** The earliest and latest `finishTime` taken as a time; anything else means "not known". */
const EARLIEST_FINISH = Date.UTC(2020, 0, 1);
const LATEST_FINISH = Date.UTC(2100, 0, 1);

/**
 * `finishTime` in epoch milliseconds (a number, or its digits as a string). A value outside
 * 2020–2100 (0, 1e20, seconds instead of milliseconds) is not a time we can show: null, so the
 * receiver's own clock is used instead.
 */
const FinishTime = z
  .union([z.number(), z.string()])
  .nullish()
  .transform((v) => {
    const n = typeof v === "string" && /^\d{1,16}$/.test(v) ? Number(v) : v;
    return typeof n === "number" && n >= EARLIEST_FINISH && n <= LATEST_FINISH ? n : null;
  });

/**
 * The upstream task (fetch, list-by-condition and webhook bodies), parsed permissively:
 * unknown fields ignored, ids as strings, progress as a number, buttons null or missing.
 */
export const UpstreamTask = z
  .object({
    id: Id,
    action: optionalString,
    status: z.string(),
    progress: Progress,
    prompt: optionalString,
    state: optionalString,
    imageUrl: optionalString,
    imageUrls: UrlList,
    videoUrl: optionalString,
    /** trueai's video batch (`{url, thumbnail}[]`), new-api's copy of it */
    videoUrls: UrlList,
    failReason: optionalString,
    finishTime: FinishTime,
    buttons: z
      .array(z.unknown())
      .nullish()
      .transform((v) =>
        (v ?? []).flatMap((b) => {
          const parsed = UpstreamButton.safeParse(b);
          return parsed.success ? [parsed.data] : [];
        }),
      ),
    properties: z
      .record(z.string(), z.unknown())
      .nullish()
      .transform((v) => v ?? {}),
  })
  .loose();
export type UpstreamTask = z.infer<typeof UpstreamTask>;

/** `{code, description, result, properties}` — `result` a string, a number, an array or null. */
export const SubmitResponse = z
  .object({
    code: z.coerce.number().int(),
    description: z
      .string()
      .nullish()
      .transform((v) => v ?? ""),
    result: z
      .union([z.string(), z.number(), z.array(z.unknown())])
      .nullish()
      .transform((v) => (v == null || Array.isArray(v) ? null : String(v) || null)),
    properties: z
      .record(z.string(), z.unknown())
      .nullish()
      .transform((v) => v ?? {}),
  })
  .loose();
export type SubmitResponse = z.infer<typeof SubmitResponse>;

/** TA's second error envelope: `{"success":false,"code":-1,"message":"..."}`. */
export const ErrorEnvelope = z
  .object({ success: z.literal(false), message: z.string().nullish() })
  .loose();

/** NA/CometAPI gateway errors: `{"description":"task_no_found ","type":"upstream_error","code":4}`. */
export const GatewayError = z
  .object({
    description: z.string(),
    type: z.string().optional(),
    code: z.coerce.number().optional(),
  })
  .loose();

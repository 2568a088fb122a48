import * as z from "../contract/z.ts";

/**
 * The upstream's wire shapes (the midjourney-proxy task API, docs/upstreams.md): its contract,
 * not ours, so parsed permissively.
 */

/** Ids arrive as strings or (in some gateways' docs) bare numbers: always keep them as strings. */
const Id = /* @__PURE__ */ z.onDemand(() =>
  z.pipe(
    z.union([z.string(), z.number()]),
    z.transform((v) => String(v)),
  ),
);

const optionalString = /* @__PURE__ */ z.onDemand(() =>
  z.pipe(
    z.nullish(z.string()),
    z.transform((v) => (v === "" || v == null ? null : v)),
  ),
);

/** A string that may be null or missing: "" then. */
const textOrEmpty = /* @__PURE__ */ z.onDemand(() =>
  z.pipe(
    z.nullish(z.string()),
    z.transform((v) => v ?? ""),
  ),
);

/** An object that may be null or missing: {} then. */
const properties = /* @__PURE__ */ z.onDemand(() =>
  z.pipe(
    z.nullish(z.record(z.string(), z.unknown())),
    z.transform((v) => v ?? {}),
  ),
);

/** "57%", "100%", "", null, 57 → a number 0..100, or null when the upstream says nothing. */
export const Progress = /* @__PURE__ */ z.onDemand(() =>
  z.pipe(
    z.nullish(z.union([z.string(), z.number()])),
    z.transform((v) => {
      if (v == null || v === "") return null;
      const n =
        typeof v === "number"
          ? v
          : Number(/^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(v)?.[1] ?? Number.NaN);
      return Number.isFinite(n) ? Math.max(0, Math.min(100, Math.trunc(n))) : null;
    }),
  ),
);

/**
 * A button's `style` / `type`: Discord's small integers. Any other number (2.5, 1e300) would not
 * fit the stored task, so it becomes the usual 2 rather than failing the task's every read.
 */
const ButtonCode = /* @__PURE__ */ z.onDemand(() =>
  z.pipe(
    z.nullish(z.number()),
    z.transform((v) => (v != null && Number.isSafeInteger(v) ? v : 2)),
  ),
);

export const UpstreamButton = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    customId: z.string(),
    label: z.built(textOrEmpty),
    emoji: z.built(textOrEmpty),
    style: z.built(ButtonCode),
    type: z.built(ButtonCode),
  }),
);

const UrlEntry = /* @__PURE__ */ z.onDemand(() =>
  z.union([z.string(), z.looseObject({ url: z.string() })]),
);

/**
 * TA sends imageUrls as `{url, thumbnail}[]`; others send strings or nothing. An entry that is
 * neither (a null) is dropped on its own: it never costs the rest of the update.
 */
const UrlList = /* @__PURE__ */ z.onDemand(() =>
  z.pipe(
    z.nullish(z.array(z.unknown())),
    z.transform((v) =>
      (v ?? []).flatMap((entry) => {
        const parsed = z.built(UrlEntry).safeParse(entry);
        if (!parsed.success) return [];
        const url = typeof parsed.data === "string" ? parsed.data : parsed.data.url;
        return url === "" ? [] : [url];
      }),
    ),
  ),
);

/** The earliest and latest `finishTime` taken as a time; anything else means "not known". */
const EARLIEST_FINISH = Date.UTC(2020, 0, 1);
const LATEST_FINISH = Date.UTC(2100, 0, 1);

/**
 * `finishTime` in epoch milliseconds (a number, or its digits as a string). A value outside
 * 2020–2100 (0, 1e20, seconds instead of milliseconds) is not a time we can show: null, so the
 * receiver's own clock is used instead.
 */
const FinishTime = /* @__PURE__ */ z.onDemand(() =>
  z.pipe(
    z.nullish(z.union([z.number(), z.string()])),
    z.transform((v) => {
      const n = typeof v === "string" && /^\d{1,16}$/.test(v) ? Number(v) : v;
      return typeof n === "number" && n >= EARLIEST_FINISH && n <= LATEST_FINISH ? n : null;
    }),
  ),
);

/**
 * The upstream task (fetch, list-by-condition and webhook bodies), parsed permissively:
 * unknown fields ignored, ids as strings, progress as a number, buttons null or missing.
 */
export const UpstreamTask = /* @__PURE__ */ z.onDemand(() =>
  z.looseObject({
    id: z.built(Id),
    action: z.built(optionalString),
    status: z.string(),
    progress: z.built(Progress),
    prompt: z.built(optionalString),
    state: z.built(optionalString),
    imageUrl: z.built(optionalString),
    imageUrls: z.built(UrlList),
    videoUrl: z.built(optionalString),
    /** trueai's video batch (`{url, thumbnail}[]`), new-api's copy of it */
    videoUrls: z.built(UrlList),
    failReason: z.built(optionalString),
    finishTime: z.built(FinishTime),
    buttons: z.pipe(
      z.nullish(z.array(z.unknown())),
      z.transform((v) =>
        (v ?? []).flatMap((b) => {
          const parsed = z.built(UpstreamButton).safeParse(b);
          return parsed.success ? [parsed.data] : [];
        }),
      ),
    ),
    properties: z.built(properties),
  }),
);
export type UpstreamTask = z.infer<typeof UpstreamTask>;

/** `{code, description, result, properties}` — `result` a string, a number, an array or null. */
export const SubmitResponse = /* @__PURE__ */ z.onDemand(() =>
  z.looseObject({
    code: z.coerce.number().check(z.int()),
    description: z.built(textOrEmpty),
    result: z.pipe(
      z.nullish(z.union([z.string(), z.number(), z.array(z.unknown())])),
      z.transform((v) => (v == null || Array.isArray(v) ? null : String(v) || null)),
    ),
    properties: z.built(properties),
  }),
);
export type SubmitResponse = z.infer<typeof SubmitResponse>;

/** TA's second error envelope: `{"success":false,"code":-1,"message":"..."}`. */
export const ErrorEnvelope = /* @__PURE__ */ z.onDemand(() =>
  z.looseObject({
    success: z.literal(false),
    message: z.nullish(z.string()),
  }),
);

/** NA/CometAPI gateway errors: `{"description":"task_no_found ","type":"upstream_error","code":4}`. */
export const GatewayError = /* @__PURE__ */ z.onDemand(() =>
  z.looseObject({
    description: z.string(),
    type: z.optional(z.string()),
    code: z.optional(z.coerce.number()),
  }),
);

import * as v from "valibot";

/**
 * functions/upstream/schemas.ts's UpstreamTask written with valibot (same fields, same permissive
 * transforms as bench/variants/upstream-task-mini.ts), to price the lightest validation library
 * measured next to zod/mini in the cold-start figure. Bench only.
 */
const Id = v.pipe(
  v.union([v.string(), v.number()]),
  v.transform((x) => String(x)),
);

const optionalString = v.pipe(
  v.nullish(v.string()),
  v.transform((x) => (x === "" || x == null ? null : x)),
);

const Progress = v.pipe(
  v.nullish(v.union([v.string(), v.number()])),
  v.transform((x) => {
    if (x == null || x === "") return null;
    const n =
      typeof x === "number" ? x : Number(/^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(x)?.[1] ?? Number.NaN);
    return Number.isFinite(n) ? Math.max(0, Math.min(100, Math.trunc(n))) : null;
  }),
);

const orEmpty = v.pipe(
  v.nullish(v.string()),
  v.transform((x) => x ?? ""),
);
const orTwo = v.pipe(
  v.nullish(v.number()),
  v.transform((x) => x ?? 2),
);

const UpstreamButton = v.object({
  customId: v.string(),
  label: orEmpty,
  emoji: orEmpty,
  style: orTwo,
  type: orTwo,
});

const UrlList = v.pipe(
  v.nullish(v.array(v.union([v.string(), v.looseObject({ url: v.string() })]))),
  v.transform((x) =>
    (x ?? []).map((u) => (typeof u === "string" ? u : u.url)).filter((u) => u !== ""),
  ),
);

export const UpstreamTaskValibot = v.looseObject({
  id: Id,
  action: optionalString,
  status: v.string(),
  progress: Progress,
  prompt: optionalString,
  state: optionalString,
  imageUrl: optionalString,
  imageUrls: UrlList,
  videoUrl: optionalString,
  failReason: optionalString,
  finishTime: v.pipe(
    v.nullish(v.number()),
    v.transform((x) => (x ? x : null)),
  ),
  buttons: v.pipe(
    v.nullish(v.array(v.unknown())),
    v.transform((x) =>
      (x ?? []).flatMap((b) => {
        const parsed = v.safeParse(UpstreamButton, b);
        return parsed.success ? [parsed.output] : [];
      }),
    ),
  ),
  properties: v.pipe(
    v.nullish(v.record(v.string(), v.unknown())),
    v.transform((x) => x ?? {}),
  ),
});

import * as z from "zod/mini";

/**
 * functions/upstream/schemas.ts's UpstreamTask written with `zod/mini` (same fields, same
 * permissive transforms), to price in the cold-start figure what moving the schemas to zod/mini
 * would change. Bench only; the production schema is functions/upstream/schemas.ts.
 */
const Id = z.pipe(
  z.union([z.string(), z.number()]),
  z.transform((v) => String(v)),
);

const optionalString = z.pipe(
  z.nullish(z.string()),
  z.transform((v) => (v === "" || v == null ? null : v)),
);

const Progress = z.pipe(
  z.nullish(z.union([z.string(), z.number()])),
  z.transform((v) => {
    if (v == null || v === "") return null;
    const n =
      typeof v === "number" ? v : Number(/^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(v)?.[1] ?? Number.NaN);
    return Number.isFinite(n) ? Math.max(0, Math.min(100, Math.trunc(n))) : null;
  }),
);

const orEmpty = z.pipe(
  z.nullish(z.string()),
  z.transform((v) => v ?? ""),
);
const orTwo = z.pipe(
  z.nullish(z.number()),
  z.transform((v) => v ?? 2),
);

const UpstreamButton = z.object({
  customId: z.string(),
  label: orEmpty,
  emoji: orEmpty,
  style: orTwo,
  type: orTwo,
});

const UrlList = z.pipe(
  z.nullish(z.array(z.union([z.string(), z.looseObject({ url: z.string() })]))),
  z.transform((v) =>
    (v ?? []).map((u) => (typeof u === "string" ? u : u.url)).filter((u) => u !== ""),
  ),
);

export const UpstreamTaskMini = z.looseObject({
  id: Id,
  action: optionalString,
  status: z.string(),
  progress: Progress,
  prompt: optionalString,
  state: optionalString,
  imageUrl: optionalString,
  imageUrls: UrlList,
  videoUrl: optionalString,
  failReason: optionalString,
  finishTime: z.pipe(
    z.nullish(z.number()),
    z.transform((v) => (v ? v : null)),
  ),
  buttons: z.pipe(
    z.nullish(z.array(z.unknown())),
    z.transform((v) =>
      (v ?? []).flatMap((b) => {
        const parsed = UpstreamButton.safeParse(b);
        return parsed.success ? [parsed.data] : [];
      }),
    ),
  ),
  properties: z.pipe(
    z.nullish(z.record(z.string(), z.unknown())),
    z.transform((v) => v ?? {}),
  ),
});

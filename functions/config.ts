import * as z from "zod";

/** One line that names the setting, so a bad deploy or `npm start` fails with something useful. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const url = z.url({ protocol: /^https?$/ });

const positiveInt = z.coerce.number().int().positive();

/** `owner:key,owner:key` → [{ owner, key }]. Owners and keys are non-empty, keys unique. */
const ApiKeys = z.string().transform((raw, ctx) => {
  const pairs: { owner: string; key: string }[] = [];
  for (const part of raw.split(",")) {
    const entry = part.trim();
    if (entry === "") continue;
    const i = entry.indexOf(":");
    const owner = i > 0 ? entry.slice(0, i).trim() : "";
    const key = i > 0 ? entry.slice(i + 1).trim() : "";
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(owner) || key.length < 8) {
      ctx.addIssue({
        code: "custom",
        message: "expected comma-separated owner:key pairs (owner [A-Za-z0-9_.-], key ≥ 8 chars)",
      });
      return z.NEVER;
    }
    pairs.push({ owner, key });
  }
  if (pairs.length === 0) {
    ctx.addIssue({ code: "custom", message: "at least one owner:key pair is required" });
    return z.NEVER;
  }
  if (new Set(pairs.map((p) => p.key)).size !== pairs.length) {
    ctx.addIssue({ code: "custom", message: "the same key is given twice" });
    return z.NEVER;
  }
  return pairs;
});

/** Every setting the functions know, under the names of shared/API.md. */
export const Config = z.object({
  TABLE_NAME: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/),
  DYNAMODB_ENDPOINT: url.optional(),
  MJ_API_BASE_URL: url,
  MJ_API_KEY: z.string().min(1),
  PUBLIC_URL: url,
  CALLBACK_SECRET: z.string().min(16),
  API_KEYS: ApiKeys,
  RECONCILE_INTERVAL_SECONDS: positiveInt.default(60),
  /** Unfinished tasks older than this are failed by the reconciler. */
  TASK_DEADLINE_SECONDS: positiveInt.default(3600),
  UPSTREAM_TIMEOUT_MS: positiveInt.default(10_000),
});
export type Config = z.infer<typeof Config>;

export type ConfigKey = keyof typeof Config.shape;

/**
 * Parses only the keys a function needs, so that (for example) the read function never needs,
 * or sees, the upstream key. Empty strings count as missing.
 */
export function loadConfig<K extends ConfigKey>(
  source: Record<string, string | undefined>,
  keys: readonly K[],
): Pick<Config, K> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const raw = source[key] === "" ? undefined : source[key];
    const result = Config.shape[key].safeParse(raw);
    if (!result.success) {
      const message = result.error.issues[0]?.message ?? "invalid";
      throw new ConfigError(
        raw === undefined
          ? `paperboat: setting ${key} is missing`
          : `paperboat: setting ${key} is malformed: ${message}`,
      );
    }
    out[key] = result.data;
  }
  return out as unknown as Pick<Config, K>;
}

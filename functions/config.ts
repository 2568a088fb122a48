import * as z from "./contract/z.ts";
import { LOG_FORMATS, LOG_LEVELS } from "./log.ts";
import {
  UPSTREAM_AUTH_STYLES,
  UPSTREAM_KINDS,
  type UpstreamAuth,
  type UpstreamKind,
} from "./upstream/client.ts";

/** One line that names the setting, so a bad deploy or `npm start` fails with something useful. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

let httpUrl: z.ZodMiniURL | undefined;
/** An http(s) URL; one schema, built when a setting first needs it. */
const url = () => {
  httpUrl ??= z.url({ protocol: /^https?$/ });
  return httpUrl;
};

const positiveInt = () => z.coerce.number().check(z.int(), z.positive());
const wholeNumber = (min: number, max: number) =>
  z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max));

/** `owner:key,owner:key` → [{ owner, key }]. Owners and keys are non-empty, keys unique. */
const apiKeys = () =>
  z.pipe(
    z.string(),
    z.transform((raw, ctx) => {
      const pairs: { owner: string; key: string }[] = [];
      for (const part of raw.split(",")) {
        const entry = part.trim();
        if (entry === "") continue;
        const i = entry.indexOf(":");
        const owner = i > 0 ? entry.slice(0, i).trim() : "";
        const key = i > 0 ? entry.slice(i + 1).trim() : "";
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(owner) || key.length < 8) {
          ctx.issues.push({
            code: "custom",
            input: raw,
            message:
              "expected comma-separated owner:key pairs (owner [A-Za-z0-9_.-], key ≥ 8 chars)",
          });
          return z.NEVER;
        }
        pairs.push({ owner, key });
      }
      if (pairs.length === 0) {
        ctx.issues.push({
          code: "custom",
          input: raw,
          message: "at least one owner:key pair is required",
        });
        return z.NEVER;
      }
      if (new Set(pairs.map((p) => p.key)).size !== pairs.length) {
        ctx.issues.push({
          code: "custom",
          input: raw,
          message: "the same key is given twice",
        });
        return z.NEVER;
      }
      return pairs;
    }),
  );

/** `a,b,c` → its trimmed parts; empty parts are an error (a stray comma shifts every position). */
function listOf<T extends z.ZodMiniType<string>>(item: T, what: string) {
  return z.string().check(
    z.superRefine((raw, ctx) => {
      const parts = raw.split(",").map((part) => part.trim());
      if (parts.some((part) => part === "")) {
        ctx.addIssue({ code: "custom", message: `expected comma-separated ${what}, none empty` });
        return;
      }
      for (const part of parts) {
        const parsed = item.safeParse(part);
        if (!parsed.success) {
          ctx.addIssue({
            code: "custom",
            message: `${JSON.stringify(part.slice(0, 40))}: ${parsed.error.issues[0]?.message ?? "invalid"}`,
          });
          return;
        }
      }
    }),
  );
}

/**
 * A setting that may be left unset, and its value then: known without building the schema,
 * so a cold start builds and runs zod only for the settings it is given (a given value is
 * parsed in full; `settingSchema` still builds the whole schema, default included).
 */
type Unset<S, V> = (() => S) & { readonly unset: V };

/** A setting with a default: `z._default(build(), value)`. */
/* @__NO_SIDE_EFFECTS__ */
function defaulted<S extends z.ZodMiniType, const V extends z.output<S>>(
  value: V,
  build: () => S,
): Unset<z.ZodMiniDefault<S>, V> {
  return Object.assign(() => z._default(build(), value as z.util.NoUndefined<z.output<S>>), {
    unset: value,
  });
}

/** A setting that may be absent: `z.optional(build())`. */
/* @__NO_SIDE_EFFECTS__ */
function optional<S extends z.ZodMiniType>(build: () => S): Unset<z.ZodMiniOptional<S>, undefined> {
  return Object.assign(() => z.optional(build()), { unset: undefined });
}

/*
 * Every setting the functions know, under the names of docs/configuration.md, one export each:
 * a function's entry loads the ones it reads (FUNCTION_SETTINGS, functions/compose/settings.ts),
 * so its bundle carries those settings' schemas and no other's, and each schema is built only
 * as its setting is read at cold start (the callback reads 4 of 37).
 */
export const TABLE_NAME = () => z.string().check(z.regex(/^[A-Za-z0-9_.-]{3,255}$/));
export const DYNAMODB_ENDPOINT = optional(url);
/**
 * The upstreams, comma-separated (docs/upstreams.md "Several upstreams"): a submit goes to
 * the first healthy one. Position n of MJ_API_KEY, MJ_API_AUTH and MJ_API_KIND belongs to
 * upstream n; a single value serves all (upstreamSettingsOf checks the counts).
 */
export const MJ_API_BASE_URL = () => listOf(url(), "http(s) URLs");
export const MJ_API_KEY = () => listOf(z.string().check(z.minLength(1)), "keys");
/** How MJ_API_KEY is sent: `bearer` (CometAPI, new-api), `mj-api-secret` (novicezk), `authorization` (trueai). */
export const MJ_API_AUTH = defaulted("bearer", () =>
  listOf(z.enum(UPSTREAM_AUTH_STYLES), "auth styles"),
);
/** The host's protocol: `proxy` (CometAPI, new-api gateways, trueai) or `novicezk`. */
export const MJ_API_KIND = defaulted("proxy", () => listOf(z.enum(UPSTREAM_KINDS), "kinds"));
export const PUBLIC_URL = () => url();
export const CALLBACK_SECRET = () => z.string().check(z.minLength(16));
export const API_KEYS = apiKeys;
/** The operator's credential for `/v1/admin/*` (owners' keys in the table); never an owner's key. */
export const ADMIN_KEY = () =>
  z
    .string()
    .check(z.regex(/^\S{16,512}$/, { message: "expected 16 to 512 characters without spaces" }));
export const RECONCILE_INTERVAL_SECONDS = defaulted(60, positiveInt);
/** Unfinished tasks older than this are failed by the reconciler. */
export const TASK_DEADLINE_SECONDS = defaulted(3600, positiveInt);
/** Tasks left waiting in MODAL (no modal submitted) longer than this are cancelled. */
export const MODAL_DEADLINE_SECONDS = defaulted(86_400, positiveInt);
export const UPSTREAM_TIMEOUT_MS = defaulted(10_000, positiveInt);
/**
 * Every item of a task (the task, its webhook deliveries) is deleted by DynamoDB's TTL this
 * many days after the task was created; 0 keeps them. Set in each item's creating write.
 */
export const TASK_RETENTION_DAYS = defaulted(90, () => wholeNumber(0, 36_500));
/** Durable image copies (docs/images.md): the S3 bucket (AWS: the linked one). */
export const IMAGE_BUCKET = optional(() =>
  z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)),
);
/** An S3-compatible endpoint for IMAGE_BUCKET instead of AWS (tests). */
export const IMAGE_S3_ENDPOINT = optional(url);
/** …or a folder instead of a bucket (the local stack: DATA_DIR/images). */
export const IMAGE_DIR = optional(() => z.string().check(z.minLength(1)));
/** Signs the links to IMAGE_DIR's files (S3 presigned URLs need no secret of ours). */
export const IMAGE_URL_SECRET = optional(() => z.string().check(z.minLength(16)));
/** How long an image link stays valid, at most (S3 allows 7 days). */
export const IMAGE_URL_TTL_SECONDS = defaulted(3600, () => positiveInt().check(z.maximum(604_800)));
/** Larger source files are not copied. */
export const IMAGE_MAX_BYTES = defaulted(20_971_520 /* 20 MiB */, positiveInt);
/** One source download, redirects included, must finish within this. */
export const IMAGE_FETCH_TIMEOUT_MS = defaulted(15_000, positiveInt);
/** Copy attempts per task before it is given up (`imagesStatus` "failed"). */
export const IMAGE_COPY_MAX_ATTEMPTS = defaulted(6, () => positiveInt().check(z.maximum(50)));
/** Wait before the first retry of a failed copy; doubles per attempt, at most an hour. */
export const IMAGE_COPY_RETRY_SECONDS = defaulted(60, () => wholeNumber(0, 3600));
/** Let image sources be loopback or private addresses: the local stack only, never on AWS. */
export const ALLOW_PRIVATE_IMAGE_SOURCES = defaulted(false, () => z.stringbool());
/**
 * Outbound webhooks (docs/webhooks.md): the key every owner's `whsec_` signing
 * secret is derived from (so no secret is stored in the table).
 */
export const WEBHOOK_SECRET = () => z.string().check(z.minLength(16));
/** Let webhookUrl be http on loopback and resolve to private addresses: the local stack only. */
export const ALLOW_PRIVATE_WEBHOOK_URLS = defaulted(false, () => z.stringbool());
/** The EventBridge bus task events are published to (AWS: the linked one); unset: none. */
export const EVENT_BUS_NAME = optional(() => z.string().check(z.minLength(1), z.maxLength(256)));
/** An EventBridge-compatible endpoint instead of AWS (the local stack, tests). */
export const EVENT_BUS_ENDPOINT = optional(url);
/** Queue-fed submissions: the queue (for re-queueing a busy attempt) and its dead letters. */
export const IMAGINE_QUEUE_URL = optional(url);
export const IMAGINE_DLQ_URL = optional(url);
/** The young-polls queue (AWS): submit sends a new task's polls there, delayed; unset: none. */
export const YOUNG_POLLS_QUEUE_URL = optional(url);
/** An SQS-compatible endpoint instead of AWS (the local stack, tests). */
export const SQS_ENDPOINT = optional(url);
/** `GET /v1/tasks/{id}/events`: time between two reads of the task (one GetItem each). */
export const EVENTS_INTERVAL_MS = defaulted(1000, () => wholeNumber(100, 60_000));
/**
 * How long one task stream lasts before it ends and the client resumes with Last-Event-ID
 * (a Lambda runs 15 minutes at most); 0: one read per request (behind API Gateway).
 */
export const EVENTS_MAX_SECONDS = defaulted(840, () => wholeNumber(0, 3600));
/** Lines below this level are dropped (debug | info | warn | error); unset: info. */
export const LOG_LEVEL = optional(() => z.enum(LOG_LEVELS));
/** `npm start` only: json or human; unset: human on a terminal, json when piped. Lambda: json. */
export const LOG_FORMAT = optional(() => z.enum(LOG_FORMATS));

/** Every setting by name (tests, the local stack, {@link settingSchema}). */
const SETTINGS = {
  TABLE_NAME,
  DYNAMODB_ENDPOINT,
  MJ_API_BASE_URL,
  MJ_API_KEY,
  MJ_API_AUTH,
  MJ_API_KIND,
  PUBLIC_URL,
  CALLBACK_SECRET,
  API_KEYS,
  ADMIN_KEY,
  RECONCILE_INTERVAL_SECONDS,
  TASK_DEADLINE_SECONDS,
  MODAL_DEADLINE_SECONDS,
  UPSTREAM_TIMEOUT_MS,
  TASK_RETENTION_DAYS,
  IMAGE_BUCKET,
  IMAGE_S3_ENDPOINT,
  IMAGE_DIR,
  IMAGE_URL_SECRET,
  IMAGE_URL_TTL_SECONDS,
  IMAGE_MAX_BYTES,
  IMAGE_FETCH_TIMEOUT_MS,
  IMAGE_COPY_MAX_ATTEMPTS,
  IMAGE_COPY_RETRY_SECONDS,
  ALLOW_PRIVATE_IMAGE_SOURCES,
  WEBHOOK_SECRET,
  ALLOW_PRIVATE_WEBHOOK_URLS,
  EVENT_BUS_NAME,
  EVENT_BUS_ENDPOINT,
  IMAGINE_QUEUE_URL,
  IMAGINE_DLQ_URL,
  YOUNG_POLLS_QUEUE_URL,
  SQS_ENDPOINT,
  EVENTS_INTERVAL_MS,
  EVENTS_MAX_SECONDS,
  LOG_LEVEL,
  LOG_FORMAT,
};
type Settings = typeof SETTINGS;
type Setting<K extends keyof Settings> = z.output<ReturnType<Settings[K]>>;
/** The settings once parsed: a setting that may be unset is optional, as in a zod object. */
export type Config = {
  [K in keyof Settings as undefined extends Setting<K> ? never : K]: Setting<K>;
} & {
  [K in keyof Settings as undefined extends Setting<K> ? K : never]?: Setting<K>;
};

export type ConfigKey = keyof Settings;

/** One setting's schema, built anew (tests and checks; loadConfig builds its own). */
export function settingSchema<K extends ConfigKey>(key: K): ReturnType<Settings[K]> {
  return SETTINGS[key]() as ReturnType<Settings[K]>;
}

/** Settings by name, each with its schema factory: a function's list (functions/compose/settings.ts). */
export type SettingList = { [K in ConfigKey]?: Settings[K] };

/**
 * Parses only the settings a function reads, so that (for example) the read function never
 * needs, or sees, the upstream key. Empty strings count as missing.
 */
export function loadSettings<L extends SettingList>(
  source: Record<string, string | undefined>,
  settings: L,
): Pick<Config, keyof L & ConfigKey> {
  const out: Record<string, unknown> = {};
  for (const key in settings) {
    const raw = source[key] === "" ? undefined : source[key];
    const setting = settings[key] as (() => z.ZodMiniType) & { unset?: unknown };
    if (raw === undefined && "unset" in setting) {
      out[key] = setting.unset;
      continue;
    }
    const result = setting().safeParse(raw);
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
  return out as unknown as Pick<Config, keyof L & ConfigKey>;
}

/** {@link loadSettings} of the settings named by `keys` (tests, the local stack). */
export function loadConfig<K extends ConfigKey>(
  source: Record<string, string | undefined>,
  keys: readonly K[],
): Pick<Config, K> {
  const settings: SettingList = {};
  for (const key of keys) (settings as Record<string, unknown>)[key] = SETTINGS[key];
  return loadSettings(source, settings) as unknown as Pick<Config, K>;
}

/** One configured upstream (docs/upstreams.md "Several upstreams"). */
export interface UpstreamSettings {
  baseUrl: string;
  apiKey: string;
  auth: UpstreamAuth;
  kind: UpstreamKind;
}

/**
 * The upstreams MJ_API_BASE_URL lists, each with its key, auth style and kind: position n of
 * each list, or its single value for all. A list of another length fails, naming the setting.
 */
export function upstreamSettingsOf(config: {
  MJ_API_BASE_URL: string;
  MJ_API_KEY: string;
  MJ_API_AUTH?: string;
  MJ_API_KIND?: string;
}): UpstreamSettings[] {
  const split = (raw: string) => raw.split(",").map((part) => part.trim());
  const urls = split(config.MJ_API_BASE_URL);
  const column = (key: string, raw: string): string[] => {
    const values = split(raw);
    if (values.length === urls.length) return values;
    if (values.length === 1) return urls.map(() => values[0] as string);
    throw new ConfigError(
      `paperboat: setting ${key} is malformed: ${values.length} values for ${urls.length} upstreams (give one, or one per MJ_API_BASE_URL)`,
    );
  };
  const keys = column("MJ_API_KEY", config.MJ_API_KEY);
  const auths = column("MJ_API_AUTH", config.MJ_API_AUTH ?? "bearer");
  const kinds = column("MJ_API_KIND", config.MJ_API_KIND ?? "proxy");
  return urls.map((baseUrl, i) => ({
    baseUrl,
    apiKey: keys[i] as string,
    auth: auths[i] as UpstreamAuth,
    kind: kinds[i] as UpstreamKind,
  }));
}

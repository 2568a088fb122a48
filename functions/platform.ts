import { Resource } from "sst/resource";

/**
 * Which SST link carries which setting on AWS. infra/ names its components after this table
 * (`new sst.Secret(LINKS.MJ_API_KEY.resource)`), so a renamed link cannot go unnoticed.
 * Settings not listed here (UPSTREAM_TIMEOUT_MS, ...) are plain Lambda environment variables.
 */
export const LINKS = {
  TABLE_NAME: { resource: "Table", property: "name" },
  MJ_API_BASE_URL: { resource: "MjApiBaseUrl", property: "value" },
  MJ_API_KEY: { resource: "MjApiKey", property: "value" },
  MJ_API_AUTH: { resource: "MjApiAuth", property: "value" },
  MJ_API_KIND: { resource: "MjApiKind", property: "value" },
  CALLBACK_SECRET: { resource: "CallbackSecret", property: "value" },
  API_KEYS: { resource: "ApiKeys", property: "value" },
  ADMIN_KEY: { resource: "AdminKey", property: "value" },
  PUBLIC_URL: { resource: "Api", property: "url" },
  IMAGE_BUCKET: { resource: "Images", property: "name" },
  WEBHOOK_SECRET: { resource: "WebhookSecret", property: "value" },
  EVENT_BUS_NAME: { resource: "Events", property: "name" },
  IMAGINE_QUEUE_URL: { resource: "ImagineQueue", property: "url" },
  IMAGINE_DLQ_URL: { resource: "ImagineDeadLetters", property: "url" },
  YOUNG_POLLS_QUEUE_URL: { resource: "YoungPolls", property: "url" },
} as const;

export type LinkedSetting = keyof typeof LINKS;

/** A function deployed without a link it needs, or with a link of the wrong shape. */
export class LinkError extends Error {
  override name = "LinkError";
}

/**
 * Where the Lambda entry points get their settings. Only functions/*.ts entry files call this.
 * Returns a plain record under the names of docs/configuration.md (MJ_API_KEY, TABLE_NAME, ...), which
 * functions/config.ts then validates.
 *
 * Locally (`npm start`, tests) that is the process environment. Under SST (a deployed function,
 * `sst dev`, `sst shell`; recognised by the `SST_RESOURCE_App` variable SST always sets) the
 * settings of {@link LINKS} come only from the function's links, never from a stray environment
 * variable. A linked setting whose link is absent is a getter that throws a {@link LinkError}
 * naming the link, so only a function that actually asks for it fails (at cold start).
 *
 * Why `sst/resource` rather than reading `SST_RESOURCE_<Name>` variables: a deployed function's
 * link values are not in its environment but in an encrypted `resource.enc` next to the bundle
 * (`SST_KEY`, `SST_KEY_FILE`); `sst/resource` decrypts it. It adds under 2 KB to a bundle, less
 * than `import { Resource } from "sst"`, which also pulls in the realtime and vector clients.
 */
export function readSettings(): Record<string, string | undefined> {
  const env = { ...process.env };
  if (env.SST_RESOURCE_App === undefined) return env;

  const linked = Resource as unknown as Record<string, unknown>;
  const where = env.AWS_LAMBDA_FUNCTION_NAME ?? "this function";
  const settings: Record<string, string | undefined> = env;
  for (const [setting, link] of Object.entries(LINKS)) {
    delete settings[setting];
    if (link.resource in linked) {
      settings[setting] = readLink(linked[link.resource], link, setting);
    } else {
      Object.defineProperty(settings, setting, {
        enumerable: false,
        get() {
          throw new LinkError(
            `paperboat: setting ${setting} needs the SST link "${link.resource}", which is not linked to ${where} (add it to the function's link list in infra/)`,
          );
        },
      });
    }
  }
  return settings;
}

function readLink(value: unknown, link: (typeof LINKS)[LinkedSetting], setting: string): string {
  const raw =
    typeof value === "object" && value !== null
      ? (value as Record<string, unknown>)[link.property]
      : undefined;
  if (typeof raw !== "string") {
    throw new LinkError(
      `paperboat: SST link "${link.resource}" has no string "${link.property}" for setting ${setting}`,
    );
  }
  return link.property === "url" ? raw.replace(/\/+$/, "") : raw;
}

import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import * as z from "zod";
import { ConfigError, loadConfig, upstreamSettingsOf } from "../functions/config.ts";
import { createLogger, type LogFormat } from "../functions/log.ts";
import { SIM_PROFILES } from "./simulator/index.ts";
import { startStack } from "./stack.ts";

/**
 * `npm start`: the whole stack offline. Reads the environment (this file is the local entry
 * point, like functions/*.ts on Lambda), keeps generated secrets in DATA_DIR, prints how to use it.
 */
const LocalSettings = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  DATA_DIR: z.string().min(1).default(".data"),
  SIMULATOR_STEP_MS: z.coerce.number().int().min(1).max(60_000).default(1500),
  /** which real host the built-in simulator behaves as (local/simulator/profiles.ts) */
  SIM_PROFILE: z.enum(SIM_PROFILES).default("cometapi"),
});

const Secrets = z.object({
  callbackSecret: z.string().min(16),
  apiKey: z.string().min(8),
  // added later: a secrets.json without it gets one, keeping the others
  imageUrlSecret: z.string().min(16).optional(),
  webhookSecret: z.string().min(16).optional(),
  adminKey: z.string().min(16).optional(),
});

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** Folders 0700, files 0600, all the way down (what an earlier version left open to others). */
function restrictToOwner(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) restrictToOwner(path);
    else if (entry.isFile()) chmodSync(path, 0o600);
  }
}

/** The one line a port clash gets: which port, and how to pick another. */
function portInUse(port: number): never {
  fail(`paperboat: port ${port} is in use: set PORT to a free one (PORT=${port + 1} npm start)`);
}

/** Is the port free on 127.0.0.1? Checked before DynamoDB Local starts, so a clash fails fast. */
function isPortFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const probe = createServer();
    probe.once("error", () => ok(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => ok(true)));
  });
}

const newAdminKey = () => `pba_${randomBytes(32).toString("base64url")}`;

function loadSecrets(dataDir: string): z.infer<typeof Secrets> {
  const file = join(dataDir, "secrets.json");
  if (existsSync(file)) {
    const parsed = Secrets.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (
      parsed.success &&
      parsed.data.imageUrlSecret &&
      parsed.data.webhookSecret &&
      parsed.data.adminKey
    ) {
      return parsed.data;
    }
    if (parsed.success) {
      const upgraded = {
        ...parsed.data,
        imageUrlSecret: parsed.data.imageUrlSecret ?? randomBytes(32).toString("base64url"),
        webhookSecret: parsed.data.webhookSecret ?? randomBytes(32).toString("base64url"),
        adminKey: parsed.data.adminKey ?? newAdminKey(),
      };
      writeFileSync(file, JSON.stringify(upgraded, null, 2), { mode: 0o600 });
      return upgraded;
    }
  }
  const secrets = {
    callbackSecret: randomBytes(32).toString("base64url"),
    apiKey: `pb_${randomBytes(24).toString("base64url")}`,
    imageUrlSecret: randomBytes(32).toString("base64url"),
    webhookSecret: randomBytes(32).toString("base64url"),
    adminKey: newAdminKey(),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

async function main() {
  const env = process.env;
  // The SDK warns that its 2027 releases need Node 22; this project pins a release that runs
  // on Node 20 (see docs/development.md), so the notice is noise in a developer's terminal.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const blank = (v: string | undefined) => (v === "" ? undefined : v);
  const local = LocalSettings.safeParse({
    PORT: blank(env.PORT),
    DATA_DIR: blank(env.DATA_DIR),
    SIMULATOR_STEP_MS: blank(env.SIMULATOR_STEP_MS),
    SIM_PROFILE: blank(env.SIM_PROFILE),
  });
  if (!local.success) {
    const issue = local.error.issues[0];
    fail(`paperboat: setting ${String(issue?.path[0])} is malformed: ${issue?.message}`);
  }
  const { PORT, DATA_DIR, SIMULATOR_STEP_MS, SIM_PROFILE } = local.data;
  if (!(await isPortFree(PORT))) portInUse(PORT);
  const dataDir = resolve(DATA_DIR);
  // DATA_DIR holds secrets, the database and the image copies: only this user reads it. The
  // umask covers what this process (and DynamoDB Local, its child) creates from now on.
  process.umask(0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  restrictToOwner(dataDir);
  const secrets = loadSecrets(dataDir);

  const withDefaults: Record<string, string | undefined> = {
    TABLE_NAME: "paperboat",
    RECONCILE_INTERVAL_SECONDS: "60",
    ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== "")),
    CALLBACK_SECRET: blank(env.CALLBACK_SECRET) ?? secrets.callbackSecret,
    API_KEYS: blank(env.API_KEYS) ?? `local:${secrets.apiKey}`,
    ADMIN_KEY: blank(env.ADMIN_KEY) ?? secrets.adminKey,
    // durable image copies: on disk with the rest of DATA_DIR unless a bucket is named
    IMAGE_DIR:
      blank(env.IMAGE_DIR) ?? (blank(env.IMAGE_BUCKET) ? undefined : join(dataDir, "images")),
    IMAGE_URL_SECRET: blank(env.IMAGE_URL_SECRET) ?? secrets.imageUrlSecret,
    // the simulator serves its images on 127.0.0.1
    ALLOW_PRIVATE_IMAGE_SOURCES: blank(env.ALLOW_PRIVATE_IMAGE_SOURCES) ?? "true",
    WEBHOOK_SECRET: blank(env.WEBHOOK_SECRET) ?? secrets.webhookSecret,
    // receivers on your own machine (http://127.0.0.1:8080/hook) are fine locally
    ALLOW_PRIVATE_WEBHOOK_URLS: blank(env.ALLOW_PRIVATE_WEBHOOK_URLS) ?? "true",
    EVENT_BUS_NAME: blank(env.EVENT_BUS_NAME) ?? "paperboat",
  };
  let config: ReturnType<typeof loadLocalConfig>;
  let upstream: { baseUrl: string; apiKey: string; auth: string; kind: string } | undefined;
  try {
    config = loadLocalConfig(withDefaults);
    if (withDefaults.MJ_API_BASE_URL) {
      const u = loadConfig(withDefaults, [
        "MJ_API_BASE_URL",
        "MJ_API_KEY",
        "MJ_API_AUTH",
        "MJ_API_KIND",
      ]);
      // lists of different lengths stop here, with the one line naming the setting
      upstreamSettingsOf(u);
      upstream = {
        baseUrl: u.MJ_API_BASE_URL,
        apiKey: u.MJ_API_KEY,
        auth: u.MJ_API_AUTH,
        kind: u.MJ_API_KIND,
      };
    }
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }

  // a person at a terminal reads one line per task change; a pipe or a collector gets JSON
  const format: LogFormat = config.LOG_FORMAT ?? (process.stdout.isTTY ? "human" : "json");
  const log = createLogger({ base: { app: "paperboat-local" }, level: config.LOG_LEVEL, format });
  const stack = await startStack({
    port: PORT,
    tableName: config.TABLE_NAME,
    dynamodbEndpoint: config.DYNAMODB_ENDPOINT,
    dynamodbDataDir: join(dataDir, "dynamodb"),
    upstream,
    simulator: {
      profile: SIM_PROFILE,
      stepMs: SIMULATOR_STEP_MS,
      // its jobs outlive a restart, like a real upstream's: running tasks still finish
      dataDir: join(dataDir, "simulator"),
      log: (message: string, fields?: Record<string, unknown>) =>
        log.info(message, { component: "simulator", ...fields }),
    },
    publicUrl: blank(env.PUBLIC_URL),
    callbackSecret: config.CALLBACK_SECRET,
    apiKeys: config.API_KEYS,
    adminKey: config.ADMIN_KEY,
    reconcileIntervalSeconds: config.RECONCILE_INTERVAL_SECONDS,
    youngPollIntervalMs: 1000,
    taskDeadlineSeconds: config.TASK_DEADLINE_SECONDS,
    taskRetentionDays: config.TASK_RETENTION_DAYS,
    events: { intervalMs: config.EVENTS_INTERVAL_MS, maxSeconds: config.EVENTS_MAX_SECONDS },
    images: {
      dir: config.IMAGE_DIR,
      s3: config.IMAGE_BUCKET
        ? { bucket: config.IMAGE_BUCKET, endpoint: config.IMAGE_S3_ENDPOINT }
        : undefined,
      urlSecret: config.IMAGE_URL_SECRET,
      urlTtlSeconds: config.IMAGE_URL_TTL_SECONDS,
      allowPrivateSources: config.ALLOW_PRIVATE_IMAGE_SOURCES,
      maxBytes: config.IMAGE_MAX_BYTES,
      fetchTimeoutMs: config.IMAGE_FETCH_TIMEOUT_MS,
      maxAttempts: config.IMAGE_COPY_MAX_ATTEMPTS,
      retrySeconds: config.IMAGE_COPY_RETRY_SECONDS,
      copyIntervalMs: 2000,
    },
    webhooks: {
      secret: config.WEBHOOK_SECRET,
      allowPrivate: config.ALLOW_PRIVATE_WEBHOOK_URLS,
      dispatchIntervalMs: 500,
      bus: { name: config.EVENT_BUS_NAME ?? "paperboat", endpoint: config.EVENT_BUS_ENDPOINT },
    },
    queue: {},
    log,
  });

  const key = config.API_KEYS[0]?.key ?? "";
  const shownKey = blank(env.API_KEYS) ? "<one of your API_KEYS>" : key;
  process.stdout.write(
    [
      "",
      `paperboat is running at ${stack.url}`,
      `  upstream:  ${stack.simulator ? `built-in simulator at ${stack.upstreamUrl}` : stack.upstreamUrl}`,
      `  dynamodb:  ${stack.dynamodbEndpoint} (table ${config.TABLE_NAME}, data in ${dataDir})`,
      `  API key:   ${shownKey}   (owner ${config.API_KEYS[0]?.owner})`,
      `  admin key: ${blank(env.ADMIN_KEY) ? "<your ADMIN_KEY>" : config.ADMIN_KEY}   (operator only: /v1/admin/*, \`paperboat admin keys\`)`,
      `  gallery:   ${stack.url}/   (open it in a browser, sign in with the API key)`,
      `  images:    ${stack.imageDir ?? `bucket ${config.IMAGE_BUCKET}`} (durable copies of results)`,
      `  events:    ${stack.eventBus ? `${stack.eventBus.endpoint}/_events` : config.EVENT_BUS_ENDPOINT} (the bus's stand-in; webhooks go to each task's webhookUrl)`,
      `  queue:     ${stack.queue?.url} (SQS stand-in, endpoint ${stack.queue?.endpoint}; dead letters: ${stack.queue?.deadLetterUrl})`,
      "",
      "Try it:",
      `  curl -s -X POST ${stack.url}/v1/imagine -H 'Authorization: Bearer ${shownKey}' -H 'Content-Type: application/json' -d '{"prompt":"a paper boat floating on calm water at sunrise"}'`,
      `  curl -s ${stack.url}/v1/tasks/<id> -H 'Authorization: Bearer ${shownKey}'`,
      `  PAPERBOAT_URL=${stack.url} PAPERBOAT_API_KEY='${shownKey}' npx paperboat imagine "a paper boat floating on calm water at sunrise" --wait --out images`,
      `  (API reference: ${stack.url}/docs)`,
      "",
      "Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

function loadLocalConfig(source: Record<string, string | undefined>) {
  return loadConfig(source, [
    "TABLE_NAME",
    "DYNAMODB_ENDPOINT",
    "CALLBACK_SECRET",
    "API_KEYS",
    "ADMIN_KEY",
    "RECONCILE_INTERVAL_SECONDS",
    "TASK_DEADLINE_SECONDS",
    "TASK_RETENTION_DAYS",
    "IMAGE_BUCKET",
    "IMAGE_S3_ENDPOINT",
    "IMAGE_DIR",
    "IMAGE_URL_SECRET",
    "IMAGE_URL_TTL_SECONDS",
    "IMAGE_MAX_BYTES",
    "IMAGE_FETCH_TIMEOUT_MS",
    "IMAGE_COPY_MAX_ATTEMPTS",
    "IMAGE_COPY_RETRY_SECONDS",
    "ALLOW_PRIVATE_IMAGE_SOURCES",
    "WEBHOOK_SECRET",
    "ALLOW_PRIVATE_WEBHOOK_URLS",
    "EVENT_BUS_NAME",
    "EVENT_BUS_ENDPOINT",
    "EVENTS_INTERVAL_MS",
    "EVENTS_MAX_SECONDS",
    "LOG_LEVEL",
    "LOG_FORMAT",
  ]);
}

main().catch((error: Error & { code?: string; port?: number }) => {
  if (error.code === "EADDRINUSE") portInUse(error.port ?? Number(process.env.PORT));
  fail(`paperboat: could not start: ${error.message}`);
});

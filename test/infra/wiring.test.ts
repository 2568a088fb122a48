import { existsSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { FUNCTION_SETTINGS } from "../../functions/compose/settings.ts";
import { type ConfigKey, settingSchema } from "../../functions/config.ts";
import { IMAGE_KEY_PREFIX, UPLOAD_KEY_PREFIX } from "../../functions/core/image-keys.ts";
import { LINKS } from "../../functions/platform.ts";
import {
  CALLBACK_PATH,
  DOCS_ASSET_DIR,
  DOCS_ASSET_FILES,
  FUNCTIONS,
  ROUTES,
} from "../../functions/routes.ts";
import { keys } from "../../functions/store/keys.ts";
import { DISPATCH_STREAM_FILTER, TABLE } from "../../functions/store/table.ts";
import { parseHandler } from "./sst-bundle.ts";
import {
  AppliedRef,
  evaluateSstConfig,
  OutputRef,
  ROOT,
  type SstEvaluation,
} from "./sst-stand-in.ts";

/**
 * sst.config.ts + infra/ evaluated against a recording stand-in of SST: what would be deployed
 * matches the contract's routes, the entry points, the store's table and each function's needs.
 */

let ci: SstEvaluation;
beforeAll(async () => {
  ci = await evaluateSstConfig("ci");
});

/** Which functions (by component name) each FUNCTION_SETTINGS entry is deployed as. */
const DEPLOYED_AS: Record<keyof typeof FUNCTION_SETTINGS, string[]> = {
  submit: ["Submit"],
  queue: ["ImagineQueueSubscriber"],
  callback: ["Callback"],
  read: ["Read"],
  docs: ["Docs"],
  webhooks: ["Webhooks"],
  admin: ["Admin"],
  dispatch: ["DispatchStream", "DispatcherHandler"],
  reconcile: ["ReconcilerHandler"],
  youngPolls: ["YoungPollsSubscriber"],
  stream: ["Stream"],
};
const ALL_FUNCTIONS = Object.values(DEPLOYED_AS).flat();
const DEPLOYED_PAIRS = Object.entries(DEPLOYED_AS).flatMap(([fn, names]) =>
  names.map((name) => [fn, name] as const),
);

const seconds = (duration: unknown): number => {
  const match = /^(\d+) (second|minute)s?$/.exec(String(duration));
  if (!match) throw new Error(`not a duration: ${String(duration)}`);
  return Number(match[1]) * (match[2] === "minute" ? 60 : 1);
};

async function exportsOf(source: string): Promise<string[]> {
  const result = await build({
    entryPoints: [join(ROOT, source)],
    bundle: false,
    write: false,
    metafile: true,
    format: "esm",
    outdir: "out",
    logLevel: "silent",
  });
  return Object.values(result.metafile.outputs).flatMap((o) => o.exports);
}

describe("the app", () => {
  it("is paperboat and keeps its state in AWS", () => {
    expect(ci.app).toMatchObject({ name: "paperboat", home: "aws" });
  });

  // every stage holds data unless its name marks it as throw-away
  it.each([
    ["prod", true],
    ["staging", true],
    ["alice", true],
    ["ci", false],
    ["pr-42", false],
    ["dev", false],
    ["dev-alice", false],
    ["test-load", false],
  ])("stage %s is protected with deletion protection on its data: %s", async (stage, holds) => {
    vi.resetModules();
    const ev = await evaluateSstConfig(stage);
    expect(ev.app).toMatchObject({ removal: holds ? "retain" : "remove", protect: holds });
    expect(ev.component("sst.aws.Dynamo", "Table").args).toMatchObject({
      deletionProtection: holds,
      transform: { table: { pointInTimeRecovery: { enabled: holds } } },
    });
    // a removal of a data stage never empties the image bucket
    expect(ev.component("sst.aws.Bucket", "Images").args).toMatchObject({
      transform: { bucket: { forceDestroy: !holds } },
    });
    expect(ev.fn("Submit").args.logging).toMatchObject({
      retention: holds ? "3 months" : "1 week",
    });
  });

  it("outputs the API URL, the callback URL to give the upstream, the table and image bucket names", () => {
    expect(ci.outputs).toEqual({
      api: new OutputRef("Api", "url"),
      callbackUrl: `\${Api.url}${CALLBACK_PATH}`,
      table: new OutputRef("Table", "name"),
      images: new OutputRef("Images", "name"),
      bus: new OutputRef("Events", "name"),
      imagineQueue: new OutputRef("ImagineQueue", "url"),
      events: new OutputRef("Stream", "url"),
    });
  });
});

describe("the HTTP API", () => {
  it("has every route of the contract, and only those plus a $default for JSON 404s", () => {
    const expected = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(ci.routes.map((r) => r.route).sort()).toEqual([...expected, "$default"].sort());
    expect(new Set(ci.routes.map((r) => r.api))).toEqual(new Set(["Api"]));
    expect(ci.routeTarget("$default")).toBe("Read");
  });

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r.fn] as const))(
    "%s runs the %s function's handler",
    (route, fn) => {
      const target = ci.fn(ci.routeTarget(route));
      const entry = FUNCTIONS[fn];
      expect(DEPLOYED_AS[fn]).toContain(target.name);
      expect(target.handler).toBe(`${entry.handlerFile.replace(/\.ts$/, "")}.${entry.export}`);
    },
  );

  it("is an API Gateway HTTP API with CORS off", () => {
    expect(ci.component("sst.aws.ApiGatewayV2", "Api").args).toMatchObject({ cors: false });
  });

  it("throttles every route of the stage: a steady rate and a larger burst", () => {
    const args = ci.component("sst.aws.ApiGatewayV2", "Api").args as {
      transform?: { stage?: { defaultRouteSettings?: Record<string, number> } };
    };
    const settings = args.transform?.stage?.defaultRouteSettings ?? {};
    expect(settings.throttlingRateLimit).toBeGreaterThan(0);
    expect(settings.throttlingBurstLimit).toBeGreaterThanOrEqual(
      settings.throttlingRateLimit ?? Number.POSITIVE_INFINITY,
    );
  });
});

describe("the functions", () => {
  it("are exactly the HTTP functions, the reconciler on a one-minute schedule, the dispatcher and the queue consumer", () => {
    expect(ci.functions.map((f) => f.name).sort()).toEqual([...ALL_FUNCTIONS].sort());
    const cron = ci.component("sst.aws.CronV2", "Reconciler").args;
    expect(cron).toMatchObject({ schedule: "rate(1 minute)", retries: 0 });
    expect(ci.fn("ReconcilerHandler").handler).toBe("functions/lambda/reconcile.handler");
  });

  it.each(ALL_FUNCTIONS)("%s points at a handler file that exists and exports it", async (name) => {
    const { source, exportName } = parseHandler(ci.fn(name).handler);
    expect(existsSync(join(ROOT, source))).toBe(true);
    expect(await exportsOf(source)).toContain(exportName);
  });

  it.each(DEPLOYED_PAIRS)("%s (%s) is linked to exactly what its settings need", (fn, name) => {
    const needs = Object.keys(FUNCTION_SETTINGS[fn as keyof typeof FUNCTION_SETTINGS]);
    const expected = Object.entries(LINKS)
      .filter(([setting]) => needs.includes(setting))
      .map(([, link]) => link.resource);
    const deployed = ci.fn(name);
    expect(deployed.links.sort()).toEqual(expected.sort());
    // plain environment variables: only settings the function reads, never a linked one
    for (const key of Object.keys(deployed.environment)) {
      expect(needs).toContain(key);
      expect(Object.keys(LINKS)).not.toContain(key);
      expect(settingSchema(key as ConfigKey).safeParse(deployed.environment[key]).success).toBe(
        true,
      );
    }
    // and every setting without a default reaches the function one way or the other
    for (const setting of needs) {
      if (setting === "DYNAMODB_ENDPOINT") continue; // local only: AWS needs no endpoint
      const given =
        setting in LINKS ||
        setting in deployed.environment ||
        settingSchema(setting as ConfigKey).safeParse(undefined).success;
      expect(given, `${name} gets ${setting}`).toBe(true);
    }
  });

  it.each(DEPLOYED_PAIRS)("%s (%s) is told its LOG_LEVEL, and reads it", (fn, name) => {
    expect(ci.fn(name).environment.LOG_LEVEL).toMatch(/^(debug|info|warn|error)$/);
    expect(Object.keys(FUNCTION_SETTINGS[fn as keyof typeof FUNCTION_SETTINGS])).toContain(
      "LOG_LEVEL",
    );
  });

  it("packages the Swagger UI files with the docs function, where its entry looks for them", () => {
    const copies = ci.fn("Docs").args.copyFiles as { from: string; to: string }[];
    expect(copies.map((c) => c.to).sort()).toEqual(
      DOCS_ASSET_FILES.map((file) => `${DOCS_ASSET_DIR}/${file}`).sort(),
    );
    for (const { from } of copies) expect(existsSync(join(ROOT, from)), from).toBe(true);
  });

  it("keeps the upstream key away from read and callback, and the callback secret from read", () => {
    expect(ci.fn("Read").links).not.toContain("MjApiKey");
    expect(ci.fn("Read").links).not.toContain("CallbackSecret");
    expect(ci.fn("Callback").links).not.toContain("MjApiKey");
  });

  it.each(ALL_FUNCTIONS)(
    "%s runs Node 20 on arm64 with JSON logs and an ESM, minified, node20 bundle",
    (name) => {
      expect(ci.fn(name).args).toMatchObject({
        runtime: "nodejs22.x",
        architecture: "arm64",
        memory: "512 MB",
        logging: { format: "json" },
        nodejs: { format: "esm", minify: true, esbuild: { target: "node20" } },
      });
    },
  );

  it("answers webhooks and reads fast, and leaves submit room for one upstream call", () => {
    expect(seconds(ci.fn("Callback").args.timeout)).toBeLessThanOrEqual(5);
    expect(seconds(ci.fn("Read").args.timeout)).toBeLessThanOrEqual(5);
    const submit = ci.fn("Submit");
    const upstreamSeconds = Number(submit.environment.UPSTREAM_TIMEOUT_MS) / 1000;
    // above the upstream budget plus two writes, below API Gateway's 30 s integration limit
    expect(seconds(submit.args.timeout)).toBeGreaterThanOrEqual(upstreamSeconds + 5);
    expect(seconds(submit.args.timeout)).toBeLessThan(30);
    // a reconciler run ends before the next one starts
    expect(seconds(ci.fn("ReconcilerHandler").args.timeout)).toBeLessThan(60);
  });
});

describe("task events (docs/webhooks.md)", () => {
  it("has a stream of new images that triggers the dispatcher only for dispatch work", () => {
    expect(ci.component("sst.aws.Dynamo", "Table").args.stream).toBe("new-image");
    const stream = ci.fn("DispatchStream");
    expect(stream.handler).toBe("functions/lambda/dispatch.stream");
    expect(stream.args.subscription).toEqual({ filters: [DISPATCH_STREAM_FILTER] });
    // the filter names the index attributes the store writes
    expect(DISPATCH_STREAM_FILTER.dynamodb.NewImage.gsi7pk.S).toEqual([keys.dispatch()]);
    expect(TABLE.globalIndexes.gsi7).toEqual({ hashKey: "gsi7pk", rangeKey: "gsi7sk" });
  });

  it("retries on a one-minute schedule, within the minute", () => {
    const cron = ci.component("sst.aws.CronV2", "Dispatcher").args;
    expect(cron).toMatchObject({ schedule: "rate(1 minute)", retries: 0 });
    expect(ci.fn("DispatcherHandler").handler).toBe("functions/lambda/dispatch.schedule");
    expect(seconds(ci.fn("DispatcherHandler").args.timeout)).toBeLessThan(60);
    // an attempt's 10 s timeout plus its writes fit the 15 s a run keeps in reserve
    expect(seconds(ci.fn("DispatchStream").args.timeout)).toBeGreaterThan(15);
  });

  it("sends to public addresses only on AWS, and keeps WEBHOOK_SECRET to two functions", () => {
    for (const fn of ci.functions) {
      expect(fn.environment.ALLOW_PRIVATE_WEBHOOK_URLS ?? "false", fn.name).toBe("false");
    }
    const holders = ci.functions
      .filter((f) => f.links.includes("WebhookSecret"))
      .map((f) => f.name);
    expect(holders.sort()).toEqual(["DispatchStream", "DispatcherHandler", "Webhooks"]);
  });

  it("keeps ADMIN_KEY to the admin function, which runs /v1/admin/* and nothing else", () => {
    const holders = ci.functions.filter((f) => f.links.includes("AdminKey")).map((f) => f.name);
    expect(holders).toEqual(["Admin"]);
    const adminRoutes = ROUTES.filter((r) => r.fn === "admin").map((r) => r.path);
    expect(adminRoutes.length).toBeGreaterThan(0);
    for (const path of adminRoutes) expect(path).toMatch(/^\/v1\/admin\//);
  });

  it("publishes to the Events bus", () => {
    expect(ci.component("sst.aws.Bus", "Events")).toBeDefined();
    expect(ci.fn("DispatcherHandler").links).toContain("Events");
  });
});

describe("the live task stream (docs/deploy.md)", () => {
  it("is a response-streaming function behind its own URL, which checks API keys itself", () => {
    const stream = ci.fn("Stream");
    expect(stream.handler).toBe("functions/lambda/stream.handler");
    expect(stream.args).toMatchObject({
      streaming: true,
      url: { authorization: "none", cors: false },
    });
    expect(stream.links).toContain("ApiKeys");
    // a stream ends itself before Lambda's limit; read answers the API Gateway route at once
    const lifetime = Number(stream.environment.EVENTS_MAX_SECONDS);
    expect(lifetime).toBeGreaterThan(0);
    expect(lifetime).toBeLessThan(seconds(stream.args.timeout));
    expect(seconds(stream.args.timeout)).toBeLessThanOrEqual(15 * 60);
    expect(ci.fn("Read").environment.EVENTS_MAX_SECONDS).toBe("0");
    expect(ROUTES).toContainEqual({ method: "GET", path: "/v1/tasks/{id}/events", fn: "read" });
  });
});

describe("the young-polls queue", () => {
  it("is consumed by the young-polls entry, fed by submit and the imagine queue's consumer", () => {
    expect(ci.fn("YoungPollsSubscriber").handler).toBe("functions/lambda/young-polls.handler");
    // the senders: each may send to it, and is linked to its URL
    for (const name of ["Submit", "ImagineQueueSubscriber"]) {
      const sends = grantsOf(name).filter((g) => g.actions.includes("sqs:SendMessage"));
      expect(sends.flatMap((g) => g.resources).map(String)).toContain(
        String(new OutputRef("YoungPolls", "arn")),
      );
      expect(ci.fn(name).links).toContain("YoungPolls");
    }
    // a lost poll is made up by the reconcile: no redrive, and messages outlive the 40 s delay
    const queue = ci.component("sst.aws.Queue", "YoungPolls").args as {
      dlq?: unknown;
      transform?: { queue?: { messageRetentionSeconds?: number } };
    };
    expect(queue.dlq).toBeUndefined();
    expect(queue.transform?.queue?.messageRetentionSeconds).toBeGreaterThan(40);
  });
});

describe("the imagine queue", () => {
  it("is consumed by the queue entry (submit's code) with partial batch responses, and has a DLQ", () => {
    const consumer = ci.fn("ImagineQueueSubscriber");
    expect(consumer.handler).toBe("functions/lambda/queue.handler");
    expect(consumer.args.subscription).toMatchObject({ batch: { partialResponses: true } });
    const queue = ci.component("sst.aws.Queue", "ImagineQueue").args as {
      visibilityTimeout: string;
      dlq: { queue: unknown; retry: number };
    };
    expect(queue.dlq.queue).toEqual(new OutputRef("ImagineDeadLetters", "arn"));
    expect(queue.dlq.retry).toBeGreaterThan(1);
    // no message is handed out again while its batch may still run
    expect(seconds(queue.visibilityTimeout)).toBeGreaterThanOrEqual(
      seconds(consumer.args.timeout) * 6,
    );
  });
});

describe("the table", () => {
  it("is the store's TABLE: keys, indexes and TTL attribute", () => {
    const table = ci.component("sst.aws.Dynamo", "Table").args;
    expect(table.fields).toEqual(TABLE.attributes);
    expect(table.primaryIndex).toEqual({ hashKey: TABLE.partitionKey, rangeKey: TABLE.sortKey });
    expect(table.globalIndexes).toEqual(TABLE.globalIndexes);
    expect(table.ttl).toBe(TABLE.ttlAttribute);
  });
});

describe("the secrets", () => {
  it("are the links functions/platform.ts reads, with a placeholder only for the base URL, the auth style (and the image retention)", () => {
    const secrets = ci.components.filter((c) => c.type === "sst.Secret");
    expect(Object.fromEntries(secrets.map((s) => [s.name, s.args.placeholder]))).toEqual({
      MjApiKey: undefined,
      MjApiBaseUrl: "https://api.cometapi.com",
      MjApiAuth: "bearer",
      MjApiKind: "proxy",
      CallbackSecret: undefined,
      ApiKeys: undefined,
      WebhookSecret: undefined,
      AdminKey: undefined,
      // a per-stage setting, not a secret: read by infra at deploy, linked to no function
      ImageRetentionDays: "365",
    });
    expect(ci.functions.filter((f) => f.links.includes("ImageRetentionDays"))).toEqual([]);
    expect(settingSchema("MJ_API_BASE_URL").safeParse("https://api.cometapi.com").success).toBe(
      true,
    );
    for (const link of Object.values(LINKS)) {
      expect(ci.components.map((c) => c.name)).toContain(link.resource);
    }
  });
});

describe("the image bucket (docs/images.md)", () => {
  const rulesFor = (days: string) => {
    const lifecycle = ci.component("sst.aws.Bucket", "Images").args
      .lifecycle as AppliedRef<unknown>;
    expect(lifecycle).toBeInstanceOf(AppliedRef);
    expect(lifecycle.source).toEqual(new OutputRef("ImageRetentionDays", "value"));
    return lifecycle.fn(days);
  };

  // the copies also expire with their task, after TASK_RETENTION_DAYS (90 unless set at deploy)
  const withTasks = { id: "expire-with-tasks", prefix: IMAGE_KEY_PREFIX, expiresIn: "90 days" };
  // owners' uploads (POST /v1/uploads) end with the owner's retention too
  const uploads = { id: "expire-uploads", prefix: UPLOAD_KEY_PREFIX, expiresIn: "90 days" };

  it("is private, with no CORS, and expires task images after ImageRetentionDays", () => {
    const bucket = ci.component("sst.aws.Bucket", "Images").args;
    expect(bucket.access).toBeUndefined();
    expect(bucket.cors).toBe(false);
    expect(rulesFor("365")).toEqual([
      { id: "expire-task-images", prefix: IMAGE_KEY_PREFIX, expiresIn: "365 days" },
      withTasks,
      uploads,
    ]);
    expect(rulesFor("1")).toEqual([
      { id: "expire-task-images", prefix: IMAGE_KEY_PREFIX, expiresIn: "1 day" },
      withTasks,
      uploads,
    ]);
    // 0: no rule of its own; the copies still go with their task
    expect(rulesFor("0")).toEqual([withTasks, uploads]);
  });

  it("expires a task's items and its copies alike: TASK_RETENTION_DAYS reaches every function that creates them", () => {
    for (const name of ["Submit", "ImagineQueueSubscriber", "DispatchStream", "Read"]) {
      const fn = ci.functions.find((f) => f.name.startsWith(name));
      expect(fn?.environment.TASK_RETENTION_DAYS, name).toBe("90");
    }
  });

  it.each(["", "thirty", "-5", "1.5", "99999999"])(
    "stops a deploy whose ImageRetentionDays is %j, naming it",
    (days) => {
      expect(() => rulesFor(days)).toThrow(/ImageRetentionDays must be a whole number of days/);
    },
  );

  it("is linked only to the reconciler (which copies), read and the stream (which sign links)", () => {
    const linked = ci.functions.filter((f) => f.links.includes("Images")).map((f) => f.name);
    expect(linked.sort()).toEqual(["Read", "ReconcilerHandler", "Stream"]);
  });

  it("is copied into by the reconciler only, with sharp installed for Lambda and no private sources", () => {
    const reconciler = ci.fn("ReconcilerHandler");
    expect(reconciler.args.nodejs).toMatchObject({ install: ["sharp"] });
    expect(reconciler.environment.ALLOW_PRIVATE_IMAGE_SOURCES).toBe("false");
    for (const fn of ci.functions) {
      expect(fn.environment.ALLOW_PRIVATE_IMAGE_SOURCES ?? "false", fn.name).toBe("false");
      if (fn !== reconciler) {
        expect((fn.args.nodejs as { install?: string[] }).install ?? [], fn.name).toEqual([]);
      }
    }
  });

  it.each(ALL_FUNCTIONS)("%s imports sharp only if it is the reconciler", async (name) => {
    const { source } = parseHandler(ci.fn(name).handler);
    const result = await build({
      entryPoints: [join(ROOT, source)],
      bundle: true,
      write: false,
      metafile: true,
      platform: "node",
      format: "esm",
      outdir: "out",
      external: ["sharp"],
      logLevel: "silent",
    });
    const importsSharp = Object.values(result.metafile.inputs).some((input) =>
      input.imports.some((i) => i.path === "sharp"),
    );
    expect(importsSharp).toBe(name === "ReconcilerHandler");
  });
});

/**
 * Least privilege: the AWS calls each function's code makes (the store methods it calls,
 * functions/store/*; the S3, EventBridge and SQS commands of functions/images, events, queue).
 * TransactWriteItems is authorised per item as PutItem/UpdateItem.
 */
const TASK_WRITER = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"];
const DISPATCHER = [
  "dynamodb:GetItem",
  "dynamodb:Query",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "events:PutEvents",
];
const GRANTED: Record<string, string[]> = {
  // create, get, advance, claimModal, the idempotency key; a new task's young polls
  Submit: [...TASK_WRITER, "sqs:SendMessage"],
  ImagineQueueSubscriber: [...TASK_WRITER, "sqs:SendMessage"],
  // apply: one conditional write, nothing read
  Callback: ["dynamodb:UpdateItem"],
  // get, list queries; presigned image links are GetObject signed by read's role; a table
  // key's lastUsedAt (submit and webhooks write already)
  // uploads: PutObject under uploads/ only (POST /v1/uploads), GetObject to serve them
  Read: [
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
    "s3:GetObject",
    "s3:PutObject",
  ],
  Docs: [],
  // delivery logs, retryNow, the secret versions and their rotation
  Webhooks: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"],
  // owners' API keys: create, list, revoke (revokedAt, then TTL)
  Admin: ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
  DispatchStream: DISPATCHER,
  DispatcherHandler: DISPATCHER,
  // listUnfinished / listImageCopiesDue, apply / advance / copy records, image uploads
  ReconcilerHandler: ["dynamodb:Query", "dynamodb:UpdateItem", "s3:PutObject"],
  // get (the task a young poll names), apply
  YoungPollsSubscriber: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
  // the task each read of a stream names; a table key's lastUsedAt; copies' links signed
  Stream: ["dynamodb:GetItem", "dynamodb:UpdateItem", "s3:GetObject"],
};

interface Grant {
  actions: string[];
  resources: unknown[];
}
const grantsOf = (name: string): Grant[] =>
  (ci.fn(name).args.permissions as Grant[] | undefined) ?? [];

describe("least privilege (IAM)", () => {
  it("covers every deployed function", () => {
    expect(Object.keys(GRANTED).sort()).toEqual([...ALL_FUNCTIONS].sort());
  });

  it.each(ALL_FUNCTIONS)("%s is granted exactly the calls its code makes", (name) => {
    const actions = grantsOf(name).flatMap((g) => g.actions);
    expect(new Set(actions).size, "no action granted twice").toBe(actions.length);
    expect(actions.sort()).toEqual([...(GRANTED[name] ?? ["?"])].sort());
  });

  it.each(ALL_FUNCTIONS)("%s has no wildcard, Scan, delete or table-level action", (name) => {
    for (const action of grantsOf(name).flatMap((g) => g.actions)) {
      expect(action).not.toContain("*");
      expect(action).not.toMatch(/Scan|Delete|Table|Batch|PartiQL|Export|Import|Backup/);
    }
  });

  it.each(ALL_FUNCTIONS)("%s holds them on its own resources only", (name) => {
    const arn = (component: string) => String(new OutputRef(component, "arn"));
    const indexes = `${arn("Table")}/index/*`;
    const allowed: Record<string, string[]> = {
      dynamodb: [arn("Table"), indexes],
      s3: [`${arn("Images")}/*`, `${arn("Images")}/${UPLOAD_KEY_PREFIX}*`],
      events: [arn("Events")],
      sqs: [arn("ImagineQueue"), arn("ImagineDeadLetters"), arn("YoungPolls")],
    };
    for (const grant of grantsOf(name)) {
      const services = new Set(grant.actions.map((a) => a.split(":")[0] ?? ""));
      expect(services.size, "one service per statement").toBe(1);
      const [service] = [...services];
      for (const resource of grant.resources) {
        expect(allowed[service ?? ""], `${name}: ${String(resource)}`).toContain(String(resource));
      }
      // only a Query reaches the indexes
      if (grant.resources.map(String).includes(indexes)) {
        expect(grant.actions).toEqual(["dynamodb:Query"]);
      }
    }
  });

  it("links carry values only: the table, bucket, bus and queues grant nothing by being linked", () => {
    const linked = new Set(ci.functions.flatMap((f) => f.links));
    const classes = new Set<string>();
    for (const name of linked) {
      const component = ci.components.find((c) => c.name === name);
      if (!component || component.type === "sst.Secret" || component.type.endsWith("ApiGatewayV2"))
        continue; // their built-in links hold a value and no permission
      const cls = component.type.replace("sst.aws.", "");
      classes.add(cls);
      const wrap = ci.linkWraps[cls];
      expect(wrap, `Linkable.wrap(sst.aws.${cls})`).toBeDefined();
      const definition = wrap?.(component.instance);
      expect(definition?.include ?? []).toEqual([]);
      // and still the properties functions/platform.ts reads
      for (const link of Object.values(LINKS).filter((l) => l.resource === name)) {
        const instance = component.instance as Record<string, unknown>;
        expect(definition?.properties[link.property]).toBe(instance[link.property]);
      }
    }
    expect([...classes].sort()).toEqual(["Bucket", "Bus", "Dynamo", "Queue"]);
  });

  it("keeps the Events bus's arn in its link, as SST's own link does", () => {
    const events = ci.component("sst.aws.Bus", "Events");
    expect(ci.linkWraps.Bus?.(events.instance).properties).toEqual({
      name: new OutputRef("Events", "name"),
      arn: new OutputRef("Events", "arn"),
    });
  });
});

describe("reserved concurrency", () => {
  it.each(ALL_FUNCTIONS)("%s has its own reserved concurrency", (name) => {
    const reserved = (ci.fn(name).args.concurrency as { reserved?: unknown } | undefined)?.reserved;
    expect(Number.isSafeInteger(reserved) && (reserved as number) > 0, name).toBe(true);
  });

  it("leaves the account's 100 unreserved executions of a default 1000 limit", () => {
    const total = ci.functions.reduce(
      (sum, f) => sum + Number((f.args.concurrency as { reserved: number }).reserved),
      0,
    );
    expect(total).toBeLessThanOrEqual(900);
  });

  it("runs one reconciler at a time", () => {
    expect(ci.fn("ReconcilerHandler").args.concurrency).toEqual({ reserved: 1 });
  });

  it("caps the queue's event source below the consumer's reservation (no throttled receives)", () => {
    const consumer = ci.fn("ImagineQueueSubscriber");
    const subscription = consumer.args.subscription as {
      transform?: { eventSourceMapping?: { scalingConfig?: { maximumConcurrency?: number } } };
    };
    const max = subscription.transform?.eventSourceMapping?.scalingConfig?.maximumConcurrency;
    expect(max).toBeGreaterThanOrEqual(2); // SQS's minimum
    expect(max).toBeLessThanOrEqual((consumer.args.concurrency as { reserved: number }).reserved);
  });
});

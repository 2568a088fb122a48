import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "../../functions/deps.ts";
import { type LocalEventBridge, startLocalEventBridge } from "../../local/aws/eventbridge.ts";
import { type LocalSqs, startLocalSqs } from "../../local/aws/sqs.ts";
import { ensureTable } from "../../local/dynamodb.ts";
import { type Simulator, startSimulator } from "../../local/simulator/index.ts";
import { api, dynamodbEndpoint, eventually, OWNERS, uniqueTableName } from "../helpers.ts";
import { type S3Server, startS3 } from "../s3.ts";
import { startHttpApi } from "./http-api.ts";
import { InitError, type LambdaHost, startLambda } from "./lambda-host.ts";
import { type Bundle, bundleLikeSst, type NodejsOptions } from "./sst-bundle.ts";
import { evaluateSstConfig, type RecordedFunction, type SstEvaluation } from "./sst-stand-in.ts";

/**
 * Every function bundled as SST bundles it for a deploy, each loaded in a fresh Node process
 * with only what Lambda and SST give it (its links in an encrypted resource.enc, its
 * environment), and driven through an API Gateway v2 stand-in, the upstream simulator and
 * DynamoDB Local: the deployed topology, offline. Wiring comes from evaluating sst.config.ts.
 */

const STAGE = "ci";
const MJ_API_KEY = `mj_${randomBytes(12).toString("hex")}`;
const CALLBACK_SECRET = randomBytes(32).toString("base64url");
const API_KEYS = `${OWNERS.alice.owner}:${OWNERS.alice.key},${OWNERS.bob.owner}:${OWNERS.bob.key}`;
const WEBHOOK_SECRET = randomBytes(32).toString("base64url");
const BUS_NAME = `paperboat-${STAGE}-events`;

let wiring: SstEvaluation;
let workDir: string;
let simulator: Simulator;
let gateway: Awaited<ReturnType<typeof startHttpApi>>;
let tableName: string;
/** the Images bucket, on an S3-compatible server: AWS itself is not reachable from here */
let s3: S3Server;
/** EventBridge and SQS: local stand-ins speaking their protocols, AWS being out of reach */
let eventBridge: LocalEventBridge;
let sqs: LocalSqs;
let queueUrl: string;
let deadLetterUrl: string;
const bundles = new Map<string, Bundle>();
const hosts = new Map<string, LambdaHost>();

const seconds = (duration: unknown) => Number(/^(\d+) second/.exec(String(duration))?.[1] ?? 3);

/** The properties SST would write for each linked component, with this run's values. */
function linkProperties(fn: RecordedFunction, omit: string[] = []) {
  const values: Record<string, Record<string, unknown>> = {};
  for (const name of fn.links.filter((n) => !omit.includes(n))) {
    const component = wiring.components.find((c) => c.name === name);
    if (component?.type === "sst.aws.Dynamo") {
      values[name] = { type: "sst.aws.Dynamo", name: tableName };
    } else if (component?.type === "sst.aws.Bucket") {
      values[name] = { type: "sst.aws.Bucket", name: s3.bucket };
    } else if (component?.type === "sst.aws.ApiGatewayV2") {
      values[name] = { type: "sst.aws.ApiGatewayV2", url: gateway.url };
    } else if (component?.type === "sst.aws.Bus") {
      values[name] = { type: "sst.aws.Bus", name: BUS_NAME, arn: `arn:aws:events:::${BUS_NAME}` };
    } else if (component?.type === "sst.aws.Queue") {
      const url = name === "ImagineQueue" ? queueUrl : deadLetterUrl;
      values[name] = { type: "sst.aws.Queue", url };
    } else if (component?.type === "sst.Secret") {
      const secrets: Record<string, string> = {
        MjApiKey: MJ_API_KEY,
        MjApiBaseUrl: simulator.url,
        MjApiAuth: "bearer",
        MjApiKind: "proxy",
        CallbackSecret: CALLBACK_SECRET,
        ApiKeys: API_KEYS,
        WebhookSecret: WEBHOOK_SECRET,
        AdminKey: "pba_bundle-smoke-admin-key",
      };
      const value = secrets[name];
      if (value === undefined) throw new Error(`no test value for secret ${name}`);
      values[name] = { type: "sst.sst.Secret", value };
    } else {
      throw new Error(`no test value for link ${name} (${component?.type})`);
    }
  }
  return values;
}

function launch(fn: RecordedFunction, omitLinks: string[] = [], bundle = bundles.get(fn.name)) {
  if (!bundle) throw new Error(`${fn.name} was not bundled`);
  return startLambda({
    name: `paperboat-${STAGE}-${fn.name}`,
    bundle,
    links: linkProperties(fn, omitLinks),
    environment: fn.environment,
    extraEnvironment: {
      DYNAMODB_ENDPOINT: dynamodbEndpoint(),
      IMAGE_S3_ENDPOINT: s3.endpoint,
      // the simulator serves its images on 127.0.0.1; on AWS this stays "false"
      ALLOW_PRIVATE_IMAGE_SOURCES: "true",
      // the test's webhook receiver is on 127.0.0.1 too
      ALLOW_PRIVATE_WEBHOOK_URLS: "true",
      EVENT_BUS_ENDPOINT: eventBridge.endpoint,
      SQS_ENDPOINT: sqs.endpoint,
    },
    app: { name: wiring.app.name, stage: STAGE },
    memoryMb: Number.parseInt(String(fn.args.memory), 10),
    timeoutSeconds: seconds(fn.args.timeout),
  });
}

function host(name: string): LambdaHost {
  const found = hosts.get(name);
  if (!found) throw new Error(`${name} is not running`);
  return found;
}

beforeAll(async () => {
  wiring = await evaluateSstConfig(STAGE);
  workDir = await mkdtemp(join(tmpdir(), "paperboat-bundles-"));
  for (const fn of wiring.functions) {
    const nodejs = (fn.args.nodejs ?? {}) as NodejsOptions;
    const copyFiles = (fn.args.copyFiles ?? []) as { from: string; to?: string }[];
    bundles.set(
      fn.name,
      await bundleLikeSst(fn.handler, nodejs, join(workDir, fn.name), copyFiles),
    );
  }

  tableName = uniqueTableName("bundles");
  await ensureTable(createDocumentClient({ endpoint: dynamodbEndpoint() }), tableName);
  simulator = await startSimulator({ apiKey: MJ_API_KEY, stepMs: 15, seed: 11 });
  s3 = await startS3(`paperboat-${STAGE}-images`);
  eventBridge = await startLocalEventBridge();
  sqs = await startLocalSqs();
  deadLetterUrl = sqs.createQueue(`paperboat-${STAGE}-imagine-dlq`);
  queueUrl = sqs.createQueue(`paperboat-${STAGE}-imagine`);
  gateway = await startHttpApi(
    wiring.routes.map((r) => ({
      route: r.route,
      invoke: (event) => host(wiring.routeTarget(r.route)).invoke(event),
    })),
  );
  for (const fn of wiring.functions) hosts.set(fn.name, await launch(fn));
}, 120_000);

afterAll(async () => {
  for (const h of hosts.values()) await h.stop();
  await gateway?.stop();
  await simulator?.stop();
  await s3?.stop();
  await eventBridge?.stop();
  await sqs?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("bundled functions behind the HTTP API", () => {
  it("answers /health from the read bundle", async () => {
    const response = await fetch(`${gateway.url}/health`);
    expect(response.status).toBe(200);
    // the one upstream (MjApiBaseUrl), by its id, never seen failing
    expect(await response.json()).toEqual({
      status: "ok",
      upstreams: [
        {
          id: expect.stringMatching(/^u-[0-9a-f]{10}$/),
          position: 1,
          state: "up",
          since: null,
          reason: null,
          retryAt: null,
        },
      ],
    });
  });

  it("takes an imagine to SUCCESS: submit → upstream → webhooks to the API's URL → callback → read", async () => {
    const alice = api(gateway, OWNERS.alice.key);
    const submitted = await alice.imagine({ prompt: "a paper boat on a bundled sea --v 6.1" });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ owner: "alice", status: "SUBMITTED" });
    const done = await eventually(
      () => alice.task(submitted.body.id),
      (r) => r.body?.status === "SUCCESS",
    );
    expect(done.body).toMatchObject({ status: "SUCCESS", progress: 100 });
    expect(simulator.stats().webhooksSent).toBeGreaterThan(0);
    // the bundled submit also starts a child task from a button
    const upscale = done.body.buttons.find((b: { label: string }) => b.label === "U1");
    const action = await alice.call("POST", `/v1/tasks/${submitted.body.id}/actions`, {
      customId: upscale.customId,
    });
    expect(action.status).toBe(202);
    expect(action.body).toMatchObject({ parentId: submitted.body.id, action: "UPSCALE" });
  });

  it("streams a task's states from the stream bundle, behind its function URL", async () => {
    const alice = api(gateway, OWNERS.alice.key);
    const submitted = await alice.imagine({ prompt: "a paper boat, streamed from a bundle" });
    const path = `/v1/tasks/${submitted.body.id}/events`;
    // a function URL's event (payload v2, route $default); the runner streams the answer
    const answer = (await host("Stream").invoke({
      version: "2.0",
      routeKey: "$default",
      rawPath: path,
      rawQueryString: "",
      headers: {
        host: "abc123.lambda-url.us-east-1.on.aws",
        authorization: `Bearer ${OWNERS.alice.key}`,
      },
      requestContext: {
        http: { method: "GET", path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7" },
        domainName: "abc123.lambda-url.us-east-1.on.aws",
        requestId: "r1",
        routeKey: "$default",
        stage: "$default",
        timeEpoch: Date.now(),
      },
      isBase64Encoded: false,
    })) as { metadata: { statusCode: number; headers: Record<string, string> }; body: string };
    expect(answer.metadata.statusCode).toBe(200);
    expect(answer.metadata.headers["content-type"]).toBe("text/event-stream");
    const ids = [...answer.body.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    expect(answer.body).toMatch(/"status":"SUCCESS"/);
  });

  it("answers a task's events from the read bundle too (API Gateway: one read, then the end)", async () => {
    const alice = api(gateway, OWNERS.alice.key);
    const submitted = await alice.imagine({
      prompt: "a paper boat, watched through the read bundle",
    });
    await eventually(
      () => alice.task(submitted.body.id),
      (r) => r.body?.status === "SUCCESS",
    );
    const events = await fetch(`${gateway.url}/v1/tasks/${submitted.body.id}/events`, {
      headers: { authorization: `Bearer ${OWNERS.alice.key}` },
    });
    expect(events.status).toBe(200);
    expect(events.headers.get("content-type")).toBe("text/event-stream");
    const body = await events.text();
    expect(body).toMatch(/^id: 1$/m);
    const last = [...body.matchAll(/^data: (.*)$/gm)].at(-1)?.[1] ?? "null";
    expect(JSON.parse(last)).toMatchObject({ id: submitted.body.id, status: "SUCCESS" });
  });

  it("lists only the caller's tasks, and refuses a request without a key", async () => {
    const bob = api(gateway, OWNERS.bob.key);
    const mine = await bob.imagine({ prompt: "bob's bundled boat" });
    const list = await bob.list("?limit=5");
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: { id: string }) => t.id)).toEqual([mine.body.id]);
    const anonymous = await fetch(`${gateway.url}/v1/tasks/${mine.body.id}`);
    expect(anonymous.status).toBe(401);
  });

  it("serves the API reference from the docs bundle: the document, the page and its files", async () => {
    const doc = await fetch(`${gateway.url}/openapi.json`);
    expect(doc.status).toBe(200);
    expect(await doc.json()).toMatchObject({ openapi: "3.1.0", paths: { "/v1/imagine": {} } });
    const page = await fetch(`${gateway.url}/docs`);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain('src="docs/swagger-ui-bundle.js"');
    const script = await fetch(`${gateway.url}/docs/swagger-ui-bundle.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("javascript");
    expect((await script.text()).length).toBeGreaterThan(500_000);
    const icon = await fetch(`${gateway.url}/docs/favicon-32x32.png`);
    expect(
      Buffer.from(await icon.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe("PNG");
  });

  it("answers an unknown route with the contract's JSON 404 (API Gateway's $default → read)", async () => {
    const response = await fetch(`${gateway.url}/nowhere`, { method: "DELETE" });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
  });
});

describe("the bundled reconciler", () => {
  it("finishes a task whose webhooks were all lost, when the schedule fires", async () => {
    const alice = api(gateway, OWNERS.alice.key);
    const submitted = await alice.imagine({ prompt: "a lost lighthouse --sim-drop-hooks" });
    expect(submitted.status).toBe(202);
    await simulator.idle();
    expect((await alice.task(submitted.body.id)).body.status).toBe("SUBMITTED");

    // EventBridge Scheduler hands the function the cron's `event` verbatim
    const cron = wiring.component("sst.aws.CronV2", "Reconciler").args;
    const report = await host("ReconcilerHandler").invoke(cron.event ?? {});
    expect(report).toMatchObject({ applied: expect.any(Number) });
    expect((report as { applied: number }).applied).toBeGreaterThanOrEqual(1);
    expect((await alice.task(submitted.body.id)).body).toMatchObject({ status: "SUCCESS" });
  });
});

describe("the bundled reconciler's image copies", () => {
  it("copies a finished task's images into the bucket, and read answers presigned links that open", async () => {
    const alice = api(gateway, OWNERS.alice.key);
    const submitted = await alice.imagine({ prompt: "a bundled boat that lasts" });
    const done = await eventually(
      () => alice.task(submitted.body.id),
      (r) => r.body?.status === "SUCCESS",
    );
    expect(done.body).toMatchObject({ imagesStatus: "pending", images: [] });
    const grid = Buffer.from(await (await fetch(done.body.imageUrl)).arrayBuffer());

    const cron = wiring.component("sst.aws.CronV2", "Reconciler").args;
    const report = (await host("ReconcilerHandler").invoke(cron.event ?? {})) as {
      images: { copied: number; retrying: number; failed: number; storageErrors: number };
    };
    // sharp loaded from the package's node_modules, as SST's `install` puts it there
    expect(report.images).toMatchObject({ retrying: 0, failed: 0, storageErrors: 0 });
    expect(report.images.copied).toBeGreaterThanOrEqual(1);

    const task = (await alice.task(submitted.body.id)).body;
    expect(task.imagesStatus).toBe("done");
    expect(task.images.map((i: { name: string }) => i.name)).toEqual([
      "grid.png",
      "quadrant-1.png",
      "quadrant-2.png",
      "quadrant-3.png",
      "quadrant-4.png",
      "thumbnail.webp",
    ]);
    for (const image of task.images as { url: string; bytes: number; contentType: string }[]) {
      const url = new URL(image.url);
      // an S3 presigned GET of the bucket (path-style on the test server)
      expect(url.origin).toBe(s3.endpoint);
      expect(url.pathname).toMatch(new RegExp(`^/${s3.bucket}/tasks/${task.id}/`));
      expect(url.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
      expect(Number(url.searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(3600);
      const file = await fetch(url);
      expect(file.status).toBe(200);
      expect(file.headers.get("content-type")).toBe(image.contentType);
      expect((await file.arrayBuffer()).byteLength).toBe(image.bytes);
    }
    const first = await fetch(task.images[0].url);
    expect(Buffer.from(await first.arrayBuffer()).equals(grid)).toBe(true);

    // on AWS the links are S3's: the API's own /images route serves nothing
    const path = new URL(task.images[0].url).pathname.split("/").slice(-2).join("/");
    expect((await fetch(`${gateway.url}/images/${path}?expires=9999999999&sig=x`)).status).toBe(
      404,
    );
  });

  it("keeps an upload in the bucket (read's PutObject under uploads/) and serves it at its keyless link", async () => {
    const alice = api(gateway, OWNERS.alice.key);
    const png = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
      "base64",
    );
    const upload = await alice.call("POST", "/v1/uploads", {
      image: `data:image/png;base64,${png.toString("base64")}`,
    });
    expect(upload.status).toBe(201);
    const name = new URL(upload.body.url).pathname.split("/").pop();
    // our own copy in the bucket, under uploads/
    const stored = await fetch(`${s3.endpoint}/${s3.bucket}/uploads/${name}`);
    expect(stored.status).toBe(200);
    const file = await fetch(`${gateway.url}/uploads/${name}`);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await file.arrayBuffer()).equals(png)).toBe(true);
  });
});

describe("the bundled dispatcher, queue consumer and webhooks function", () => {
  it("delivers a signed webhook and a bus event when the table's stream names the task", async () => {
    const hits: { headers: Record<string, unknown>; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        hits.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
    try {
      const port = (receiver.address() as AddressInfo).port;
      const alice = api(gateway, OWNERS.alice.key);
      const submitted = await alice.imagine({
        prompt: "a bundled boat with a hook",
        webhookUrl: `http://127.0.0.1:${port}/hook`,
      });
      expect(submitted.status).toBe(202);
      await eventually(
        () => alice.task(submitted.body.id),
        (r) => r.body?.status === "SUCCESS",
      );
      // what Lambda hands the stream subscriber (the filter kept this record)
      const record = {
        eventName: "MODIFY",
        dynamodb: { Keys: { pk: { S: `TASK#${submitted.body.id}` }, sk: { S: "TASK" } } },
      };
      const report = (await host("DispatchStream").invoke({ Records: [record] })) as {
        delivered: number;
      };
      expect(report.delivered).toBe(2); // the webhook and the bus
      expect(hits).toHaveLength(1);
      const secret = await alice.call("GET", "/v1/webhook-secret");
      const event = new Webhook(secret.body.secret).verify(hits[0]?.body ?? "", {
        "webhook-id": String(hits[0]?.headers["webhook-id"]),
        "webhook-timestamp": String(hits[0]?.headers["webhook-timestamp"]),
        "webhook-signature": String(hits[0]?.headers["webhook-signature"]),
      }) as { type: string };
      expect(event.type).toBe("task.succeeded");
      expect(
        eventBridge
          .events()
          .filter((e) => e.detail.id === submitted.body.id)
          .map((e) => [e.eventBusName, e.detailType]),
      ).toEqual([[BUS_NAME, "task.succeeded"]]);
      const log = await alice.call("GET", `/v1/tasks/${submitted.body.id}/deliveries`);
      expect(log.body.items[0]).toMatchObject({ status: "delivered", attemptCount: 1 });
      // the schedule (it also publishes the earlier tests' tasks) sends nothing twice
      const cron = wiring.component("sst.aws.CronV2", "Dispatcher").args;
      await host("DispatcherHandler").invoke(cron.event ?? {});
      expect(hits).toHaveLength(1);
      expect(eventBridge.events().filter((e) => e.detail.id === submitted.body.id)).toHaveLength(1);
      // the account endpoints' routes of the bundled webhooks function, with its URL guard
      const endpoint = await alice.call("POST", "/v1/webhook-endpoints", {
        url: `http://127.0.0.1:${port}/account`,
      });
      expect(endpoint.status).toBe(201);
      const listed = await alice.call("GET", "/v1/webhook-endpoints");
      expect(listed.body.items.map((e: { id: string }) => e.id)).toContain(endpoint.body.id);
      const gone = await alice.call("DELETE", `/v1/webhook-endpoints/${endpoint.body.id}`);
      expect(gone.status).toBe(204);
    } finally {
      receiver.close();
      receiver.closeAllConnections();
    }
  });

  it("starts a task from an SQS batch and answers a partial batch response", async () => {
    const records = [
      {
        messageId: randomBytes(8).toString("hex"),
        body: JSON.stringify({ owner: "alice", prompt: "a queued bundled boat" }),
        attributes: { ApproximateReceiveCount: "1" },
        messageAttributes: {},
      },
      {
        messageId: randomBytes(8).toString("hex"),
        body: "not json",
        attributes: { ApproximateReceiveCount: "1" },
        messageAttributes: {},
      },
    ];
    const answer = await host("ImagineQueueSubscriber").invoke({ Records: records });
    expect(answer).toEqual({ batchItemFailures: [] });
    const tasks = await api(gateway, OWNERS.alice.key).list("?limit=10");
    expect(tasks.body.items.map((t: { prompt: string }) => t.prompt)).toContain(
      "a queued bundled boat",
    );
    expect(sqs.messages(deadLetterUrl).map((m) => m.body)).toContain("not json");
  });
});

describe("a bundle outside SST", () => {
  it("reads plain environment variables, so the same artifact also runs without SST", async () => {
    const read = wiring.fn("Read");
    const nodejs = (read.args.nodejs ?? {}) as NodejsOptions;
    const copy = await bundleLikeSst(read.handler, nodejs, join(workDir, "Read-plain"));
    const plain = await startLambda({
      name: "paperboat-plain-read",
      bundle: copy,
      links: null,
      environment: {
        TABLE_NAME: tableName,
        API_KEYS,
        IMAGE_BUCKET: s3.bucket,
        PUBLIC_URL: "https://api.example.test",
        MJ_API_BASE_URL: simulator.url,
      },
      extraEnvironment: { DYNAMODB_ENDPOINT: dynamodbEndpoint(), IMAGE_S3_ENDPOINT: s3.endpoint },
      app: { name: wiring.app.name, stage: STAGE },
      memoryMb: 512,
      timeoutSeconds: 5,
    });
    try {
      const other = await startHttpApi([{ route: "$default", invoke: (e) => plain.invoke(e) }]);
      try {
        // a 200 means the key was accepted and the table read: a wrong name would be a 500
        const list = await api(other, OWNERS.alice.key).list();
        expect(list.status).toBe(200);
        expect(list.body).toMatchObject({ items: expect.any(Array) });
      } finally {
        await other.stop();
      }
    } finally {
      await plain.stop();
    }
  });
});

describe("a bundle deployed without a link it needs", () => {
  it("fails its cold start with an error naming the link", async () => {
    const read = wiring.fn("Read");
    const nodejs = (read.args.nodejs ?? {}) as NodejsOptions;
    const copy = await bundleLikeSst(read.handler, nodejs, join(workDir, "Read-unlinked"));
    const started = launch(read, ["ApiKeys"], copy);
    await expect(started).rejects.toThrow(InitError);
    await expect(started).rejects.toThrow(/API_KEYS.*"ApiKeys".*not linked/);
  });
});

describe("what a bundle's cold start loads", () => {
  it("leaves the SDK's credential providers Lambda never uses out of the bundle, importing them only when needed", () => {
    for (const fn of wiring.functions) {
      const bundle = bundles.get(fn.name) as Bundle;
      const sources = bundle.inputs.map((i) => i.source);
      if (!sources.includes("@aws-sdk/client-dynamodb")) continue; // Docs: no AWS client at all
      // the SDK's providers for credentials other than the environment's (SSO, shared profiles,
      // processes, web identity, container and instance metadata), as infra/runtime.ts lists them
      const otherProviders = ((fn.args.nodejs as NodejsOptions).esbuild?.external ?? []).filter(
        (p) => /credential-provider/.test(p),
      );
      // none of their code is in the bundle (nor the STS and SSO clients behind them)...
      const carried = sources.filter(
        (s) => otherProviders.includes(s) || s === "@aws-sdk/nested-clients",
      );
      expect(carried, `${fn.name} carries`).toEqual([]);
      // ...and the bundle reaches them only through the SDK's dynamic imports: a static one
      // would fail every cold start, as this bundle runs from a directory with no node_modules
      const imports = bundle.externalImports.filter((i) => otherProviders.includes(i.path));
      expect(imports.length, `${fn.name} imports the SDK's other providers`).toBeGreaterThan(0);
      expect(
        imports.filter((i) => i.kind !== "dynamic-import"),
        `${fn.name} imports statically`,
      ).toEqual([]);
    }
  });
});

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient, createIdFactory } from "../functions/deps.ts";
import { keys } from "../functions/store/keys.ts";
import { taskToItem } from "../functions/store/task-store.ts";
import { type LocalSqs, startLocalSqs } from "../local/aws/sqs.ts";
import { ensureTable } from "../local/dynamodb.ts";
import { type Simulator, startSimulator } from "../local/simulator/index.ts";
import { type LambdaOptions, startLambda } from "../test/infra/lambda-host.ts";
import {
  type Bundle,
  bundleLikeSst,
  type NodejsOptions,
  zippedBytes,
} from "../test/infra/sst-bundle.ts";
import { type RecordedFunction, ROOT, type SstEvaluation } from "../test/infra/sst-stand-in.ts";
import { apiGatewayV2Event } from "../test/lambda/events.ts";
import { bundleLineOwners, profileByCategory } from "./lib/cpu-profile.ts";
import { table } from "./lib/markdown.ts";
import type { Section, Target } from "./lib/report.ts";
import { kb, median, ms, ratio } from "./lib/stats.ts";
import { benchTask, seedTasks, upstreamId, webhookBody } from "./lib/tasks.ts";
import { writePassThroughZod } from "./variants/pass-through-zod.ts";

/** A bundle's bytes cell: the bundle, and zipped. */
async function bundleBytes(bundle: Bundle): Promise<string> {
  return `${kb(bundle.bytes)} (${kb(await zippedBytes(bundle))} zipped)`;
}

/** One thing whose cold start is measured: a bundle, how Lambda would start it, and its event. */
interface Subject {
  name: string;
  /** what the row stands for, for the tables */
  label: string;
  /** SST's handler string and `nodejs` options the bundle was built from */
  handler: string;
  nodejs: NodejsOptions;
  /** files SST copies next to the bundle (the function's `copyFiles`) */
  copyFiles?: { from: string; to?: string }[];
  bundle: Bundle;
  launch: Omit<LambdaOptions, "bundle">;
  /**
   * For a function whose first event makes more round trips than the one-write reference: a
   * reference making the same round trips (bench/reference/work.ts), run next to it in every
   * round as well; the function's verdict is against this one.
   */
  ownReference?: Subject;
  /** a fresh, realistic event for one run (not timed) */
  event(): Promise<unknown>;
  /** null when the answer shows the real work was done, else what was wrong */
  check(result: unknown): string | null;
}

interface Run {
  /** fork → the module imported (the runtime's init) */
  init: number;
  /** the first event, answered */
  invoke: number;
  total: number;
}

export interface ColdStartOptions {
  dynamodbEndpoint: string;
  wiring: SstEvaluation;
  workDir: string;
  /** rounds of the main comparison (each: every function once, each next to a reference run) */
  rounds?: number;
  /** rounds of the ablations */
  ablationRounds?: number;
  /** profiled runs of each profiled bundle */
  profileRuns?: number;
  log?: (line: string) => void;
}

const API_PATH = "/hooks/midjourney";

function httpAnswer(expected: number, bodyPattern?: RegExp) {
  return (result: unknown) => {
    const answer = result as { statusCode?: number; body?: string };
    if (answer?.statusCode !== expected) return `status ${answer?.statusCode}: ${answer?.body}`;
    if (bodyPattern && !bodyPattern.test(answer.body ?? "")) return `body ${answer.body}`;
    return null;
  };
}

async function runOnce(subject: Subject): Promise<Run> {
  const event = await subject.event();
  const t0 = performance.now();
  const host = await startLambda({ ...subject.launch, bundle: subject.bundle });
  const t1 = performance.now();
  try {
    const result = await host.invoke(event);
    const t2 = performance.now();
    const problem = subject.check(result);
    if (problem) throw new Error(`${subject.name}: ${problem}\n${host.output()}`);
    return { init: t1 - t0, invoke: t2 - t1, total: t2 - t0 };
  } finally {
    await host.stop();
  }
}

/**
 * Runs every subject `rounds` times, each run next to a run of `reference` (reference first in
 * even rounds, second in odd ones), so that machine noise hits both sides of each pair.
 */
async function interleave(
  reference: Subject,
  subjects: Subject[],
  rounds: number,
  floor?: Subject,
  log?: (line: string) => void,
) {
  const runs = new Map<string, { subject: Run[]; reference: Run[]; own: Run[] }>(
    subjects.map((s) => [s.name, { subject: [], reference: [], own: [] }]),
  );
  const floorRuns: Run[] = [];
  for (let round = 0; round < rounds; round++) {
    // rotate the order too, so no subject always follows the same one
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length] as Subject);
    for (const subject of order) {
      const pair = runs.get(subject.name) as { subject: Run[]; reference: Run[]; own: Run[] };
      const own = subject.ownReference;
      if (round % 2 === 0) {
        pair.reference.push(await runOnce(reference));
        if (own) pair.own.push(await runOnce(own));
        pair.subject.push(await runOnce(subject));
      } else {
        pair.subject.push(await runOnce(subject));
        if (own) pair.own.push(await runOnce(own));
        pair.reference.push(await runOnce(reference));
      }
    }
    if (floor) floorRuns.push(await runOnce(floor));
    log?.(`cold start: round ${round + 1}/${rounds}`);
  }
  return { runs, floorRuns };
}

const medianOf = (runs: Run[], key: keyof Run) => median(runs.map((r) => r[key]));

/**
 * The median of subject/reference over pairs that ran back to back: slow load drifts cancel.
 * `total` is init + first event; `init` the module's import alone.
 */
const pairedRatio = (pair: { subject: Run[]; reference: Run[] }, key: keyof Run = "total") =>
  median(pair.subject.map((run, i) => run[key] / (pair.reference[i] as Run)[key]));

/** The targets (issue 14): every function ≤ 1.10× the reference, the callback ≤ 1.05×. */
export const coldStartLimit = (name: string) => (name === "Callback" ? 1.05 : 1.1);

const PRELOAD = join(ROOT, "bench", "lib", "cpu-profile-preload.mjs");

/**
 * Where a cold start's time goes: each subject rebuilt unminified (the same build otherwise, so
 * esbuild's `// node_modules/...` module comments survive), run `runs` times with a V8 CPU
 * profiler preloaded, and every sample charged to the package whose code it was in, or to
 * Node's loader, GC, idle time. Subjects take turns, run by run.
 */
async function profileSubjects(subjects: Subject[], runs: number, dir: string) {
  const prepared = [];
  for (const subject of subjects) {
    const bundle = await bundleLikeSst(
      subject.handler,
      { ...subject.nodejs, minify: false },
      join(dir, subject.name),
      subject.copyFiles ?? [],
    );
    prepared.push({
      subject,
      bundle,
      owners: await bundleLineOwners(bundle),
      totals: new Map<string, number>(),
    });
  }
  for (let run = 0; run < runs; run++) {
    for (const p of prepared) {
      const out = join(dir, `${p.subject.name}-${run}.cpuprofile`);
      const launch = p.subject.launch;
      await runOnce({
        ...p.subject,
        bundle: p.bundle,
        launch: {
          ...launch,
          extraEnvironment: {
            ...launch.extraEnvironment,
            NODE_OPTIONS: `--import ${PRELOAD}`,
            BENCH_PROFILE_OUT: out,
          },
        },
      });
      for (const [key, value] of await profileByCategory(out, p.bundle, p.owners)) {
        p.totals.set(key, (p.totals.get(key) ?? 0) + value / runs);
      }
    }
  }
  return new Map(prepared.map((p) => [p.subject.name, p.totals]));
}

/**
 * What SST writes into resource.enc for each link of the function, with this run's values:
 * by the linked component's type (a table, a bucket, the API), secrets by name (else their
 * placeholder, the value a stage has unless set).
 */
function linkValues(
  fn: RecordedFunction,
  wiring: SstEvaluation,
  run: {
    table: string;
    bucket?: string;
    secrets: Record<string, string>;
    queues: Record<string, string>;
  },
) {
  return Object.fromEntries(
    fn.links.map((name) => {
      const component = wiring.components.find((c) => c.name === name);
      const secret = run.secrets[name] ?? (component?.args.placeholder as string | undefined);
      const value =
        component?.type === "sst.aws.Dynamo"
          ? { type: component.type, name: run.table }
          : component?.type === "sst.aws.Bucket" && run.bucket
            ? { type: component.type, name: run.bucket }
            : component?.type === "sst.aws.ApiGatewayV2"
              ? { type: component.type, url: "http://127.0.0.1:9" }
              : component?.type === "sst.aws.Bus"
                ? { type: component.type, name: `bench-${name}`, arn: `arn:bench:${name}` }
                : component?.type === "sst.aws.Queue" && run.queues[name]
                  ? { type: component.type, url: run.queues[name] }
                  : component?.type === "sst.Secret" && secret !== undefined
                    ? { type: "sst.sst.Secret", value: secret }
                    : null;
      if (!value) throw new Error(`cold start: no bench value for link ${name} of ${fn.name}`);
      return [name, value];
    }),
  );
}

/** Bytes each package takes in a bundle, from esbuild's metafile, for the top `n`. */
function composition(bundle: Bundle, n: number): string {
  return bundle.inputs
    .slice(0, n)
    .map((input) => `${input.source} ${kb(input.bytes)}`)
    .join(", ");
}

/**
 * Figure 1: cold starts. Every function is bundled exactly as SST bundles it for a deploy
 * (test/infra/sst-bundle.ts, wiring from sst.config.ts), started in a fresh Node process with
 * what Lambda and SST give it (test/infra/lambda-host.ts: links in an encrypted resource.enc,
 * Lambda's environment) and made to answer one realistic event, against DynamoDB Local and the
 * simulator. The reference is bench/reference/handler.ts, bundled the same way.
 */
export async function benchColdStart(options: ColdStartOptions): Promise<Section> {
  const { wiring, workDir, dynamodbEndpoint } = options;
  const rounds = options.rounds ?? 15;
  const ablationRounds = options.ablationRounds ?? 10;
  const profileRuns = options.profileRuns ?? 8;
  const client = createDocumentClient({ endpoint: dynamodbEndpoint });
  const tableName = `bench_cold_${randomBytes(3).toString("hex")}`;
  const reconcileTable = `${tableName}_reconcile`;
  await ensureTable(client, tableName);
  await ensureTable(client, reconcileTable);
  const secret = randomBytes(24).toString("base64url");
  const mjApiKey = `mj_${randomBytes(8).toString("hex")}`;
  const apiKey = `key_bench_${randomBytes(8).toString("hex")}`;
  const adminKey = `pba_bench_${randomBytes(16).toString("hex")}`;
  const newId = createIdFactory();
  let upstreamSeq = 0;

  // the reconciler finds 20 unfinished tasks the upstream does not know: one Query, one
  // list-by-condition call, no write; the same work on every run
  await seedTasks(
    client,
    reconcileTable,
    Array.from({ length: 20 }, () =>
      benchTask({
        id: newId(),
        owner: "bench",
        status: "SUBMITTED",
        upstreamTaskId: upstreamId(900_000 + upstreamSeq++),
      }),
    ),
  );
  const readable = benchTask({
    id: newId(),
    owner: "bench",
    status: "SUCCESS",
    upstreamTaskId: upstreamId(upstreamSeq++),
  });
  await seedTasks(client, tableName, [readable]);

  /** A webhook event for a task that exists and is SUBMITTED, so the write applies. */
  const freshWebhook = async (parsedShape = false) => {
    const task = benchTask({
      id: newId(),
      owner: "bench",
      status: "SUBMITTED",
      upstreamTaskId: upstreamId(upstreamSeq++),
    });
    await client.send(new PutCommand({ TableName: tableName, Item: taskToItem(task) }));
    const body = webhookBody({
      secret,
      taskId: task.id,
      upstreamTaskId: task.upstreamTaskId as string,
      status: "IN_PROGRESS",
      progress: 15,
    });
    return apiGatewayV2Event({
      method: "POST",
      path: API_PATH,
      // for a Callback whose parse returns its input: every field as functions/upstream/schemas.ts
      // leaves it (progress a number, the lists present), so it does the same work as the real one
      body: parsedShape
        ? JSON.stringify({
            ...JSON.parse(body),
            progress: 15,
            imageUrls: [],
            videoUrl: null,
            videoUrls: [],
          })
        : body,
    });
  };

  const simulator: Simulator = await startSimulator({ apiKey: mjApiKey, stepMs: 50, seed: 5 });
  // the queues a function sends to (submit's young polls): the local SQS, so a send is the one
  // round trip it is on AWS (a dead address would add the SDK's retries to the figure)
  const sqs: LocalSqs = await startLocalSqs();
  const queues = Object.fromEntries(
    wiring.components
      .filter((c) => c.type === "sst.aws.Queue")
      .map((c) => [c.name, sqs.createQueue(`bench-${c.name}`)]),
  );
  let s3: { endpoint: string; bucket: string; stop(): Promise<void> } | undefined;
  try {
    const nodejsOf = (fn: RecordedFunction) => (fn.args.nodejs ?? {}) as NodejsOptions;
    const secrets = {
      MjApiKey: mjApiKey,
      MjApiBaseUrl: simulator.url,
      CallbackSecret: secret,
      ApiKeys: `bench:${apiKey}`,
      WebhookSecret: secret,
      AdminKey: adminKey,
    };
    // a function that links a bucket gets an S3-compatible server on 127.0.0.1 (test/s3.ts)
    const needsS3 = wiring.components.some((c) => c.type === "sst.aws.Bucket");
    if (needsS3) {
      const { startS3 } = await import("../test/s3.ts");
      const started = await startS3("paperboat-bench-images");
      s3 = started;
    }
    const launchOf = (fn: RecordedFunction, table = tableName): Omit<LambdaOptions, "bundle"> => ({
      name: `paperboat-bench-${fn.name}`,
      links: linkValues(fn, wiring, { table, bucket: s3?.bucket, secrets, queues }),
      environment: fn.environment,
      extraEnvironment: {
        DYNAMODB_ENDPOINT: dynamodbEndpoint,
        SQS_ENDPOINT: sqs.endpoint,
        ...(s3 ? { IMAGE_S3_ENDPOINT: s3.endpoint } : {}),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
      app: { name: wiring.app.name, stage: "bench" },
      memoryMb: Number.parseInt(String(fn.args.memory ?? "512"), 10),
      timeoutSeconds: 20,
    });
    const callbackFn = wiring.fn("Callback");
    const nodejs = nodejsOf(callbackFn);
    const bundleOf = (handler: string, name: string, opts = nodejs) =>
      bundleLikeSst(handler, opts, join(workDir, "cold", name));

    /** bench/reference or bench/variants bundles: plain environment, resource.enc written but unused */
    const plainLaunch = (name: string): Omit<LambdaOptions, "bundle"> => ({
      name: `paperboat-bench-${name}`,
      links: {},
      environment: { TABLE_NAME: tableName, CALLBACK_SECRET: secret },
      extraEnvironment: {
        DYNAMODB_ENDPOINT: dynamodbEndpoint,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
      app: { name: wiring.app.name, stage: "bench" },
      memoryMb: 512,
      timeoutSeconds: 20,
    });
    /** A reference making the same round trips as a function (bench/reference/work.ts). */
    const ioReference = async (
      name: string,
      handler: string,
      check: Subject["check"],
      table = tableName,
    ): Promise<Subject> => {
      const launch = plainLaunch(name);
      return {
        name,
        label: `reference: the same round trips (\`${handler}\`)`,
        handler,
        nodejs,
        bundle: await bundleOf(handler, name),
        launch: {
          ...launch,
          environment: {
            TABLE_NAME: table,
            MJ_API_BASE_URL: simulator.url,
            MJ_API_KEY: mjApiKey,
            YOUNG_POLLS_QUEUE_URL: queues.YoungPolls ?? "",
          },
          extraEnvironment: { ...launch.extraEnvironment, SQS_ENDPOINT: sqs.endpoint },
        },
        event: async () => ({}),
        check,
      };
    };
    const webhookSubject = async (
      name: string,
      label: string,
      handler: string,
      opts = nodejs,
    ): Promise<Subject> => ({
      name,
      label,
      handler,
      nodejs: opts,
      bundle: await bundleOf(handler, name, opts),
      launch: plainLaunch(name),
      event: freshWebhook,
      check: httpAnswer(200, /"applied"/),
    });

    const reference = await webhookSubject(
      "reference",
      "reference: Hono + 1 UpdateItem",
      "bench/reference/handler.handler",
    );
    const floor: Subject = {
      name: "bare",
      label: "floor: a handler that imports nothing",
      handler: "bench/variants/bare.handler",
      nodejs,
      bundle: await bundleOf("bench/variants/bare.handler", "bare"),
      launch: plainLaunch("bare"),
      event: async () => ({}),
      check: httpAnswer(200),
    };

    const fnSubject = async (
      fn: RecordedFunction,
      event: () => Promise<unknown>,
      check: Subject["check"],
      table = tableName,
    ): Promise<Subject> => ({
      name: fn.name,
      label: `${fn.name} (\`${fn.handler}\`)`,
      handler: fn.handler,
      nodejs: nodejsOf(fn),
      copyFiles: (fn.args.copyFiles ?? []) as { from: string; to?: string }[],
      bundle: await bundleLikeSst(
        fn.handler,
        nodejsOf(fn),
        join(workDir, "cold", fn.name),
        // files SST copies next to the bundle (e.g. the docs' assets)
        (fn.args.copyFiles ?? []) as { from: string; to?: string }[],
      ),
      launch: launchOf(fn, table),
      event,
      check,
    });
    const auth = { authorization: `Bearer ${apiKey}` };
    const functions: Subject[] = [];
    const cron = wiring.components.find((c) => c.type === "sst.aws.CronV2");
    const routesOf = (name: string) =>
      wiring.routes
        .map((r) => r.route)
        .filter((route) => {
          try {
            return route !== "$default" && wiring.routeTarget(route) === name;
          } catch {
            return false;
          }
        });
    for (const fn of wiring.functions) {
      if (fn.name === "Callback") {
        functions.push(await fnSubject(fn, freshWebhook, httpAnswer(200, /"applied"/)));
      } else if (fn.name === "Read") {
        const event = async () =>
          apiGatewayV2Event({
            method: "GET",
            path: `/v1/tasks/${readable.id}`,
            routeKey: "GET /v1/tasks/{id}",
            headers: auth,
          });
        functions.push(await fnSubject(fn, event, httpAnswer(200, /"SUCCESS"/)));
      } else if (fn.name === "Submit") {
        const event = async () =>
          apiGatewayV2Event({
            method: "POST",
            path: "/v1/imagine",
            headers: auth,
            // no webhooks: the run's work is the submit itself (bench/reference/work.ts lists it)
            body: JSON.stringify({
              prompt: "a paper boat floating on calm water --sim-drop-hooks",
            }),
          });
        const check = httpAnswer(202, /"SUBMITTED"/);
        const own = await ioReference("reference-submit", "bench/reference/submit.handler", check);
        functions.push({ ...(await fnSubject(fn, event, check)), ownReference: { ...own, event } });
      } else if (fn.name === "Admin") {
        // the operator's key list: ADMIN_KEY, one Query
        const event = async () =>
          apiGatewayV2Event({
            method: "GET",
            path: "/v1/admin/keys",
            routeKey: "GET /v1/admin/keys",
            headers: { authorization: `Bearer ${adminKey}` },
          });
        functions.push(await fnSubject(fn, event, httpAnswer(200, /"items"/)));
      } else if (fn.name === "ImagineQueueSubscriber") {
        // one SQS record: an imagine for the bench owner, submitted to the simulator
        const event = async () => ({
          Records: [
            {
              messageId: randomBytes(8).toString("hex"),
              body: JSON.stringify({
                owner: "bench",
                prompt: "a paper boat from the queue --sim-drop-hooks",
              }),
              attributes: { ApproximateReceiveCount: "1" },
            },
          ],
        });
        const check = (result: unknown) =>
          (result as { batchItemFailures?: unknown[] })?.batchItemFailures?.length === 0
            ? null
            : `answer ${JSON.stringify(result)}`;
        const own = await ioReference("reference-queue", "bench/reference/queue.handler", check);
        functions.push({ ...(await fnSubject(fn, event, check)), ownReference: { ...own, event } });
      } else if (fn.name === "YoungPollsSubscriber") {
        // one young poll: the readable task, asked about at the upstream
        const event = async () => ({
          Records: [
            {
              messageId: randomBytes(8).toString("hex"),
              body: JSON.stringify({ taskId: readable.id }),
            },
          ],
        });
        const check = (result: unknown) =>
          (result as { batchItemFailures?: unknown[] })?.batchItemFailures?.length === 0
            ? null
            : `answer ${JSON.stringify(result)}`;
        functions.push(await fnSubject(fn, event, check));
      } else if (fn.handler.endsWith(".stream")) {
        // a stream batch naming the readable task's key (nothing of it due: a read, no send)
        const event = async () => ({
          Records: [
            {
              dynamodb: {
                Keys: {
                  pk: { S: keys.task(readable.id).pk },
                  sk: { S: keys.task(readable.id).sk },
                },
              },
            },
          ],
        });
        functions.push(await fnSubject(fn, event, () => null));
      } else if (fn.handler.endsWith("dispatch.schedule")) {
        // the dispatcher's schedule: one run over the (empty) dispatch index
        functions.push(
          await fnSubject(
            fn,
            async () => ({}),
            () => null,
          ),
        );
      } else if (cron && (cron.args.function as { handler?: string })?.handler === fn.handler) {
        const event = async () => cron.args.event ?? {};
        const check = (result: unknown) =>
          (result as { checked?: number })?.checked === 20
            ? null
            : `report ${JSON.stringify(result)}`;
        const own = await ioReference(
          "reference-reconcile",
          "bench/reference/reconcile.handler",
          check,
          reconcileTable,
        );
        functions.push({
          ...(await fnSubject(fn, event, check, reconcileTable)),
          ownReference: { ...own, event },
        });
      } else {
        // a function this file has no event for: its first GET route without parameters
        const route = routesOf(fn.name).find((r) => r.startsWith("GET ") && !r.includes("{"));
        if (!route) {
          options.log?.(`cold start: ${fn.name} skipped (no event for it)`);
          continue;
        }
        const path = route.slice(4);
        const event = async () =>
          apiGatewayV2Event({ method: "GET", path, routeKey: route, headers: auth });
        const check = (result: unknown) => {
          const status = (result as { statusCode?: number })?.statusCode ?? 0;
          return status >= 200 && status < 400 ? null : `status ${status}`;
        };
        const subject = await fnSubject(fn, event, check);
        functions.push({ ...subject, label: `${subject.label}, \`${route}\`` });
      }
    }

    const callbackSubject = functions.find((f) => f.name === "Callback");
    if (!callbackSubject) throw new Error("cold start: no Callback function in the wiring");
    // the Callback built with zod swapped for a pass-through (bench/variants/pass-through-zod.ts)
    const passThroughOptions = {
      ...nodejs,
      esbuild: { ...nodejs.esbuild, alias: await writePassThroughZod(join(workDir, "cold")) },
    };
    const ablations: (Subject & { isolates: string })[] = [
      { ...callbackSubject, isolates: "the production Callback, measured in these rounds" },
      {
        ...(await webhookSubject(
          "reference+zod",
          "reference + the webhook body parsed with the production zod schema",
          "bench/variants/reference-zod.handler",
        )),
        isolates:
          "vs reference: classic `zod` (`import * as z`): its code, one schema built, one parse",
      },
      {
        ...(await webhookSubject(
          "reference+zod-mini",
          "reference + the same schema in `zod/mini`",
          "bench/variants/reference-zod-mini.handler",
        )),
        isolates: "vs reference+zod: the same schema with `zod/mini` instead",
      },
      {
        ...(await webhookSubject(
          "reference+valibot",
          "reference + the same schema in valibot",
          "bench/variants/reference-valibot.handler",
        )),
        isolates: "vs reference+zod-mini: the same schema with valibot, the lightest library tried",
      },
      {
        ...callbackSubject,
        name: "callback-no-validation",
        label: "Callback with validation that costs nothing (zod swapped for a pass-through)",
        nodejs: passThroughOptions,
        bundle: await bundleOf(
          callbackSubject.handler,
          "callback-no-validation",
          passThroughOptions,
        ),
        event: () => freshWebhook(true),
        isolates:
          "vs Callback: everything its validation costs at start (zod's code, its locale, the schemas): the floor under any validation library",
      },
      {
        ...(await webhookSubject(
          "reference-sst-default",
          "the reference as SST builds it by default (the SDK's credential providers bundled)",
          "bench/reference/handler.handler",
          // SST's default build: the infra's options without its `external` list
          { ...nodejs, esbuild: { ...nodejs.esbuild, external: [] } },
        )),
        isolates:
          "vs reference: bundling the SDK's credential providers Lambda never uses (infra/runtime.ts)",
      },
      {
        ...(await webhookSubject(
          "callback-env",
          "Callback without functions/platform.ts (settings from the environment)",
          "bench/variants/callback-env.handler",
        )),
        isolates: "vs Callback: `sst/resource` and decrypting resource.enc",
      },
    ];

    // one throw-away start of each bundle: the file system cache is warm for everyone
    const ownReferences = functions.flatMap((f) => (f.ownReference ? [f.ownReference] : []));
    for (const subject of [reference, floor, ...functions, ...ownReferences, ...ablations.slice(1)])
      await runOnce(subject);

    const main = await interleave(reference, functions, rounds, floor, options.log);
    const ablation = await interleave(reference, ablations, ablationRounds, undefined, options.log);
    const floorTotal = medianOf(main.floorRuns, "total");
    const profiled = [reference, ...functions, ...ablations.slice(1, 3)];
    options.log?.("cold start: profiling");
    const profiles = await profileSubjects(profiled, profileRuns, join(workDir, "cold-profile"));

    const targets: Target[] = [];
    const rows: string[][] = [];
    const ownRows: string[][] = [];
    for (const subject of functions) {
      const pair = main.runs.get(subject.name) as { subject: Run[]; reference: Run[]; own: Run[] };
      const s = medianOf(pair.subject, "total");
      const r = medianOf(pair.reference, "total");
      const paired = pairedRatio(pair);
      const pairedInit = pairedRatio(pair, "init");
      const net = (s - floorTotal) / (r - floorTotal);
      const limit = coldStartLimit(subject.name);
      rows.push([
        subject.label,
        await bundleBytes(subject.bundle),
        ms(medianOf(pair.subject, "init")),
        ms(medianOf(pair.subject, "invoke")),
        ms(s),
        ms(r),
        ratio(s / r),
        ratio(paired),
        ratio(pairedInit),
        ratio(net),
      ]);
      const own = subject.ownReference;
      if (own) {
        const vsOwn = { subject: pair.subject, reference: pair.own };
        const ownPaired = pairedRatio(vsOwn);
        const ownInit = pairedRatio(vsOwn, "init");
        const o = medianOf(pair.own, "total");
        ownRows.push([
          subject.name,
          own.label.replace(/^reference: /, ""),
          kb(own.bundle.bytes),
          ms(s),
          ms(o),
          ratio(ownPaired),
          ratio(ownInit),
          ratio(paired),
        ]);
        targets.push(
          {
            figure: `1. cold start: ${subject.name}`,
            measured: `${ratio(ownPaired)} paired with a reference making the same round trips; medians ${ms(s)} vs ${ms(o)} (vs the one-write reference: ${ratio(paired)})`,
            target: `≤ ${limit.toFixed(2)}× the reference`,
            met: ownPaired <= limit,
          },
          {
            figure: `1. cold start, init alone: ${subject.name}`,
            measured: `${ratio(ownInit)} paired with a reference making the same round trips; medians ${ms(medianOf(pair.subject, "init"))} vs ${ms(medianOf(pair.own, "init"))} (vs the one-write reference: ${ratio(pairedInit)})`,
            target: `≤ ${limit.toFixed(2)}× the reference`,
            met: ownInit <= limit,
          },
        );
        continue;
      }
      targets.push(
        {
          figure: `1. cold start: ${subject.name}`,
          measured: `${ratio(paired)} paired; medians ${ms(s)} vs ${ms(r)} (${ratio(s / r)})`,
          target: `≤ ${limit.toFixed(2)}× the reference`,
          met: paired <= limit,
        },
        {
          figure: `1. cold start, init alone: ${subject.name}`,
          measured: `${ratio(pairedInit)} paired; medians ${ms(medianOf(pair.subject, "init"))} vs ${ms(medianOf(pair.reference, "init"))}`,
          target: `≤ ${limit.toFixed(2)}× the reference`,
          met: pairedInit <= limit,
        },
      );
    }
    const refAll = [...main.runs.values()].flatMap((p) => p.reference);
    rows.push([
      reference.label,
      await bundleBytes(reference.bundle),
      ms(medianOf(refAll, "init")),
      ms(medianOf(refAll, "invoke")),
      ms(medianOf(refAll, "total")),
      "",
      "1.00×",
      "",
      "",
      "",
    ]);
    rows.push([
      floor.label,
      kb(floor.bundle.bytes),
      ms(medianOf(main.floorRuns, "init")),
      ms(medianOf(main.floorRuns, "invoke")),
      ms(floorTotal),
      "",
      "",
      "",
      "",
      "",
    ]);

    const ablationRows = ablations.map((subject) => {
      const pair = ablation.runs.get(subject.name) as { subject: Run[]; reference: Run[] };
      const s = medianOf(pair.subject, "total");
      const r = medianOf(pair.reference, "total");
      return [
        subject.label,
        kb(subject.bundle.bytes),
        ms(medianOf(pair.subject, "init")),
        ms(medianOf(pair.subject, "invoke")),
        ms(s),
        ms(r),
        ratio(s / r),
        ratio(pairedRatio(pair)),
        ratio(pairedRatio(pair, "init")),
        subject.isolates,
      ];
    });

    const callback = functions.find((f) => f.name === "Callback");
    /** packages a bundle carries beyond the reference's, ≥ 5 KB, largest first */
    const beyondReference = (bundle: Bundle) => {
      const reference_ = new Map(reference.bundle.inputs.map((i) => [i.source, i.bytes]));
      return bundle.inputs
        .map((i) => ({ source: i.source, extra: i.bytes - (reference_.get(i.source) ?? 0) }))
        .filter((i) => i.extra >= 5 * 1024)
        .sort((a, b) => b.extra - a.extra)
        .map((i) => `${i.source} +${kb(i.extra)}`)
        .join(", ");
    };
    const profileOf = (name: string) => profiles.get(name) ?? new Map<string, number>();
    const refProfile = profileOf("reference");
    const cbProfile = profileOf("Callback");
    const categories = [...new Set(profiled.flatMap((p) => [...profileOf(p.name).keys()]))]
      .map((key) => ({ key, delta: (cbProfile.get(key) ?? 0) - (refProfile.get(key) ?? 0) }))
      .filter(({ key }) => profiled.some((p) => (profileOf(p.name).get(key) ?? 0) >= 0.5))
      .sort((a, b) => b.delta - a.delta);
    const cell = (name: string, key: string) => {
      const value = profileOf(name).get(key);
      return value === undefined || value < 0.05 ? "–" : value.toFixed(1);
    };
    const totalOf = (name: string) => [...profileOf(name).values()].reduce((a, b) => a + b, 0);
    const profileTable = table(
      ["ms per cold start", ...profiled.map((p) => p.name), "Callback − reference"],
      [
        ...categories.map(({ key, delta }) => [
          key,
          ...profiled.map((p) => cell(p.name, key)),
          `${delta >= 0 ? "+" : ""}${delta.toFixed(1)}`,
        ]),
        [
          "**total sampled**",
          ...profiled.map((p) => totalOf(p.name).toFixed(1)),
          `${(totalOf("Callback") - totalOf("reference")).toFixed(1)}`,
        ],
      ],
    );
    const markdown = [
      `Method: each function's production bundle (SST's build: esbuild, ESM, minified, the infra's \`nodejs\` options) is started in a fresh Node process by test/infra/lambda-host.ts (links in an encrypted resource.enc, Lambda's environment), which imports it and hands it one realistic event: a webhook moving a SUBMITTED task to IN_PROGRESS (Callback), \`GET /v1/tasks/{id}\` (Read), \`POST /v1/imagine\` to the simulator (Submit: 1 TransactWriteItems, the upstream call, 1 UpdateItem, the young polls' SendMessageBatch to a local SQS), the cron's event with 20 unfinished tasks (Reconciler: 3 Query, 1 upstream list call, the image copier's Query), one SQS record of an imagine (ImagineQueueSubscriber: submit's work), one young poll of a task (YoungPollsSubscriber), a stream batch naming one task and a schedule's run (the dispatcher's two entries), a GET route's answer for the others. *bytes* is the bundle, and zipped; the SDK's credential providers other than the environment's are left out of every bundle, the reference's too (infra/runtime.ts). *init* is fork → module imported, *first event* the invoke, *total* both. ${rounds} rounds; in each, every function runs once right next to one run of the reference (reference first in even rounds, second in odd ones), so each function has its own ${rounds} paired reference runs. *ratio* is median(function) / median(its reference runs); *paired*, the verdict, is the median of the per-pair ratios (each pair ran back to back, so load that drifts over seconds cancels out); *init alone, paired* the same for the module's import only (no event), the part each bundle's size and module-level work decide; *net of floor* subtracts the floor (Node start + the runner), the part the bundles themselves cost.`,
      "",
      table(
        [
          "bundle",
          "bytes",
          "init p50",
          "first event p50",
          "total p50",
          "reference p50",
          "ratio",
          "paired",
          "init alone, paired",
          "net of floor",
        ],
        rows,
      ),
      "",
      `**Functions whose first event makes more round trips than one write**, against a reference making the same ones (bench/reference/work.ts: the same DynamoDB requests, the same upstream call, the same SQS send, with the same clients and nothing else; run next to the function in every round, so its pairs are as close as the main reference's). A one-write reference cannot tell what these functions' own code costs from the round trips that are their job, so their verdicts (section *Targets*) are against these; the last column repeats the one-write ratio:`,
      "",
      table(
        [
          "function",
          "reference",
          "reference bytes",
          "total p50",
          "its reference p50",
          "paired",
          "init alone, paired",
          "vs the one-write reference",
        ],
        ownRows,
      ),
      "",
      `**What costs** (ablations: bundles that differ from the reference, or from Callback, in one thing; ${ablationRounds} paired rounds):`,
      "",
      table(
        [
          "bundle",
          "bytes",
          "init p50",
          "first event p50",
          "total p50",
          "reference p50",
          "ratio",
          "paired",
          "init alone, paired",
          "isolates",
        ],
        ablationRows,
      ),
      "",
      `**Where the time goes** (V8 CPU profiles, sampled every 50 µs from the first line of user code until the answer; each bundle rebuilt unminified so samples map to packages; mean of ${profileRuns} runs each; *idle* is waiting on DynamoDB, the upstream or the parent):`,
      "",
      profileTable,
      "",
      "What each bundle carries beyond the reference (esbuild metafile; packages ≥ 5 KB larger or absent there):",
      "",
      table(
        ["bundle", "beyond the reference"],
        functions.map((f) => [f.name, beyondReference(f.bundle) || "nothing ≥ 5 KB"]),
      ),
      "",
      "Bytes by package (esbuild metafile):",
      "",
      `- Callback: ${callback ? composition(callback.bundle, 8) : ""}`,
      `- reference: ${composition(reference.bundle, 8)}`,
      `- reference+zod: ${composition((ablations[1] as Subject).bundle, 3)}; reference+zod-mini: ${composition((ablations[2] as Subject).bundle, 3)}`,
    ].join("\n");
    const data: Record<string, number> = {};
    for (const subject of functions) {
      const pair = main.runs.get(subject.name) as { subject: Run[]; reference: Run[]; own: Run[] };
      data[`ratio:${subject.name}`] =
        medianOf(pair.subject, "total") / medianOf(pair.reference, "total");
      data[`invoke:${subject.name}`] = medianOf(pair.subject, "invoke");
      data[`total:${subject.name}`] = medianOf(pair.subject, "total");
      data[`pairedReference:${subject.name}`] = medianOf(pair.reference, "total");
      data[`paired:${subject.name}`] = pairedRatio(pair);
      data[`pairedInit:${subject.name}`] = pairedRatio(pair, "init");
      if (pair.own.length > 0) {
        const vsOwn = { subject: pair.subject, reference: pair.own };
        data[`pairedOwn:${subject.name}`] = pairedRatio(vsOwn);
        data[`pairedOwnInit:${subject.name}`] = pairedRatio(vsOwn, "init");
        data[`ownTotal:${subject.name}`] = medianOf(pair.own, "total");
      }
    }
    data["invoke:reference"] = medianOf(refAll, "invoke");
    data["total:reference"] = medianOf(refAll, "total");
    for (const subject of ablations) {
      const pair = ablation.runs.get(subject.name) as { subject: Run[]; reference: Run[] };
      data[`ratio:${subject.name}`] =
        medianOf(pair.subject, "total") / medianOf(pair.reference, "total");
      data[`ablationInit:${subject.name}`] = pairedRatio(pair, "init");
      data[`ablationTotal:${subject.name}`] = pairedRatio(pair);
    }
    data["init:reference"] = medianOf(refAll, "init");
    data["init:floor"] = medianOf(main.floorRuns, "init");
    for (const p of profiled) {
      const prof = profileOf(p.name);
      data[`zod:${p.name}`] = prof.get("zod") ?? 0;
      data[`loader:${p.name}`] = prof.get("Node: module loader (read, parse, compile)") ?? 0;
      data[`undici:${p.name}`] = prof.get("Node: global fetch (undici), first use") ?? 0;
      data[`idle:${p.name}`] = prof.get("idle (waiting on I/O)") ?? 0;
      data[`gc:${p.name}`] = prof.get("garbage collector") ?? 0;
      data[`sampled:${p.name}`] = totalOf(p.name);
    }
    const zodBytesOf = (bundle: Bundle) =>
      bundle.inputs.find((i) => i.source === "zod")?.bytes ?? 0;
    for (const f of functions) {
      data[`bytes:${f.name}`] = f.bundle.bytes;
      data[`zodBytes:${f.name}`] = zodBytesOf(f.bundle);
      if (f.ownReference) data[`ownBytes:${f.name}`] = f.ownReference.bundle.bytes;
    }
    data["bytes:reference"] = reference.bundle.bytes;
    for (const a of ablations) data[`ablationBytes:${a.name}`] = a.bundle.bytes;
    data["zodBytes:mini"] = zodBytesOf((ablations[2] as Subject).bundle);
    data["zodBytes:classic"] = zodBytesOf((ablations[1] as Subject).bundle);
    const facts = Object.fromEntries(
      functions.map((f) => [`beyond:${f.name}`, beyondReference(f.bundle)]),
    );
    return { title: "1. Cold start", markdown, targets, data, facts };
  } finally {
    await s3?.stop();
    await sqs.stop();
    await simulator.stop();
  }
}

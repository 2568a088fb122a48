import { randomBytes } from "node:crypto";
import { GetCommand, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { Task } from "../functions/core/task.ts";
import { createDocumentClient, createIdFactory } from "../functions/deps.ts";
import { keys } from "../functions/store/keys.ts";
import { startDynamoDbProxy } from "../local/dynamodb-proxy.ts";
import { startStack } from "../local/stack.ts";
import { table } from "./lib/markdown.ts";
import type { Section, Target } from "./lib/report.ts";
import { count, ms, percentile, ratio } from "./lib/stats.ts";
import { benchTask, seedTasks, upstreamId, webhookBody } from "./lib/tasks.ts";

export interface ScaleOptions {
  dynamodbEndpoint: string;
  /** table sizes, ascending; each step adds tasks to the same table */
  sizes?: number[];
  /** unfinished tasks (constant across sizes) */
  unfinished?: number;
  /** sequential requests per operation and size */
  samples?: number;
  log?: (line: string) => void;
}

interface Measured {
  p50: number;
  p99: number;
  /** DynamoDB requests per operation, by kind */
  perOperation: Record<string, number>;
}

interface SizeFigures {
  size: number;
  seedSeconds: number;
  get: Measured;
  list: Measured;
  listByStatus: Measured;
  webhook: Measured;
  reconcile: Measured & { pages: number };
  rawGet: Measured;
  rawList: Measured;
  rawListByStatus: Measured;
  rawUnfinished: Measured;
  /** `evaluated` items read; `stopped` when SCAN_BUDGET_MS ran out first */
  scan: Measured & { seconds: number; items: number; evaluated: number; stopped: boolean };
}

/** The Scan reference stops after this long; its full time is then extrapolated. */
const SCAN_BUDGET_MS = 20_000;

const perOp = (counts: Record<string, number>, operations: number) =>
  Object.fromEntries(Object.entries(counts).map(([op, n]) => [op, n / operations]));

const describeOps = (ops: Record<string, number>) =>
  Object.entries(ops)
    .sort()
    .map(([op, n]) => `${Number.isInteger(n) ? n : n.toFixed(2)} ${op}`)
    .join(" + ") || "none";

/**
 * Figure 5: the same operations at growing table sizes. One table grows from the first size to
 * the last (tasks written with BatchWriteItem, items built by the store's own taskToItem); at
 * each size the API's GET, list pages and webhooks, and the reconciler, are timed through the
 * local stack and their DynamoDB requests counted by the proxy. The unfinished set stays the
 * same size throughout (its tasks are unknown upstream, so each reconciler run does the same
 * work). References in the same run: the raw SDK call each operation makes, and what a Scan for
 * unfinished tasks (the design the sparse index avoids) costs at the same size.
 */
export async function benchScale(options: ScaleOptions): Promise<Section> {
  const sizes = options.sizes ?? [1_000, 10_000, 100_000];
  const unfinishedCount = options.unfinished ?? 120;
  const samples = options.samples ?? 200;
  const tableName = `bench_scale_${randomBytes(3).toString("hex")}`;
  const apiKey = `key_scale_${randomBytes(8).toString("hex")}`;
  const secret = randomBytes(24).toString("base64url");
  const proxy = await startDynamoDbProxy(options.dynamodbEndpoint);
  const stack = await startStack({
    tableName,
    dynamodbEndpoint: proxy.endpoint,
    callbackSecret: secret,
    apiKeys: [{ owner: "alice", key: apiKey }],
    reconcileIntervalSeconds: 0,
    simulator: { stepMs: 50, seed: 9 },
  });
  const direct = createDocumentClient({ endpoint: options.dynamodbEndpoint });
  const viaProxy = createDocumentClient({ endpoint: proxy.endpoint });
  const newId = createIdFactory();
  const auth = { authorization: `Bearer ${apiKey}` };
  let upstreamSeq = 0;
  const results: SizeFigures[] = [];

  /** Times `n` sequential calls of `call`, counting the proxy's requests. */
  const measure = async (n: number, call: (i: number) => Promise<void>): Promise<Measured> => {
    const latencies: number[] = [];
    proxy.reset();
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await call(i);
      latencies.push(performance.now() - t0);
    }
    return {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      perOperation: perOp(proxy.counts(), n),
    };
  };
  /**
   * Times `n` calls of `app` and of `raw` (its reference), alternating one by one (app first on
   * even i, raw first on odd i) so that load on the machine hits both alike; counts each one's
   * requests separately.
   */
  const measurePair = async (
    n: number,
    app: (i: number) => Promise<void>,
    raw: (i: number) => Promise<void>,
  ): Promise<[Measured, Measured]> => {
    const sides = [
      { call: app, latencies: [] as number[], counts: {} as Record<string, number> },
      { call: raw, latencies: [] as number[], counts: {} as Record<string, number> },
    ];
    for (let i = 0; i < n; i++) {
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
        proxy.reset();
        const t0 = performance.now();
        await side.call(i);
        side.latencies.push(performance.now() - t0);
        for (const [op, c] of Object.entries(proxy.counts()))
          side.counts[op] = (side.counts[op] ?? 0) + c;
      }
    }
    const [a, r] = sides.map((side) => ({
      p50: percentile(side.latencies, 50),
      p99: percentile(side.latencies, 99),
      perOperation: perOp(side.counts, n),
    }));
    return [a as Measured, r as Measured];
  };
  const expectOk = async (response: Promise<Response>, status = 200) => {
    const answer = await response;
    const text = await answer.text();
    if (answer.status !== status) throw new Error(`scale: ${answer.status} ${text.slice(0, 200)}`);
  };

  try {
    // the constant unfinished set: alice's, bound to upstream ids the simulator does not know
    const unfinished = Array.from({ length: unfinishedCount }, () =>
      benchTask({
        id: newId(),
        owner: "alice",
        status: "SUBMITTED",
        upstreamTaskId: upstreamId(500_000 + upstreamSeq++),
      }),
    );
    await seedTasks(direct, tableName, unfinished);
    const aliceTasks: Task[] = [];
    let seeded = 0;
    let progress = 0;
    for (const size of sizes) {
      const t0 = performance.now();
      const batch: Task[] = [];
      for (; seeded < size; seeded++) {
        // half alice's (the list's owner: her partition grows with the table), half 20 others'
        const owner = seeded % 2 === 0 ? "alice" : `owner${seeded % 20}`;
        const task = benchTask({
          id: newId(),
          owner,
          status: "SUCCESS",
          upstreamTaskId: upstreamId(upstreamSeq++),
          createdAt: new Date(Date.now() - 86_400_000),
        });
        batch.push(task);
        if (owner === "alice") aliceTasks.push(task);
      }
      await seedTasks(direct, tableName, batch);
      const seedSeconds = (performance.now() - t0) / 1000;
      options.log?.(`scale: ${size} tasks seeded (${seedSeconds.toFixed(1)} s)`);

      const pick = (i: number) => aliceTasks[(i * 7919) % aliceTasks.length] as Task;
      /** At the first size, an unmeasured pass first: no figure pays for JIT warm-up. */
      const warmThenMeasure: typeof measurePair = async (n, app, raw) => {
        if (results.length === 0) await measurePair(Math.min(n, 30), app, raw);
        return measurePair(n, app, raw);
      };
      const rawQuery = (index: "gsi1" | "gsi2") => async () => {
        await viaProxy.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: index,
            KeyConditionExpression:
              index === "gsi1" ? "gsi1pk = :owner" : "gsi1pk = :owner AND begins_with(gsi2sk, :p)",
            ExpressionAttributeValues: {
              ":owner": keys.ownerTasks("alice"),
              ...(index === "gsi2" ? { ":p": keys.statusPrefix("SUCCESS") } : {}),
            },
            ScanIndexForward: false,
            Limit: 20,
          }),
        );
      };
      const [get, rawGet] = await warmThenMeasure(
        samples,
        (i) => expectOk(fetch(`${stack.url}/v1/tasks/${pick(i).id}`, { headers: auth })),
        async (i) => {
          await viaProxy.send(new GetCommand({ TableName: tableName, Key: keys.task(pick(i).id) }));
        },
      );
      const [list, rawList] = await warmThenMeasure(
        samples,
        () => expectOk(fetch(`${stack.url}/v1/tasks?limit=20`, { headers: auth })),
        rawQuery("gsi1"),
      );
      const [listByStatus, rawListByStatus] = await warmThenMeasure(
        samples,
        () => expectOk(fetch(`${stack.url}/v1/tasks?status=SUCCESS&limit=20`, { headers: auth })),
        rawQuery("gsi2"),
      );
      const hook = (step: number) => (i: number) => {
        const task = unfinished[i] as Task;
        return expectOk(
          fetch(`${stack.url}/hooks/midjourney`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: webhookBody({
              secret,
              taskId: task.id,
              upstreamTaskId: task.upstreamTaskId as string,
              status: "IN_PROGRESS",
              progress: step,
            }),
          }),
        );
      };
      // every webhook must move its task forward: progress 5 (warm-up), then 10, 20, 30...
      if (results.length === 0) await measure(unfinished.length, hook(5));
      progress += 10;
      const webhook = await measure(unfinished.length, hook(progress));
      let pages = 0;
      const [reconcile, rawUnfinished] = await warmThenMeasure(
        16,
        async () => {
          const report = await stack.reconcileOnce();
          if (report.checked !== unfinished.length)
            throw new Error(`scale: reconciler checked ${report.checked}`);
          pages = report.pages;
        },
        async () => {
          // the reconciler's reads alone: the unfinished index, page by page
          let start: Record<string, unknown> | undefined;
          do {
            const page = await viaProxy.send(
              new QueryCommand({
                TableName: tableName,
                IndexName: "gsi3",
                KeyConditionExpression: "gsi3pk = :u",
                ExpressionAttributeValues: { ":u": keys.unfinished() },
                ExclusiveStartKey: start,
                Limit: 50,
              }),
            );
            start = page.LastEvaluatedKey;
          } while (start);
        },
      );
      // the reference design the sparse index avoids: find unfinished tasks with a Scan
      let scanned = 0;
      let evaluated = 0;
      let stopped = false;
      const s0 = performance.now();
      const scan = await measure(1, async () => {
        let start: Record<string, unknown> | undefined;
        do {
          if (performance.now() - s0 > SCAN_BUDGET_MS) {
            stopped = true;
            break;
          }
          const page = await viaProxy.send(
            new ScanCommand({
              TableName: tableName,
              FilterExpression: "attribute_exists(gsi3pk)",
              ExclusiveStartKey: start,
              // DynamoDB Local answers InternalFailure to 1 MB Scan pages of a 100k-item table
              Limit: 2000,
            }),
          );
          scanned += page.Items?.length ?? 0;
          evaluated += page.ScannedCount ?? 0;
          start = page.LastEvaluatedKey;
        } while (start);
      });
      const scanSeconds = (performance.now() - s0) / 1000;
      results.push({
        size,
        seedSeconds,
        get,
        list,
        listByStatus,
        webhook,
        reconcile: { ...reconcile, pages },
        rawGet,
        scan: { ...scan, seconds: scanSeconds, items: scanned, evaluated, stopped },
        rawList,
        rawListByStatus,
        rawUnfinished,
      });
      options.log?.(`scale: ${size} measured`);
    }
  } finally {
    await stack.stop();
    await proxy.stop();
  }

  const first = results[0] as SizeFigures;
  const last = results.at(-1) as SizeFigures;
  const total = (size: number) => size + unfinishedCount;
  const rows: string[][] = [];
  const ops: [string, (f: SizeFigures) => Measured][] = [
    ["GET /v1/tasks/{id}", (f) => f.get],
    ["↳ reference: its raw GetItem", (f) => f.rawGet],
    ["GET /v1/tasks?limit=20 (list page)", (f) => f.list],
    ["↳ reference: its raw Query (gsi1, Limit 20)", (f) => f.rawList],
    ["GET /v1/tasks?status=SUCCESS&limit=20", (f) => f.listByStatus],
    ["↳ reference: its raw Query (gsi2, Limit 20)", (f) => f.rawListByStatus],
    [`reconciler run (${unfinishedCount} unfinished)`, (f) => f.reconcile],
    ["↳ reference: its raw Queries of gsi3 alone", (f) => f.rawUnfinished],
    ["POST /hooks/midjourney (webhook)", (f) => f.webhook],
    ["reference: a Scan for unfinished tasks", (f) => f.scan],
  ];
  for (const [name, of] of ops) {
    rows.push([
      name,
      ...results.map((f) => `${ms(of(f).p50)} / ${ms(of(f).p99)}`),
      ratio(of(last).p50 / of(first).p50),
      results.map((f) => describeOps(of(f).perOperation)).every((d, _, all) => d === all[0])
        ? describeOps(of(first).perOperation)
        : results.map((f) => describeOps(of(f).perOperation)).join(" → "),
    ]);
  }

  const sameRequests = (of: (f: SizeFigures) => Measured) =>
    results.every((f) => describeOps(of(f).perOperation) === describeOps(of(first).perOperation));
  const growth = (of: (f: SizeFigures) => Measured) => of(last).p50 / of(first).p50;
  const verdict = (
    name: string,
    of: (f: SizeFigures) => Measured,
    raw: (f: SizeFigures) => Measured,
    expected: string,
  ): Target => {
    const same = sameRequests(of);
    const relative = growth(of) / growth(raw);
    return {
      figure: `5. ${name} at ${count(total(first.size))} → ${count(total(last.size))} tasks`,
      measured: `${describeOps(of(first).perOperation)} at every size; p50 ${ratio(growth(of))} (its raw reference ${ratio(growth(raw))})`,
      target: `${expected} at every size; p50 growth ≤ 1.5× its reference's`,
      met: same && describeOps(of(first).perOperation) === expected && relative <= 1.5,
    };
  };
  const targets = [
    verdict(
      "list page",
      (f) => f.list,
      (f) => f.rawList,
      "1 Query",
    ),
    verdict(
      "list page by status",
      (f) => f.listByStatus,
      (f) => f.rawListByStatus,
      "1 Query",
    ),
    verdict(
      "reconciler run",
      (f) => f.reconcile,
      (f) => f.rawUnfinished,
      // 1 per page of unfinished tasks, 1 for expired modals, 1 for slots not yet back
      `${Math.ceil(unfinishedCount / 50) + 2} Query`,
    ),
  ];

  const markdown = [
    `Method: one table grows through ${sizes.map(count).join(", ")} seeded tasks (plus ${unfinishedCount} unfinished ones, constant), half of them alice's, so the partition her list reads grows with the table. Items come from the store's own \`taskToItem\`, written with BatchWriteItem (25 per call, 6 in flight). At each size, through the local stack and the counting proxy: ${samples} sequential GETs of random tasks of hers, ${samples} list pages (newest 20, and by status), ${unfinishedCount} webhooks (one progress step for each unfinished task), 16 reconciler runs (the upstream knows none of the unfinished tasks, so each run is the same ${Math.ceil(unfinishedCount / 50)} pages and list calls, no writes). Each operation alternates, call by call, with its reference: the raw SDK request(s) it makes, through the same proxy; the verdict compares the operation's growth with its reference's, so load on the machine cancels out. A second reference: a Scan for unfinished tasks, the design the sparse gsi3 index avoids (pages of 2,000 items, as DynamoDB Local fails on 1 MB pages at this size; stopped after ${SCAN_BUDGET_MS / 1000} s and extrapolated). Cells are p50 / p99.`,
    "",
    table(
      [
        "operation",
        ...results.map((f) => `${count(total(f.size))} tasks`),
        `p50 ${count(total(last.size))} / ${count(total(first.size))}`,
        "DynamoDB requests per operation",
      ],
      rows,
    ),
    "",
    `Seeding: ${results.map((f) => `${count(f.size - (results[results.indexOf(f) - 1]?.size ?? 0))} tasks in ${f.seedSeconds.toFixed(1)} s`).join(", ")}. The Scan reference read ${results.map((f) => `${count(f.scan.perOperation.Scan ?? 0)} pages, ${count(f.scan.evaluated)} items, in ${f.scan.seconds.toFixed(1)} s${f.scan.stopped ? ` (stopped: all ${count(total(f.size))} would take ≈ ${((f.scan.seconds * total(f.size)) / Math.max(1, f.scan.evaluated)).toFixed(0)} s)` : ""}`).join("; ")}, to find the same ${unfinishedCount} tasks the reconciler reads with ${Math.ceil(unfinishedCount / 50)} Queries.`,
  ].join("\n");
  return { title: "5. Scale", markdown, targets };
}

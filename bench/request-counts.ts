import { randomBytes } from "node:crypto";
import { startDynamoDbProxy } from "../local/dynamodb-proxy.ts";
import { startStack } from "../local/stack.ts";
import { table } from "./lib/markdown.ts";
import type { Section, Target } from "./lib/report.ts";

type Counts = Record<string, number>;

/** The fields of our API's answers this file reads. */
interface Answer {
  id?: string;
  upstreamTaskId?: string;
  nextCursor?: string | null;
}

const describe = (counts: Counts) =>
  Object.entries(counts)
    .sort()
    .map(([op, n]) => `${n} ${op}`)
    .join(" + ") || "none";

const WRITES = new Set([
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "TransactWriteItems",
  "BatchWriteItem",
]);
const READS = new Set(["GetItem", "BatchGetItem", "TransactGetItems"]);
const total = (counts: Counts, kinds: Set<string>) =>
  Object.entries(counts).reduce((n, [op, c]) => n + (kinds.has(op) ? c : 0), 0);

/**
 * Figure 3: DynamoDB requests per operation, counted by the proxy in front of DynamoDB Local
 * (local/dynamodb-proxy.ts) while the local stack serves real HTTP requests. The same counts are
 * asserted by test/e2e/dynamodb-calls.test.ts; this is their line in RESULTS.md.
 */
export async function benchRequestCounts(options: {
  dynamodbEndpoint: string;
  unfinished?: number;
}): Promise<Section> {
  const unfinished = options.unfinished ?? 120;
  const apiKey = `key_counts_${randomBytes(8).toString("hex")}`;
  const proxy = await startDynamoDbProxy(options.dynamodbEndpoint);
  const start = () =>
    startStack({
      tableName: `bench_counts_${randomBytes(3).toString("hex")}`,
      dynamodbEndpoint: proxy.endpoint,
      callbackSecret: randomBytes(24).toString("base64url"),
      apiKeys: [{ owner: "alice", key: apiKey }],
      reconcileIntervalSeconds: 0,
      simulator: { stepMs: 15, seed: 8 },
    });
  const stack = await start();
  const reconcilerStack = await start();
  const call = (s: { url: string }, method: string, path: string, body?: unknown, headers = {}) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Answer }));
  /** The requests `action` made, once the simulator has nothing in flight. */
  const counted = async <T>(s: typeof stack, action: () => Promise<T>): Promise<[Counts, T]> => {
    await s.simulator?.idle();
    proxy.reset();
    const result = await action();
    return [proxy.counts(), result];
  };

  const rows: { operation: string; counts: Counts; expected: string; met: boolean }[] = [];
  const record = (operation: string, counts: Counts, expected: string, met: boolean) =>
    rows.push({ operation, counts, expected, met });
  try {
    const [submitCounts, submitted] = await counted(stack, () =>
      call(stack, "POST", "/v1/imagine", { prompt: "a counted boat --sim-drop-hooks" }),
    );
    if (submitted.status !== 202) throw new Error(`counts: submit ${submitted.status}`);
    record(
      "submit, no Idempotency-Key",
      submitCounts,
      "≤ 3 writes, 0 reads",
      total(submitCounts, WRITES) <= 3 && total(submitCounts, READS) === 0 && !submitCounts.Query,
    );

    const key = { "idempotency-key": `counts-${randomBytes(4).toString("hex")}` };
    const body = { prompt: "an idempotent counted boat --sim-drop-hooks" };
    const [keyedCounts, keyed] = await counted(stack, () =>
      call(stack, "POST", "/v1/imagine", body, key),
    );
    record(
      "submit with Idempotency-Key",
      keyedCounts,
      "≤ 3 writes, 0 reads",
      total(keyedCounts, WRITES) <= 3 && total(keyedCounts, READS) === 0 && !keyedCounts.Query,
    );
    const [replayCounts] = await counted(stack, () =>
      call(stack, "POST", "/v1/imagine", body, key),
    );
    record(
      "its retry (same key), replayed",
      replayCounts,
      "1 write, 0 reads",
      describe(replayCounts) === "1 TransactWriteItems",
    );

    await stack.simulator?.idle();
    const truth = stack.simulator?.tasks().find((t) => t.id === submitted.body.upstreamTaskId);
    const hook = () =>
      fetch(`${stack.url}/hooks/midjourney`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(truth),
      }).then((r) => r.json());
    const [hookCounts, applied] = await counted(stack, hook);
    if ((applied as { result?: string }).result !== "applied")
      throw new Error("counts: webhook not applied");
    record(
      "webhook (applies)",
      hookCounts,
      "1 UpdateItem",
      describe(hookCounts) === "1 UpdateItem",
    );
    const [dupCounts] = await counted(stack, hook);
    record(
      "webhook (duplicate, stale)",
      dupCounts,
      "1 UpdateItem",
      describe(dupCounts) === "1 UpdateItem",
    );

    const [getCounts] = await counted(stack, () =>
      call(stack, "GET", `/v1/tasks/${submitted.body.id}`),
    );
    record(
      "GET /v1/tasks/{id}, a finished task (SUCCESS, 9 buttons)",
      getCounts,
      "1 GetItem",
      describe(getCounts) === "1 GetItem",
    );
    const [getOpenCounts] = await counted(stack, () =>
      call(stack, "GET", `/v1/tasks/${keyed.body.id}`),
    );
    record(
      "GET /v1/tasks/{id}, an unfinished task",
      getOpenCounts,
      "1 GetItem",
      describe(getOpenCounts) === "1 GetItem",
    );
    const [listCounts, page] = await counted(stack, () => call(stack, "GET", "/v1/tasks?limit=1"));
    record("list page", listCounts, "1 Query", describe(listCounts) === "1 Query");
    const [nextCounts] = await counted(stack, () =>
      call(stack, "GET", `/v1/tasks?limit=1&cursor=${page.body.nextCursor}`),
    );
    record("list, next page (cursor)", nextCounts, "1 Query", describe(nextCounts) === "1 Query");
    const [statusCounts] = await counted(stack, () =>
      call(stack, "GET", "/v1/tasks?status=SUCCESS"),
    );
    record("list page by status", statusCounts, "1 Query", describe(statusCounts) === "1 Query");

    let next = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < unfinished) {
          const i = next++;
          await call(reconcilerStack, "POST", "/v1/imagine", {
            prompt: `a lost counted boat ${i} --sim-drop-hooks`,
          });
        }
      }),
    );
    const pages = Math.ceil(unfinished / 50);
    const [runCounts, report] = await counted(reconcilerStack, () =>
      reconcilerStack.reconcileOnce(),
    );
    record(
      `reconciler run, ${unfinished} unfinished tasks (batch 50)`,
      runCounts,
      `${pages} Query (1 per page), no Scan, 1 UpdateItem per changed task`,
      runCounts.Query === pages &&
        !runCounts.Scan &&
        runCounts.UpdateItem === report.applied &&
        !runCounts.GetItem,
    );
    const [idleCounts] = await counted(reconcilerStack, () => reconcilerStack.reconcileOnce());
    record(
      "reconciler run, nothing unfinished",
      idleCounts,
      "1 Query",
      describe(idleCounts) === "1 Query",
    );
  } finally {
    await reconcilerStack.stop();
    await stack.stop();
    await proxy.stop();
  }

  const targets: Target[] = rows.map((r) => ({
    figure: `3. requests: ${r.operation}`,
    measured: describe(r.counts),
    target: r.expected,
    met: r.met,
  }));
  const markdown = [
    "Method: the local stack behind the counting proxy (local/dynamodb-proxy.ts counts every request by its `X-Amz-Target`), driven over real HTTP; each count starts once the simulator is idle (prompts carry `--sim-drop-hooks`, and webhooks are POSTed by hand with the simulator's own task JSON), so nothing else is in flight. The reconciler runs on a table of its own. test/e2e/dynamodb-calls.test.ts asserts the same counts.",
    "",
    table(
      ["operation", "DynamoDB requests", "target", "met"],
      rows.map((r) => [r.operation, describe(r.counts), r.expected, r.met ? "yes" : "**no**"]),
    ),
  ].join("\n");
  return { title: "3. DynamoDB requests per operation", markdown, targets };
}

import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startDynamoDbProxy } from "../local/dynamodb-proxy.ts";
import { startStack } from "../local/stack.ts";
import { table } from "./lib/markdown.ts";
import type { Section, Target } from "./lib/report.ts";

type Counts = Record<string, number>;

/** The fields of our API's answers this file reads. */
interface Answer {
  id?: string;
  key?: string;
  status?: string;
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
  const call = (
    s: { url: string },
    method: string,
    path: string,
    body?: unknown,
    headers = {},
    key = apiKey,
  ) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
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
      "webhook (applies, finishes the task)",
      hookCounts,
      "1 UpdateItem + 1 TransactWriteItems (the SUCCESS, its slot back)",
      describe(hookCounts) === "1 TransactWriteItems + 1 UpdateItem",
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

    // Issue 16's routes; the exact counts are asserted by test/e2e/dynamodb-calls.test.ts and
    // test/e2e/api-keys.test.ts
    const owner = `counted-${randomBytes(3).toString("hex")}`;
    const admin = (method: string, path: string, body?: unknown) =>
      call(stack, method, path, body, {}, stack.adminKey);
    const [createCounts, created] = await counted(stack, () =>
      admin("POST", "/v1/admin/keys", { owner }),
    );
    if (created.status !== 201 || !created.body.key)
      throw new Error(`counts: admin key ${created.status}`);
    record(
      "admin: POST /v1/admin/keys",
      createCounts,
      "≤ 1 write, 0 reads",
      total(createCounts, WRITES) <= 1 && total(createCounts, READS) === 0 && !createCounts.Query,
    );
    const tableKey = created.body.key;
    const [firstKeyCounts] = await counted(stack, () =>
      call(stack, "GET", "/v1/tasks?limit=1", undefined, {}, tableKey),
    );
    record(
      "list page, table key's first use (lookup + lastUsedAt)",
      firstKeyCounts,
      "1 GetItem + 1 UpdateItem + 1 Query",
      describe(firstKeyCounts) === "1 GetItem + 1 Query + 1 UpdateItem",
    );
    const [cachedKeyCounts] = await counted(stack, () =>
      call(stack, "GET", "/v1/tasks?limit=1", undefined, {}, tableKey),
    );
    record(
      "list page, table key cached",
      cachedKeyCounts,
      "1 Query (no key lookup)",
      describe(cachedKeyCounts) === "1 Query",
    );
    const limited = await admin("PUT", `/v1/admin/owners/${owner}/limits`, {
      concurrent: 5,
      perDay: 100,
    });
    if (limited.status !== 200) throw new Error(`counts: limits ${limited.status}`);
    // the write function's container looks the table key up on its first use: out of the count
    await call(
      stack,
      "POST",
      "/v1/imagine",
      { prompt: "a limited warm-up boat --sim-drop-hooks" },
      {},
      tableKey,
    );
    const [limitedCounts, limitedTask] = await counted(stack, () =>
      call(
        stack,
        "POST",
        "/v1/imagine",
        { prompt: "a limited counted boat --sim-drop-hooks" },
        {},
        tableKey,
      ),
    );
    if (limitedTask.status !== 202) throw new Error(`counts: limited ${limitedTask.status}`);
    record(
      "submit, owner with limits (issue 16)",
      limitedCounts,
      "≤ 1 TransactWriteItems + 1 UpdateItem",
      (limitedCounts.TransactWriteItems ?? 0) <= 1 &&
        (limitedCounts.UpdateItem ?? 0) <= 1 &&
        total(limitedCounts, WRITES) <=
          (limitedCounts.TransactWriteItems ?? 0) + (limitedCounts.UpdateItem ?? 0) &&
        total(limitedCounts, READS) === 0 &&
        !limitedCounts.Query,
    );
    await stack.simulator?.idle();
    const limitedTruth = stack.simulator
      ?.tasks()
      .find((t) => t.id === limitedTask.body.upstreamTaskId);
    const [limitedHookCounts, limitedApplied] = await counted(stack, () =>
      fetch(`${stack.url}/hooks/midjourney`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(limitedTruth),
      }).then((r) => r.json()),
    );
    if ((limitedApplied as { result?: string }).result !== "applied")
      throw new Error("counts: limited webhook not applied");
    record(
      "webhook finishing a task, SUCCESS (issue 16)",
      limitedHookCounts,
      "≤ 2 writes (the task, slot + usage), 0 reads",
      total(limitedHookCounts, WRITES) <= 2 &&
        total(limitedHookCounts, READS) === 0 &&
        !limitedHookCounts.Query,
    );

    const failing = await call(stack, "POST", "/v1/imagine", {
      prompt: "a failing counted boat --sim-fail --sim-drop-hooks",
    });
    await stack.simulator?.idle();
    const failedTruth = stack.simulator?.tasks().find((t) => t.id === failing.body.upstreamTaskId);
    const [failCounts, failApplied] = await counted(stack, () =>
      fetch(`${stack.url}/hooks/midjourney`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(failedTruth),
      }).then((r) => r.json()),
    );
    if ((failApplied as { result?: string }).result !== "applied")
      throw new Error("counts: failing webhook not applied");
    record(
      "webhook finishing a task, FAILURE (issue 16)",
      failCounts,
      "≤ 2 writes (the task, slot + failure count), 0 reads",
      total(failCounts, WRITES) <= 2 && total(failCounts, READS) === 0 && !failCounts.Query,
    );

    const toCancel = await call(stack, "POST", "/v1/imagine", {
      prompt: "a cancelled counted boat --sim-drop-hooks",
    });
    const [cancelCounts, cancelled] = await counted(stack, () =>
      call(stack, "POST", `/v1/tasks/${toCancel.body.id}/cancel`),
    );
    if (cancelled.status !== 202) throw new Error(`counts: cancel ${cancelled.status}`);
    record(
      "POST /v1/tasks/{id}/cancel",
      cancelCounts,
      "1 GetItem + 1 UpdateItem + 1 TransactWriteItems (the CANCEL, its slot)",
      describe(cancelCounts) === "1 GetItem + 1 TransactWriteItems + 1 UpdateItem",
    );
    const [usageCounts, usage] = await counted(stack, () => call(stack, "GET", "/v1/usage"));
    if (usage.status !== 200) throw new Error(`counts: usage ${usage.status}`);
    record("GET /v1/usage", usageCounts, "1 Query", describe(usageCounts) === "1 Query");
    const [healthCounts, health] = await counted(stack, () => fetch(`${stack.url}/health`));
    if (health.status !== 200) throw new Error(`counts: health ${health.status}`);
    record("GET /health", healthCounts, "1 Query", describe(healthCounts) === "1 Query");

    const receiver = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(204).end());
    });
    await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
    try {
      const port = (receiver.address() as AddressInfo).port;
      await stack.dispatchOnce(); // whatever the scenarios above queued, out of the counts
      const [endpointCounts, endpoint] = await counted(stack, () =>
        call(stack, "POST", "/v1/webhook-endpoints", { url: `http://127.0.0.1:${port}/hook` }),
      );
      if (endpoint.status !== 201) throw new Error(`counts: endpoint ${endpoint.status}`);
      record(
        "POST /v1/webhook-endpoints",
        endpointCounts,
        "≤ 1 write",
        total(endpointCounts, WRITES) <= 1,
      );
      const hooked = await call(stack, "POST", "/v1/imagine", {
        prompt: "a boat for an endpoint --sim-drop-hooks",
      });
      await stack.dispatchOnce();
      await stack.simulator?.idle();
      const hookedTruth = stack.simulator?.tasks().find((t) => t.id === hooked.body.upstreamTaskId);
      await fetch(`${stack.url}/hooks/midjourney`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(hookedTruth),
      }).then((r) => r.json());
      const [dispatchCounts, report] = await counted(stack, () => stack.dispatchOnce());
      record(
        `dispatchOnce, one event to an endpoint (delivered: ${report.delivered})`,
        dispatchCounts,
        "2 Query, 1 TransactWriteItems, 1 GetItem, 2 UpdateItem",
        report.delivered === 1 &&
          describe(dispatchCounts) === "1 GetItem + 2 Query + 1 TransactWriteItems + 2 UpdateItem",
      );
      const [idleDispatch] = await counted(stack, () => stack.dispatchOnce());
      record("dispatchOnce, idle", idleDispatch, "1 Query", describe(idleDispatch) === "1 Query");
    } finally {
      receiver.close();
      receiver.closeAllConnections();
    }

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
      `${pages + 2} Query (1 per page, 1 for expired modals, 1 for slots not yet back), no Scan, 1 UpdateItem + 1 TransactWriteItems per changed task (the SUCCESS, its slot back)`,
      runCounts.Query === pages + 2 &&
        !runCounts.Scan &&
        runCounts.UpdateItem === report.applied &&
        runCounts.TransactWriteItems === report.applied &&
        !runCounts.GetItem,
    );
    const [idleCounts] = await counted(reconcilerStack, () => reconcilerStack.reconcileOnce());
    record(
      "reconciler run, nothing unfinished",
      idleCounts,
      "3 Query (the first page, the modals, the slots not yet back)",
      describe(idleCounts) === "3 Query",
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

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUpstreamClient, UpstreamReadError } from "../../functions/upstream/client.ts";
import { serveOverHttp } from "../serve.ts";

/** `GET /mj/task/{id}/image-seed` against canned answers of the upstream family (docs/upstreams.md §5). */
type Canned = { status: number; body?: string };
const queue: Canned[] = [];
const paths: string[] = [];
let server: Awaited<ReturnType<typeof serveOverHttp>>;

beforeAll(async () => {
  server = await serveOverHttp(async (request) => {
    paths.push(new URL(request.url).pathname);
    const next = queue.shift() ?? { status: 500, body: "no canned answer" };
    return new Response(next.status === 204 ? null : (next.body ?? ""), { status: next.status });
  });
});
afterAll(() => server.close());

const client = () =>
  createUpstreamClient({
    baseUrl: server.url,
    apiKey: "k",
    timeoutMs: 300,
    retryBaseMs: 1,
    retryCapMs: 5,
  });
const json = (value: unknown) => JSON.stringify(value);

describe("image-seed", () => {
  it.each<[string, Canned[], unknown]>([
    [
      "TA's answer",
      [{ status: 200, body: json({ code: 1, description: "成功", result: "3161126812" }) }],
      { kind: "seed", seed: "3161126812" },
    ],
    [
      "a numeric seed",
      [{ status: 200, body: json({ code: 1, description: "ok", result: 42 }) }],
      { kind: "seed", seed: "42" },
    ],
    [
      "404 code 3 (unknown task)",
      [{ status: 404, body: json({ code: 3, description: "关联任务不存在或已失效" }) }],
      { kind: "refused", reason: "关联任务不存在或已失效" },
    ],
    [
      "400 code 4 (not finished)",
      [{ status: 400, body: json({ code: 4, description: "关联任务状态错误" }) }],
      { kind: "refused", reason: "关联任务状态错误" },
    ],
    [
      "a gateway's 400",
      [{ status: 400, body: json({ description: "task_no_found ", type: "upstream_error" }) }],
      { kind: "refused", reason: "task_no_found" },
    ],
    ["204 (TA, unknown)", [{ status: 204 }], { kind: "refused", reason: "no seed (HTTP 204)" }],
    [
      "a 5xx, then the seed (retried)",
      [
        { status: 503, body: "busy" },
        { status: 200, body: json({ code: 1, result: "7" }) },
      ],
      { kind: "seed", seed: "7" },
    ],
  ])("%s", async (_name, answers, outcome) => {
    queue.splice(0, queue.length, ...answers);
    expect(await client().imageSeed("1748339029401828")).toEqual(outcome);
    expect(paths.at(-1)).toBe("/mj/task/1748339029401828/image-seed");
  });

  it.each<[string, Canned[]]>([
    ["garbage", [{ status: 200, body: "<html>Bad gateway</html>" }]],
    ["bad credentials", [{ status: 401, body: json({ error: { message: "Invalid API key" } }) }]],
    [
      "5xx every time",
      [
        { status: 500, body: "" },
        { status: 502, body: "" },
        { status: 503, body: "" },
      ],
    ],
  ])("throws UpstreamReadError for %s", async (_name, answers) => {
    queue.splice(0, queue.length, ...answers);
    await expect(client().imageSeed("1")).rejects.toBeInstanceOf(UpstreamReadError);
  });
});

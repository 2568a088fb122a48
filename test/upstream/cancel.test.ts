import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CancelOutcome, createUpstreamClient } from "../../functions/upstream/client.ts";
import { serveOverHttp } from "../serve.ts";

/**
 * `POST /mj/task/{id}/cancel` against canned answers of each host, over real HTTP:
 * - trueai-org/midjourney-proxy, src/Midjourney.API/Controllers/TaskController.cs (`Cancel`):
 *   an empty 200 whatever the id; a guest gets 400 with "演示模式，禁止操作".
 * - QuantumNous/new-api has no such route (router/relay-router.go) and answers unknown paths with
 *   its web page, 200 text/html (router/web-router.go, NoRoute).
 * - novicezk/midjourney-proxy has none either (controller/TaskController.java): Spring's 404.
 */
type Canned = { status: number; body?: string; type?: string };
const queue: Canned[] = [];
const seen: { method: string; path: string; body: string }[] = [];
let server: Awaited<ReturnType<typeof serveOverHttp>>;

beforeAll(async () => {
  server = await serveOverHttp(async (request) => {
    seen.push({
      method: request.method,
      path: new URL(request.url).pathname,
      body: await request.text(),
    });
    const next = queue.shift() ?? { status: 500, body: "no canned answer" };
    return new Response(next.body ?? null, {
      status: next.status,
      headers: next.type ? { "content-type": next.type } : {},
    });
  });
});
afterAll(() => server.close());

const client = (baseUrl = server.url) =>
  createUpstreamClient({ baseUrl, apiKey: "k", timeoutMs: 300 });

describe("cancel", () => {
  it.each<[string, Canned, CancelOutcome]>([
    ["trueai: an empty 200", { status: 200 }, { kind: "cancelled" }],
    [
      "trueai: a guest's 400",
      { status: 400, body: JSON.stringify("演示模式，禁止操作"), type: "application/json" },
      { kind: "failed", reason: "HTTP 400: 演示模式，禁止操作" },
    ],
    [
      "new-api: its web page",
      { status: 200, body: "<!doctype html><html></html>", type: "text/html; charset=utf-8" },
      { kind: "unsupported" },
    ],
    [
      "novicezk: Spring's 404",
      { status: 404, body: JSON.stringify({ status: 404, error: "Not Found" }) },
      { kind: "unsupported" },
    ],
    ["a 405", { status: 405 }, { kind: "unsupported" }],
    ["a 5xx", { status: 502, body: "bad gateway" }, { kind: "failed", reason: "HTTP 502" }],
  ])("%s", async (_name, answer, outcome) => {
    queue.push(answer);
    seen.length = 0;
    expect(await client().cancel("1748339029401828")).toEqual(outcome);
    // one attempt, a POST without a body, on trueai's path
    expect(seen).toEqual([{ method: "POST", path: "/mj/task/1748339029401828/cancel", body: "" }]);
  });

  // trueai-org/midjourney-proxy, src/Midjourney.API/Controllers/TaskController.cs routes its
  // task calls, cancel among them, under mj/task and mj-fast|mj-turbo|mj-relax/mj/task
  it("cancels a job under its mode's prefix, as its polls are", async () => {
    queue.push({ status: 200 });
    seen.length = 0;
    expect(await client().cancel("1748339029401828", "relax")).toEqual({ kind: "cancelled" });
    expect(seen.map((s) => s.path)).toEqual(["/mj-relax/mj/task/1748339029401828/cancel"]);
  });

  it("an upstream that cannot be reached is a failed cancel, not an error", async () => {
    expect(await client("http://127.0.0.1:9").cancel("1")).toEqual({
      kind: "failed",
      reason: "the upstream could not be reached",
    });
  });
});

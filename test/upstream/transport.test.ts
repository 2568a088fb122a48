import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUpstreamClient } from "../../functions/upstream/client.ts";
import { nodeTransport } from "../../functions/upstream/transport.ts";

/**
 * The upstream client sends its requests over node:http (functions/upstream/transport.ts), not
 * fetch, to keep undici's start-up out of cold starts. What the client relies on must behave as
 * with fetch: the same answers read the same way, a timeout is a timeout, a refused connection
 * is "nothing sent", a redirect is not followed. Each case runs against a raw node:http server
 * on 127.0.0.1, so the answers can be as odd as real hosts' (compressed though not asked for,
 * a byte order mark, cut mid-body).
 */
type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;
let handler: Handler = (_q, s) => s.end();
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => handler(request, response, body));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
);

const post = (body: string, signal?: AbortSignal) => ({
  method: "POST",
  headers: { "content-type": "application/json", authorization: "Bearer k" },
  body,
  signal,
  redirect: "error" as const,
});

describe("the upstream's HTTP transport answers as fetch does", () => {
  it("sends the method, headers and body, and reads status, headers and text like fetch", async () => {
    const seen: { method?: string; auth?: string; length?: string; body: string }[] = [];
    handler = (request, response, body) => {
      seen.push({
        method: request.method,
        auth: request.headers.authorization,
        length: request.headers["content-length"],
        body,
      });
      response.writeHead(429, { "retry-after": "7", "content-type": "application/json" });
      response.end(JSON.stringify({ code: 23, description: "队列已满，请稍后尝试" }));
    };
    const body = JSON.stringify({ prompt: "un bateau en papier, 紙の船" });
    const ours = await nodeTransport(`${url}/mj/submit/imagine`, post(body));
    const theirs = await fetch(`${url}/mj/submit/imagine`, post(body));
    expect(ours.status).toBe(theirs.status);
    expect(ours.headers.get("Retry-After")).toBe(theirs.headers.get("retry-after"));
    expect(ours.headers.get("x-absent")).toBe(theirs.headers.get("x-absent"));
    expect(await ours.text()).toBe(await theirs.text());
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[0]).toMatchObject({ body, length: String(Buffer.byteLength(body)) });
  });

  it.each([
    ["gzip", gzipSync],
    ["deflate", deflateSync],
    ["br", brotliCompressSync],
  ] as const)("decodes a body the host compressed (%s) though nobody asked", async (name, zip) => {
    const text = JSON.stringify({ code: 1, result: "1748339029401828" });
    handler = (_q, response) => {
      response.writeHead(200, { "content-encoding": name });
      response.end(zip(Buffer.from(text)));
    };
    expect(await (await nodeTransport(`${url}/x`, post("{}"))).text()).toBe(text);
  });

  it("drops a UTF-8 byte order mark, as fetch's text() does", async () => {
    handler = (_q, response) => response.end(`\uFEFF{"code":1}`);
    const ours = await (await nodeTransport(`${url}/x`, post("{}"))).text();
    const theirs = await (await fetch(`${url}/x`, post("{}"))).text();
    expect(ours).toBe(theirs);
    expect(JSON.parse(ours)).toEqual({ code: 1 });
  });

  it("rejects with the signal's TimeoutError when the answer is too slow", async () => {
    handler = (_q, response) => setTimeout(() => response.end("{}"), 2_000).unref();
    const error = await nodeTransport(`${url}/x`, post("{}", AbortSignal.timeout(100))).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.name).toBe("TimeoutError");
  });

  it("rejects with the TimeoutError when the body stalls after the headers", async () => {
    handler = (_q, response) => {
      response.writeHead(200, { "content-length": "100" });
      response.write('{"code":');
    };
    const answer = await nodeTransport(`${url}/x`, post("{}", AbortSignal.timeout(150)));
    const error = await answer.text().then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.name).toBe("TimeoutError");
  });

  it("fails, rather than giving half a body, when the host cuts the connection mid-answer", async () => {
    handler = (_q, response) => {
      response.writeHead(200, { "content-length": "100" });
      response.write('{"code":1,', () => response.socket?.destroy());
    };
    const answer = await nodeTransport(`${url}/x`, post("{}"));
    await expect(answer.text()).rejects.toThrow();
  });

  it("keeps the socket error's code for a refused connection (nothing was sent)", async () => {
    const error = (await nodeTransport("http://127.0.0.1:1/x", post("{}")).then(
      () => null,
      (e: unknown) => e,
    )) as { code?: string } | null;
    expect(error?.code).toBe("ECONNREFUSED");
  });

  it("does not follow a redirect: the request fails, as fetch's redirect: 'error'", async () => {
    handler = (_q, response) => {
      response.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" });
      response.end();
    };
    await expect(nodeTransport(`${url}/x`, post("{}"))).rejects.toThrow(TypeError);
    await expect(fetch(`${url}/x`, post("{}"))).rejects.toThrow(TypeError);
  });
});

describe("the upstream client over it", () => {
  const client = () =>
    createUpstreamClient({ baseUrl: url, apiKey: "k", timeoutMs: 200, readAttempts: 1 });

  it("a submit the host redirects is unavailable, and the redirect is not followed", async () => {
    let hits = 0;
    handler = (_q, response) => {
      hits++;
      response.writeHead(307, { location: `${url}/elsewhere` });
      response.end();
    };
    expect(await client().submit("imagine", { prompt: "p" })).toEqual({
      kind: "unavailable",
      reason: "the upstream could not be reached",
    });
    expect(hits).toBe(1);
  });

  it("a submit whose answer never comes is unavailable after the timeout, not started", async () => {
    handler = () => {};
    expect(await client().submit("imagine", { prompt: "p" })).toEqual({
      kind: "unavailable",
      reason: "no answer within 200 ms",
    });
  });

  it("reads a gzip-compressed task answer", async () => {
    handler = (_q, response) => {
      response.writeHead(200, { "content-encoding": "gzip", "content-type": "application/json" });
      response.end(
        gzipSync(JSON.stringify({ id: "1748339029401828", status: "SUCCESS", progress: "100%" })),
      );
    };
    expect(await client().fetchTask("1748339029401828")).toMatchObject({
      id: "1748339029401828",
      status: "SUCCESS",
      progress: 100,
    });
  });
});

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStateToken } from "../../functions/core/state-token.ts";
import { freePort } from "../../local/dynamodb.ts";
import { api, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * Sources that go wrong, through the real stack: a task's SUCCESS webhook (sent by hand with a
 * valid state) names a URL of a misbehaving server on 127.0.0.1; the copier records why each
 * attempt failed, retries a bounded number of times, gives up, and the task keeps its upstream
 * URL throughout.
 */

const callbackSecret = "image-failures-callback-secret-0123";
const MAX_BYTES = 64 * 1024;
const TIMEOUT_MS = 400;
const PNG_BYTES = PNG.sync.write(new PNG({ width: 8, height: 8 }));

let sources: Server;
let sourceUrl: string;
const hits = new Map<string, number>();
let flakyFailures = 0;

function startSources(): Promise<void> {
  sources = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    switch (path) {
      case "/ok.png":
        res.writeHead(200, { "content-type": "image/png" }).end(PNG_BYTES);
        return;
      case "/page.html":
        res.writeHead(200, { "content-type": "text/html" }).end("<html>expired</html>");
        return;
      case "/liar.png":
        // says PNG, is not
        res.writeHead(200, { "content-type": "image/png" }).end("GIF? no: just text");
        return;
      case "/huge-declared.png":
        res.writeHead(200, {
          "content-type": "image/png",
          "content-length": String(MAX_BYTES * 10),
        });
        res.write(PNG_BYTES);
        // never sends the rest: the declared length alone must stop the download
        setTimeout(() => res.destroy(), 2000);
        return;
      case "/huge-streamed.png": {
        res.writeHead(200, { "content-type": "image/png" });
        res.write(PNG_BYTES);
        const chunk = Buffer.alloc(16 * 1024);
        let sent = 0;
        const more = () => {
          if (sent++ > 64 || res.destroyed) return res.end();
          res.write(chunk, () => setImmediate(more));
        };
        more();
        return;
      }
      case "/slow.png": {
        res.writeHead(200, { "content-type": "image/png" });
        res.write(PNG_BYTES.subarray(0, 8));
        let dripped = 0;
        const drip = setInterval(() => {
          if (res.destroyed || dripped++ > 40) {
            clearInterval(drip);
            res.end();
            return;
          }
          res.write(Buffer.from([0]));
        }, 100);
        return;
      }
      case "/gone.png":
        res.writeHead(404).end();
        return;
      case "/flaky.png":
        if (flakyFailures++ < 1) res.writeHead(503).end();
        else res.writeHead(200, { "content-type": "image/png" }).end(PNG_BYTES);
        return;
      default:
        res.writeHead(404).end();
    }
  });
  return new Promise((ok) =>
    sources.listen(0, "127.0.0.1", () => {
      sourceUrl = `http://127.0.0.1:${(sources.address() as AddressInfo).port}`;
      ok();
    }),
  );
}

beforeAll(startSources);
afterAll(
  () =>
    new Promise<void>((ok) => {
      sources.close(() => ok());
      sources.closeAllConnections();
    }),
);

/** A task whose SUCCESS webhook (sent by hand, with a valid state) names `imageUrl`. */
async function succeedWith(target: TestStack, imageUrl: string): Promise<string> {
  const client = api(target, OWNERS.alice.key);
  const submitted = await client.imagine({ prompt: "a boat with a bad source --sim-drop-hooks" });
  expect(submitted.status).toBe(202);
  await target.simulator?.idle();
  const hook = await fetch(`${target.url}/hooks/midjourney`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      id: submitted.body.upstreamTaskId,
      action: "IMAGINE",
      status: "SUCCESS",
      progress: "100%",
      imageUrl,
      state: createStateToken(callbackSecret, submitted.body.id),
    }),
  });
  expect(await hook.json()).toEqual({ result: "applied" });
  return submitted.body.id;
}

const read = async (target: TestStack, id: string) =>
  (await api(target, OWNERS.alice.key).task(id)).body;

describe("a source that fails, retried a bounded number of times", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      callbackSecret,
      images: { maxBytes: MAX_BYTES, fetchTimeoutMs: TIMEOUT_MS, maxAttempts: 3, retrySeconds: 0 },
    });
  });
  afterAll(() => stack?.stop());

  it("records each reason, gives up after 3 attempts, and keeps the upstream URL", async () => {
    const closedPort = await freePort();
    const cases = [
      ["/page.html", /^not_an_image: the source sent text\/html/],
      ["/liar.png", /^not_an_image: the file's bytes are not a PNG, JPEG, GIF or WebP image/],
      ["/huge-declared.png", /^too_large: the file is 655360 bytes, more than 65536/],
      ["/huge-streamed.png", /^too_large: the file is larger than 65536 bytes/],
      ["/slow.png", /^timeout: no complete file within 400 ms/],
      ["/gone.png", /^bad_status: the source answered HTTP 404/],
    ] as const;
    const tasks = [];
    for (const [path, reason] of cases) {
      tasks.push({ path, reason, url: `${sourceUrl}${path}` });
    }
    const unreachable = `http://127.0.0.1:${closedPort}/nobody-home.png`;
    const ids = await Promise.all([
      ...tasks.map((t) => succeedWith(stack, t.url)),
      succeedWith(stack, unreachable),
    ]);

    const first = await stack.copyImagesOnce();
    expect(first).toMatchObject({ copied: 0, retrying: 7, failed: 0 });
    for (const [i, t] of tasks.entries()) {
      const task = await read(stack, ids[i] as string);
      // still pending (retrying), with why the attempt failed, and the upstream URL as it was
      expect(task, t.path).toMatchObject({
        status: "SUCCESS",
        imagesStatus: "pending",
        images: [],
      });
      expect(task.imagesError).toMatch(t.reason);
      expect(task.imageUrl).toBe(t.url);
    }
    const lost = await read(stack, ids[6] as string);
    expect(lost.imagesError).toMatch(/^unreachable: ECONNREFUSED/);

    expect(await stack.copyImagesOnce()).toMatchObject({ retrying: 7, failed: 0 });
    expect(await stack.copyImagesOnce()).toMatchObject({ retrying: 0, failed: 7 });
    for (const [i, t] of tasks.entries()) {
      const task = await read(stack, ids[i] as string);
      expect(task, t.path).toMatchObject({ status: "SUCCESS", imagesStatus: "failed", images: [] });
      expect(task.imagesError).toMatch(t.reason);
      expect(task.imageUrl).toBe(t.url);
      expect(hits.get(t.path), t.path).toBe(3);
    }

    // given up: later runs leave them alone
    expect(await stack.copyImagesOnce()).toMatchObject({ retrying: 0, failed: 0, copied: 0 });
    for (const t of tasks) expect(hits.get(t.path), t.path).toBe(3);
  });

  it("copies on a later attempt once the source recovers, clearing the error", async () => {
    const id = await succeedWith(stack, `${sourceUrl}/flaky.png`);
    await stack.copyImagesOnce();
    expect(await read(stack, id)).toMatchObject({
      imagesStatus: "pending",
      imagesError: "bad_status: the source answered HTTP 503",
    });
    await stack.copyImagesOnce();
    const task = await read(stack, id);
    expect(task).toMatchObject({ imagesStatus: "done", imagesError: null });
    expect(task.images.map((i: { name: string }) => i.name)).toEqual([
      "grid.png",
      "quadrant-1.png",
      "quadrant-2.png",
      "quadrant-3.png",
      "quadrant-4.png",
      "thumbnail.webp",
    ]);
    expect(task.images[1]).toMatchObject({ width: 4, height: 4 });
  });
});

describe("backoff", () => {
  it("does not retry before the wait is over", async () => {
    const stack = await startTestStack({
      callbackSecret,
      images: { maxAttempts: 3, retrySeconds: 60 },
    });
    try {
      hits.delete("/gone.png");
      const id = await succeedWith(stack, `${sourceUrl}/gone.png`);
      expect(await stack.copyImagesOnce()).toMatchObject({ retrying: 1 });
      expect(await stack.copyImagesOnce()).toMatchObject({ retrying: 0, failed: 0 });
      expect(hits.get("/gone.png")).toBe(1);
      expect(await read(stack, id)).toMatchObject({ imagesStatus: "pending" });
    } finally {
      await stack.stop();
    }
  });
});

describe("our own storage failing", () => {
  it("spends no attempt: the task stays due, with no error recorded, and is copied later", async () => {
    const dir = await mkdtemp(join(tmpdir(), "paperboat-broken-"));
    const blocked = join(dir, "images");
    // a file where the image folder should be: every write fails
    await writeFile(blocked, "not a folder");
    const stack = await startTestStack({
      callbackSecret,
      images: { dir: blocked, maxAttempts: 1, retrySeconds: 0 },
    });
    try {
      const id = await succeedWith(stack, `${sourceUrl}/ok.png`);
      expect(await stack.copyImagesOnce()).toMatchObject({ storageErrors: 1, failed: 0 });
      expect(await stack.copyImagesOnce()).toMatchObject({ storageErrors: 1, failed: 0 });
      expect(await read(stack, id)).toMatchObject({ imagesStatus: "pending", imagesError: null });
      await rm(blocked);
      expect(await stack.copyImagesOnce()).toMatchObject({ copied: 1 });
      expect((await read(stack, id)).imagesStatus).toBe("done");
    } finally {
      await stack.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the address guard (ALLOW_PRIVATE_IMAGE_SOURCES)", () => {
  it("off (as on AWS): a loopback source is never contacted, and the copy fails cleanly", async () => {
    const stack = await startTestStack({
      callbackSecret,
      images: { allowPrivateSources: false, maxAttempts: 1 },
    });
    try {
      hits.delete("/ok.png");
      const id = await succeedWith(stack, `${sourceUrl}/ok.png`);
      expect(await stack.copyImagesOnce()).toMatchObject({ failed: 1 });
      const task = await read(stack, id);
      expect(task).toMatchObject({ status: "SUCCESS", imagesStatus: "failed", images: [] });
      expect(task.imagesError).toMatch(/^blocked_address: 127\.0\.0\.1 resolves to 127\.0\.0\.1/);
      expect(task.imageUrl).toBe(`${sourceUrl}/ok.png`);
      expect(hits.get("/ok.png") ?? 0).toBe(0);
    } finally {
      await stack.stop();
    }
  });

  it("on (the local stack's default): the same source is copied", async () => {
    const stack = await startTestStack({ callbackSecret });
    try {
      const id = await succeedWith(stack, `${sourceUrl}/ok.png`);
      expect(await stack.copyImagesOnce()).toMatchObject({ copied: 1 });
      expect((await read(stack, id)).imagesStatus).toBe("done");
      expect(hits.get("/ok.png")).toBe(1);
    } finally {
      await stack.stop();
    }
  });
});

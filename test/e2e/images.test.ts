import { PNG } from "pngjs";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DynamoDbProxy, startDynamoDbProxy } from "../../local/dynamodb-proxy.ts";
import { api, dynamodbEndpoint, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * "Images that last" through the real stack: the simulator paints real PNG grids and calls the
 * webhook; the SUCCESS write marks the task; the copier (the reconciler's second half) copies
 * the files into the stack's image store and records them; the read function answers signed
 * links that open without an API key, also once the simulator (the upstream) is gone.
 */

type Image = {
  kind: string;
  name: string;
  index: number | null;
  url: string;
  width: number | null;
  height: number | null;
  contentType: string;
  bytes: number;
  source: string | null;
};

const callbackSecret = "images-test-callback-secret-0123456789";
let proxy: DynamoDbProxy;
let stack: TestStack;
let alice: ReturnType<typeof api>;
let bob: ReturnType<typeof api>;

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  stack = await startTestStack({
    dynamodbEndpoint: proxy.endpoint,
    callbackSecret,
    images: { retrySeconds: 0 },
  });
  alice = api(stack, OWNERS.alice.key);
  bob = api(stack, OWNERS.bob.key);
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.stop();
});

async function succeeded(client: ReturnType<typeof api>, id: string) {
  const read = await eventually(
    () => client.task(id),
    (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
  );
  expect(read.body.status).toBe("SUCCESS");
  return read.body;
}

const download = async (url: string, headers: Record<string, string> = {}) => {
  const response = await fetch(url, { headers });
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    bytes: Buffer.from(await response.arrayBuffer()),
  };
};

const pixels = (png: Buffer) => PNG.sync.read(png);

describe("a SUCCESS grid, copied", () => {
  let task: {
    id: string;
    imageUrl: string;
    upstreamImageUrl: string;
    images: Image[];
    imagesStatus: string;
  };
  let upstreamGrid: Buffer;

  beforeAll(async () => {
    const submitted = await alice.imagine({ prompt: "a paper boat that lasts --v 6.1" });
    expect(submitted.status).toBe(202);
    const done = await succeeded(alice, submitted.body.id);
    // the SUCCESS webhook marked it; nothing is copied until the copier runs
    expect(done).toMatchObject({ imagesStatus: "pending", images: [], imagesError: null });
    upstreamGrid = (await download(done.imageUrl)).bytes;

    const report = await stack.copyImagesOnce();
    expect(report).toMatchObject({ copied: 1, retrying: 0, failed: 0, storageErrors: 0 });
    task = (await alice.task(submitted.body.id)).body;
  });

  it("records the grid, its four quadrants and a thumbnail; imageUrl is the copy's, upstreamImageUrl the upstream's", () => {
    expect(task.imagesStatus).toBe("done");
    expect(task.upstreamImageUrl).toMatch(/\/mj\/image\/\d{16}$/);
    expect(task.imageUrl).toBe(task.images[0]?.url);
    expect(task.images.map((i) => [i.kind, i.name, i.index])).toEqual([
      ["grid", "grid.png", null],
      ["quadrant", "quadrant-1.png", 1],
      ["quadrant", "quadrant-2.png", 2],
      ["quadrant", "quadrant-3.png", 3],
      ["quadrant", "quadrant-4.png", 4],
      ["thumbnail", "thumbnail.webp", null],
    ]);
    expect(task.images[0]).toMatchObject({
      width: 512,
      height: 512,
      contentType: "image/png",
      bytes: upstreamGrid.byteLength,
      source: task.upstreamImageUrl,
    });
  });

  it("serves the grid byte for byte at its link, with no API key", async () => {
    const grid = task.images[0] as Image;
    const file = await download(grid.url);
    expect(file.status).toBe(200);
    expect(file.type).toBe("image/png");
    expect(file.bytes.equals(upstreamGrid)).toBe(true);
  });

  it("splits the grid into quadrants of half its size, each exactly its corner's pixels", async () => {
    const grid = pixels(upstreamGrid);
    const quadrants = task.images.filter((i) => i.kind === "quadrant");
    for (const [q, image] of quadrants.entries()) {
      expect(image).toMatchObject({ width: 256, height: 256, contentType: "image/png" });
      const file = await download(image.url);
      expect(file.status).toBe(200);
      expect(file.bytes.byteLength).toBe(image.bytes);
      const quadrant = pixels(file.bytes);
      expect([quadrant.width, quadrant.height]).toEqual([256, 256]);
      const left = q % 2 === 0 ? 0 : 256;
      const top = q < 2 ? 0 : 256;
      let differing = 0;
      for (let y = 0; y < 256; y++) {
        for (let x = 0; x < 256; x++) {
          const a = (y * 256 + x) * 4;
          const b = ((top + y) * grid.width + left + x) * 4;
          for (let c = 0; c < 4; c++) if (quadrant.data[a + c] !== grid.data[b + c]) differing++;
        }
      }
      expect(differing, `quadrant ${q + 1}`).toBe(0);
    }
    // four different pictures (the simulator paints each quadrant its own pattern)
    const digests = await Promise.all(quadrants.map(async (i) => (await download(i.url)).bytes));
    expect(new Set(digests.map((b) => b.toString("base64"))).size).toBe(4);
  });

  it("keeps a small WebP thumbnail for listings", async () => {
    const thumbnail = task.images.find((i) => i.kind === "thumbnail") as Image;
    expect(thumbnail).toMatchObject({ width: 320, height: 320, contentType: "image/webp" });
    const file = await download(thumbnail.url);
    expect(file.type).toBe("image/webp");
    expect(file.bytes.byteLength).toBe(thumbnail.bytes);
    // (the simulator's flat patterns compress to a few KB; a real grid is megabytes)
    expect(thumbnail.bytes).toBeLessThan(32 * 1024);
    const meta = await sharp(file.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", 320, 320]);
  });

  it("shows the links in listings too, and the same link on a second read", async () => {
    const list = await alice.list("?status=SUCCESS&limit=100");
    const listed = list.body.items.find((t: { id: string }) => t.id === task.id);
    expect(listed.images.map((i: Image) => i.name)).toEqual(task.images.map((i) => i.name));
    expect(listed.images.every((i: Image) => i.url.startsWith(`${stack.url}/images/`))).toBe(true);
    // links are stable within their window, so browsers can cache the files
    const again = (await alice.task(task.id)).body;
    expect(again.images[0].url).toBe(task.images[0]?.url);
  });

  it("answers the owner's GET /v1/tasks/{id}/images/{name} with a redirect to a signed link", async () => {
    const answer = await fetch(`${stack.url}/v1/tasks/${task.id}/images/quadrant-3.png`, {
      headers: { authorization: `Bearer ${OWNERS.alice.key}` },
      redirect: "manual",
    });
    expect(answer.status).toBe(302);
    const location = answer.headers.get("location") ?? "";
    expect(location).toMatch(/\/images\/[0-9A-Z]{26}\/quadrant-3\.png\?expires=\d+&sig=/);
    const followed = await download(location);
    expect(followed.status).toBe(200);
    expect(followed.bytes.byteLength).toBe(task.images[3]?.bytes);
  });

  it("keeps owners apart: another owner's task, an unknown name, no key → 404 / 401", async () => {
    const path = `/v1/tasks/${task.id}/images/grid.png`;
    expect((await bob.call("GET", path)).status).toBe(404);
    expect((await bob.task(task.id)).status).toBe(404);
    expect((await alice.call("GET", `/v1/tasks/${task.id}/images/grid.jpeg`)).status).toBe(404);
    expect((await alice.call("GET", `/v1/tasks/${task.id}/images/..%2Fsecrets.json`)).status).toBe(
      404,
    );
    expect((await fetch(`${stack.url}${path}`)).status).toBe(401);
  });

  it("refuses a tampered, moved, truncated or unsigned link with 404", async () => {
    const link = new URL((task.images[1] as Image).url);
    const sig = link.searchParams.get("sig") ?? "";
    const expires = link.searchParams.get("expires") ?? "";
    const flipped = `${sig.slice(0, -2)}${sig.at(-2) === "A" ? "B" : "A"}${sig.at(-1)}`;
    const tries = [
      `${link.pathname}?expires=${expires}&sig=${flipped}`,
      // the same signature on another file of the task
      `${link.pathname.replace("quadrant-1", "quadrant-2")}?expires=${expires}&sig=${sig}`,
      // a later expiry with the old signature
      `${link.pathname}?expires=${Number(expires) + 3600}&sig=${sig}`,
      `${link.pathname}?expires=${expires}`,
      link.pathname,
      `/images/${task.id}/..%2F..%2Fsecrets.json?expires=${expires}&sig=${sig}`,
    ];
    for (const path of tries) {
      const answer = await fetch(`${stack.url}${path}`);
      expect(answer.status, path).toBe(404);
      expect(await answer.json()).toMatchObject({ error: { code: "not_found" } });
    }
    // and the untouched link still works
    expect((await fetch(link)).status).toBe(200);
  });

  it("copies a task only once: a second run finds nothing to do", async () => {
    proxy.reset();
    const report = await stack.copyImagesOnce();
    expect(report).toMatchObject({ copied: 0, retrying: 0, failed: 0 });
    // an idle copier run is one Query of the sparse index
    expect(proxy.counts()).toEqual({ Query: 1 });
  });
});

describe("other results", () => {
  it("copies an upscale as one image (no quadrants) with its thumbnail", async () => {
    const grid = await succeeded(
      alice,
      (await alice.imagine({ prompt: "a boat to upscale" })).body.id,
    );
    const u3 = grid.buttons.find((b: { label: string }) => b.label === "U3");
    const child = await alice.call("POST", `/v1/tasks/${grid.id}/actions`, {
      customId: u3.customId,
    });
    const upscale = await succeeded(alice, child.body.id);
    await stack.copyImagesOnce();
    const copied = (await alice.task(upscale.id)).body;
    expect(copied.imagesStatus).toBe("done");
    expect(copied.images.map((i: Image) => [i.kind, i.name])).toEqual([
      ["image", "image.png"],
      ["thumbnail", "thumbnail.webp"],
    ]);
    expect(copied.images[0]).toMatchObject({ width: 512, height: 512, source: upscale.imageUrl });
  });

  it("copies a video task's video beside its image", async () => {
    const image = `data:image/png;base64,${PNG.sync.write(new PNG({ width: 4, height: 4 })).toString("base64")}`;
    const answer = await alice.call("POST", "/v1/video", { image, prompt: "a boat that moves" });
    expect(answer.status).toBe(202);
    const video = await succeeded(alice, answer.body.id);
    expect(video.videoUrl).toMatch(/\.mp4$/);
    await stack.copyImagesOnce();
    const copied = (await alice.task(video.id)).body;
    expect(copied.imagesStatus).toBe("done");
    const file = copied.images.find((i: Image) => i.kind === "video");
    expect(file).toMatchObject({
      name: "video.mp4",
      contentType: "video/mp4",
      width: null,
      height: null,
      source: video.videoUrl,
    });
    const served = await download(file.url);
    expect(served.type).toBe("video/mp4");
    expect(served.bytes.byteLength).toBe(file.bytes);
  });

  it("has nothing to copy for a text result (shorten)", async () => {
    const answer = await alice.call("POST", "/v1/shorten", { prompt: "a very long boat prompt" });
    const shorten = await succeeded(alice, answer.body.id);
    expect(shorten).toMatchObject({ imageUrl: null, imagesStatus: null, images: [] });
  });
});

describe("the webhook path", () => {
  it("marks the SUCCESS for copying in its one status write (the second gives the owner's slot back)", async () => {
    const submitted = await alice.imagine({ prompt: "a counted boat --sim-drop-hooks" });
    await stack.simulator?.idle();
    const truth = stack.simulator?.tasks().find((t) => t.id === submitted.body.upstreamTaskId);
    expect(truth?.status).toBe("SUCCESS");
    proxy.reset();
    const hook = await fetch(`${stack.url}/hooks/midjourney`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(truth),
    });
    expect(hook.status).toBe(200);
    // the status write marks the copy; one transaction returns the task's slot (operating.md)
    expect(proxy.counts()).toEqual({ UpdateItem: 1, TransactWriteItems: 1 });
    expect((await alice.task(submitted.body.id)).body.imagesStatus).toBe("pending");

    // and the copy costs one Query and one UpdateItem, never a GetItem
    proxy.reset();
    expect(await stack.copyImagesOnce()).toMatchObject({ copied: 1 });
    expect(proxy.counts()).toEqual({ Query: 1, UpdateItem: 1 });
  });
});

describe("the local stack's copier interval", () => {
  it("copies a SUCCESS within moments, with nobody calling the copier", async () => {
    const own = await startTestStack({ callbackSecret, images: { copyIntervalMs: 100 } });
    try {
      const client = api(own, OWNERS.alice.key);
      const submitted = await client.imagine({ prompt: "a boat copied on its own" });
      const copied = await eventually(
        () => client.task(submitted.body.id),
        (r) => r.body?.imagesStatus === "done",
      );
      expect(copied.body.images).toHaveLength(6);
    } finally {
      await own.stop();
    }
  });
});

describe("after the upstream is gone", () => {
  it("still serves the durable copies once the simulator is stopped", async () => {
    const own = await startTestStack({ callbackSecret });
    try {
      const client = api(own, OWNERS.alice.key);
      const done = await succeeded(
        client,
        (await client.imagine({ prompt: "a boat that outlives its CDN" })).body.id,
      );
      await own.copyImagesOnce();
      await own.simulator?.stop();
      // the upstream's URL is dead now…
      await expect(fetch(done.imageUrl)).rejects.toThrow();
      // …ours are not
      const task = (await client.task(done.id)).body;
      expect(task.images).toHaveLength(6);
      for (const image of task.images as Image[]) {
        const file = await download(image.url);
        expect(file.status).toBe(200);
        expect(file.bytes.byteLength).toBe(image.bytes);
      }
    } finally {
      await own.stop();
    }
  });
});

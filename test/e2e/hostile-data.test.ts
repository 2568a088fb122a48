import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeReconciler } from "../../functions/compose/reconcile.ts";
import { createStateToken } from "../../functions/core/state-token.ts";
import { newTask } from "../../functions/core/submit.ts";
import type { Task } from "../../functions/core/task.ts";
import { createDocumentClient, createIdFactory } from "../../functions/deps.ts";
import { keys } from "../../functions/store/keys.ts";
import { createTaskStore, taskToItem } from "../../functions/store/task-store.ts";
import { api, createTestStore, dynamodbEndpoint, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * What the upstream (or anyone holding a state token, or a bad item in the table) can send us
 * that must cost only itself: a button whose style is 2.5, a finishTime of 1e20, nulls among
 * the URLs and buttons, and items that do not parse. Every owner's reads, the copier and the
 * dispatcher go on. Through the whole local stack: webhooks over HTTP to the callback route,
 * DynamoDB Local, the copier downloading from a local image server, the dispatcher delivering
 * to a local receiver.
 */

const secret = randomBytes(32).toString("base64url");
const newId = createIdFactory();

async function listen(server: Server) {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** Serves one small PNG at any path: the upstream's image host. */
async function startImageHost() {
  const png = await sharp({
    create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 80, b: 40 } },
  })
    .png()
    .toBuffer();
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? "");
    res.writeHead(200, { "content-type": "image/png" }).end(png);
  });
  return { hits, ...(await listen(server)) };
}

/** Receives our webhooks, keeping each body. */
async function startReceiver() {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      bodies.push(body);
      res.writeHead(200).end("ok");
    });
  });
  return { bodies, ...(await listen(server)) };
}

interface Warning {
  message: string;
  fields?: Record<string, unknown>;
}

let stack: TestStack;
let images: Awaited<ReturnType<typeof startImageHost>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let store: ReturnType<typeof createTaskStore>;
let documents: ReturnType<typeof createDocumentClient>;
const warnings: Warning[] = [];
const alice = () => api(stack, OWNERS.alice.key);
const bob = () => api(stack, OWNERS.bob.key);

beforeAll(async () => {
  images = await startImageHost();
  receiver = await startReceiver();
  const record = (message: string, fields?: Record<string, unknown>) =>
    warnings.push({ message, fields });
  stack = await startTestStack({
    callbackSecret: secret,
    log: { info() {}, warn: record, error: record },
  });
  documents = createDocumentClient({ endpoint: stack.dynamodbEndpoint });
  store = createTaskStore({ client: documents, tableName: stack.tableName });
});
afterAll(async () => {
  await stack?.stop();
  await images?.stop();
  await receiver?.stop();
});

async function taskOf(owner: "alice" | "bob") {
  const task = newTask({
    id: newId(),
    owner,
    action: "IMAGINE",
    prompt: "a paper boat",
    webhook: { url: `${receiver.url}/hook` },
    now: new Date(),
  });
  await store.create(task);
  return task;
}

async function postWebhook(body: unknown) {
  const response = await fetch(`${stack.url}/hooks/midjourney`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

function success(task: Task, extra: Record<string, unknown>) {
  return {
    id: `up-${task.id}`,
    action: "IMAGINE",
    status: "SUCCESS",
    progress: "100%",
    state: createStateToken(secret, task.id),
    imageUrl: `${images.url}/grid.png`,
    finishTime: 1_700_000_000_000,
    ...extra,
  };
}

const button = (n: number, fields: Record<string, unknown> = {}) => ({
  customId: `MJ::JOB::upsample::${n}::abc`,
  label: `U${n}`,
  emoji: "",
  style: 2,
  type: 2,
  ...fields,
});

/** Alice's task reads as 200 for her (list included), 404 for bob. */
async function expectReadable(task: Task) {
  const mine = await alice().task(task.id);
  expect(mine.status).toBe(200);
  expect((await bob().task(task.id)).status).toBe(404);
  const list = await alice().list("?limit=100");
  expect(list.status).toBe(200);
  expect(list.body.items.map((t: { id: string }) => t.id)).toContain(task.id);
  return mine.body;
}

describe("a webhook with values that do not fit the stored task", () => {
  it("style 2.5 and type 1e300: written as the usual 2, the task stays readable", async () => {
    const task = await taskOf("alice");
    const hook = success(task, {
      buttons: [button(1, { style: 2.5 }), button(2, { type: 1e300 }), button(3)],
    });
    expect(await postWebhook(hook)).toEqual({ status: 200, body: { result: "applied" } });
    const read = await expectReadable(task);
    expect(read.buttons).toEqual([button(1), button(2), button(3)]);
  });

  it("finishTime 1e20: applied with the receiver's clock, never a 500", async () => {
    const task = await taskOf("alice");
    const before = Date.now();
    const answer = await postWebhook(success(task, { finishTime: 1e20 }));
    expect(answer).toEqual({ status: 200, body: { result: "applied" } });
    const read = await expectReadable(task);
    expect(read.status).toBe("SUCCESS");
    expect(Date.parse(read.finishedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(read.finishedAt)).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it("nulls in imageUrls, videoUrls and buttons drop those entries, not the update", async () => {
    const task = await taskOf("alice");
    const hook = success(task, {
      imageUrls: [null, `${images.url}/1.png`, { url: `${images.url}/2.png` }, null],
      videoUrls: [null],
      buttons: [null, button(1)],
    });
    expect(await postWebhook(hook)).toEqual({ status: 200, body: { result: "applied" } });
    const read = await expectReadable(task);
    expect(read).toMatchObject({
      status: "SUCCESS",
      imageUrls: [`${images.url}/1.png`, `${images.url}/2.png`],
      buttons: [button(1)],
    });
  });
});

describe("the copier, given a task with 120 imageUrls", () => {
  it("copies the first 16, records the task as done, and never downloads them again", async () => {
    const task = await taskOf("alice");
    const urls = Array.from({ length: 120 }, (_, i) => `${images.url}/many/${i + 1}.png`);
    const hook = success(task, { imageUrl: urls[0], imageUrls: urls });
    expect((await postWebhook(hook)).status).toBe(200);
    const downloads = () => images.hits.filter((path) => path.startsWith("/many/")).length;

    await stack.copyImagesOnce();
    const read = (await alice().task(task.id)).body;
    expect(read.imagesStatus).toBe("done");
    expect(read.imageUrls).toHaveLength(120);
    const names = read.images.map((image: { name: string }) => image.name);
    expect(names).toContain("image-16.png");
    expect(names).not.toContain("image-17.png");
    const first = downloads();
    expect(first).toBeLessThanOrEqual(16);

    await stack.copyImagesOnce();
    expect(downloads()).toBe(first);
  });
});

describe("items in the table that do not parse", () => {
  const old = new Date(Date.now() - 3_600_000);

  /** A task item written by hand (an older version, a console edit), due first everywhere. */
  async function putRaw(task: Task, changes: Record<string, unknown>) {
    const item = {
      ...taskToItem(task),
      gsi6pk: keys.imageCopies(),
      gsi6sk: keys.imageCopyDue(old, task.id),
      imagesStatus: "pending",
      gsi7pk: keys.dispatch(),
      gsi7sk: keys.dispatchDue(old, keys.task(task.id).pk, "TASK"),
      outbox: [{ id: `${task.id}-x`, type: "task.succeeded", status: "SUCCESS", progress: 100 }],
      ...changes,
    };
    await documents.send(new PutCommand({ TableName: stack.tableName, Item: item }));
  }

  it("are skipped and logged by reads, the copier and the dispatcher; the rest goes on", async () => {
    // an item that cannot be a task (its status is no status), and one with one bad field
    const broken = newTask({
      id: newId(),
      owner: "alice",
      action: "IMAGINE",
      prompt: "x",
      now: old,
    });
    await putRaw(broken, { status: "EXPLODED", imageUrl: `${images.url}/b.png` });
    const bent = newTask({ id: newId(), owner: "alice", action: "IMAGINE", prompt: "y", now: old });
    await putRaw(bent, {
      status: "SUCCESS",
      imageUrl: `${images.url}/c.png`,
      buttons: [button(1, { style: 2.5 }), button(2)],
    });
    // and a delivery item that is not one, due first in the dispatcher's index
    const junk = keys.delivery(broken.id, "webhook", `evt_${broken.id}_x`);
    await documents.send(
      new PutCommand({
        TableName: stack.tableName,
        Item: {
          ...junk,
          gsi7pk: keys.dispatch(),
          gsi7sk: keys.dispatchDue(old, junk.pk, junk.sk),
          status: 42,
        },
      }),
    );
    // bob's task finishes normally: it must be copied and delivered whatever else is stored
    const bobs = await taskOf("bob");
    expect((await postWebhook(success(bobs, { buttons: [button(1)] }))).status).toBe(200);

    // reads: the broken item is absent (404, skipped in the list), the bent one served repaired
    const list = await alice().list("?limit=100");
    expect(list.status).toBe(200);
    const ids = list.body.items.map((t: { id: string }) => t.id);
    expect(ids).not.toContain(broken.id);
    expect(ids).toContain(bent.id);
    expect((await alice().task(broken.id)).status).toBe(404);
    const repaired = await alice().task(bent.id);
    expect(repaired.status).toBe(200);
    expect(repaired.body.buttons).toEqual([button(2)]);

    // the copier copies bob's task (and the bent one), whatever sits before them in its index
    const copies = await stack.copyImagesOnce();
    expect(copies.copied).toBeGreaterThanOrEqual(2);
    expect((await bob().task(bobs.id)).body.imagesStatus).toBe("done");
    expect((await alice().task(bent.id)).body.imagesStatus).toBe("done");

    // the dispatcher delivers bob's task.succeeded
    await stack.dispatchOnce();
    expect(receiver.bodies.some((body) => body.includes(bobs.id))).toBe(true);

    // and the broken items were named in the logs, not thrown
    expect(warnings.map((w) => w.message)).toContain("stored item skipped: not a delivery");
    expect(
      warnings.filter(
        (w) =>
          w.message === "stored item skipped: not a task" &&
          w.fields?.pk === keys.task(broken.id).pk,
      ).length,
    ).toBeGreaterThan(0);
  });
});

describe("the reconciler, given a page with one poisoned task", () => {
  it("applies the other 49 (finishTime 1e20 there, once a RangeError that lost the page)", async () => {
    const own = await createTestStore();
    const tasks: Task[] = [];
    for (let i = 0; i < 50; i++) {
      const task = newTask({
        id: newId(),
        owner: "alice",
        action: "IMAGINE",
        prompt: `p${i}`,
        now: new Date(),
      });
      await own.store.create(task);
      await own.store.apply(
        task.id,
        { status: "SUBMITTED", upstreamTaskId: `up-${i}` },
        new Date(),
      );
      tasks.push(task);
    }
    // the upstream's list-by-condition: every task done, the first one with an absurd finishTime
    const upstream = await listen(
      createServer((req, res) => {
        req.resume();
        req.on("end", () => {
          const answer = tasks.map((_task, i) => ({
            id: `up-${i}`,
            action: "IMAGINE",
            status: "SUCCESS",
            progress: "100%",
            imageUrl: `https://cdn.example/${i}.png`,
            finishTime: i === 0 ? 1e20 : 1_700_000_000_000,
            buttons: i === 1 ? [null, button(1, { style: 2.5 })] : [],
          }));
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
        });
      }),
    );
    try {
      const report = await composeReconciler(
        {
          TABLE_NAME: own.tableName,
          DYNAMODB_ENDPOINT: dynamodbEndpoint(),
          MJ_API_BASE_URL: upstream.url,
          MJ_API_KEY: "key",
          TASK_DEADLINE_SECONDS: 3600,
          UPSTREAM_TIMEOUT_MS: 5000,
        },
        { log: { info() {}, warn() {}, error() {} } },
      )({ batchSize: 50 });
      expect(report).toMatchObject({ checked: 50, applied: 50, upstreamErrors: 0, taskErrors: 0 });
      for (const task of tasks) expect((await own.store.get(task.id))?.status).toBe("SUCCESS");
      expect((await own.store.get(tasks[1]?.id ?? ""))?.buttons).toEqual([button(1)]);
    } finally {
      await upstream.stop();
    }
  });
});

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../client/index.ts";
import type { Stack } from "../../local/stack.ts";
import { api, OWNERS, runProcess } from "../helpers.ts";
import { createRestartableStack, taskWhen } from "../restart-stack.ts";

/**
 * `npm start` stopped and started again on its DATA_DIR (issue 15): the upstream's links of the
 * first run are dead (the simulator listens elsewhere now), yet every finished task's results
 * still open, because its URLs are our durable copies; and a task that was running when the
 * stack stopped finishes, because the simulator kept its jobs like a real upstream does.
 */
const restartable = await createRestartableStack({ stepMs: 150 });
let second: Stack;
const finished: Record<string, any>[] = [];
let runningId = "";

const ROOT = join(import.meta.dirname, "..", "..");

function cli(args: string[], env: Record<string, string>) {
  return runProcess("node", [join(ROOT, "bin", "paperboat.mjs"), ...args], {
    cwd: ROOT,
    env: { ...process.env, HOME: restartable.dataDir, ...env },
  });
}

/** Whether anything answers `url` with a 2xx (a refused connection is a no). */
async function opens(url: string): Promise<boolean> {
  const response = await fetch(url).catch(() => null);
  await response?.body?.cancel();
  return response?.ok ?? false;
}

beforeAll(async () => {
  const first = await restartable.start();
  const alice = api(first, OWNERS.alice.key);
  const ids: string[] = [];
  for (const prompt of ["a boat that lasts", "another boat that lasts"]) {
    ids.push((await alice.imagine({ prompt })).body.id);
  }
  for (const id of ids) await taskWhen(first, id, (t) => t.status === "SUCCESS");
  expect(await first.copyImagesOnce()).toMatchObject({ copied: 2, failed: 0 });
  for (const id of ids) finished.push((await alice.task(id)).body);

  // stopped while this one runs: the stack goes down mid-job
  runningId = (await alice.imagine({ prompt: "a boat caught by the restart" })).body.id;
  const running = await taskWhen(first, runningId, (t) => t.status === "IN_PROGRESS");
  expect(running.status).toBe("IN_PROGRESS");

  second = await restartable.start();
}, 180_000);

afterAll(() => restartable.remove());

describe("after a restart of the local stack", () => {
  it("the upstream's links of the first run are dead", async () => {
    for (const task of finished) {
      expect(task.upstreamImageUrl).toMatch(/\/mj\/image\/\d+$/);
      expect(await opens(task.upstreamImageUrl)).toBe(false);
    }
  });

  it("every finished task's imageUrl is its durable copy, and it opens without a key", async () => {
    for (const before of finished) {
      const { body: task } = await api(second, OWNERS.alice.key).task(before.id);
      expect(task.upstreamImageUrl).toBe(before.upstreamImageUrl);
      expect(task.imageUrl).toMatch(new RegExp(`^${second.url}/images/${task.id}/grid\\.png\\?`));
      const response = await fetch(task.imageUrl);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/png");
      const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
      expect(png.width).toBe(512);
    }
  });

  it("the typed client's task leads to the copies too", async () => {
    const client = createClient({ baseUrl: second.url, apiKey: OWNERS.alice.key });
    const task = await client.getTask(finished[0]?.id);
    expect(task.imageUrl).not.toBe(task.upstreamImageUrl);
    expect(await opens(task.imageUrl as string)).toBe(true);
    const thumbnail = task.images.find((image) => image.kind === "thumbnail");
    expect(await opens(thumbnail?.url as string)).toBe(true);
  });

  it("`paperboat wait <id> --out` saves the images, and `show` prints links that open", async () => {
    const id = finished[1]?.id as string;
    const env = { PAPERBOAT_URL: second.url, PAPERBOAT_API_KEY: OWNERS.alice.key };
    const out = join(restartable.dataDir, "saved");
    const wait = await cli(["wait", id, "--out", out], env);
    expect(wait.stderr).not.toContain("Cannot download");
    expect(wait.code).toBe(0);
    expect(readdirSync(out)).toEqual([`${id}.png`]);
    expect(PNG.sync.read(readFileSync(join(out, `${id}.png`))).width).toBe(512);

    const show = await cli(["show", id], env);
    expect(show.code).toBe(0);
    const link = /image: +(\S+)/.exec(show.stdout)?.[1] ?? "";
    expect(link.startsWith(`${second.url}/images/${id}/`)).toBe(true);
    expect(await opens(link)).toBe(true);
  });

  it("the task that was running when the stack stopped finishes, from the restarted simulator's webhooks", async () => {
    // no reconcile run here: the simulator kept the job in DATA_DIR, went on with it, and
    // called the task's hook again (the server listens where it did before, as npm start's does)
    const done = await taskWhen(second, runningId, (t) => t.status === "SUCCESS");
    expect(done.status).toBe("SUCCESS");
    expect(done.upstreamImageUrl.startsWith(second.upstreamUrl)).toBe(true);
    expect(await second.copyImagesOnce()).toMatchObject({ copied: 1, failed: 0 });
    const copied = (await api(second, OWNERS.alice.key).task(runningId)).body;
    expect(copied.imageUrl).not.toBe(copied.upstreamImageUrl);
    expect(await opens(copied.imageUrl)).toBe(true);
  });
});

import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * The whole Midjourney workflow through the real stack: every job is driven by the simulator's
 * webhooks alone (the reconciler never runs here), and every task is linked to its parent.
 */

let stack: TestStack;
let alice: ReturnType<typeof api>;

const IMAGE = `data:image/png;base64,${PNG.sync.write(new PNG({ width: 4, height: 4 })).toString("base64")}`;
const OTHER = `data:image/png;base64,${PNG.sync.write(new PNG({ width: 6, height: 6 })).toString("base64")}`;
const MASK = `data:image/png;base64,${PNG.sync.write(new PNG({ width: 8, height: 8 })).toString("base64")}`;

type Task = {
  id: string;
  action: string;
  status: string;
  parentId: string | null;
  prompt: string | null;
  upstreamTaskId: string | null;
  imageUrl: string | null;
  videoUrl: string | null;
  prompts: string[];
  buttons: { customId: string; label: string; emoji: string }[];
  children?: string[];
};

const ids = (tasks: { id: string }[]) => tasks.map((t) => t.id);

async function finished(id: string): Promise<Task> {
  const read = await eventually(
    () => alice.task(id),
    (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
  );
  expect(read.body.status).toBe("SUCCESS");
  return read.body;
}

function button(task: Task, label: string): string {
  const found = task.buttons.find((b) => b.label === label || b.emoji === label);
  if (!found) throw new Error(`${task.action} has no button ${label}`);
  return found.customId;
}

/** Clicks a button; answers the 202'd child. */
async function click(task: Task, label: string, extra: Record<string, unknown> = {}) {
  const answer = await alice.call("POST", `/v1/tasks/${task.id}/actions`, {
    customId: button(task, label),
    ...extra,
  });
  expect(answer.status).toBe(202);
  expect(answer.body.parentId).toBe(task.id);
  return answer.body as Task;
}

async function modal(task: Task, body: Record<string, unknown>) {
  const answer = await alice.call("POST", `/v1/tasks/${task.id}/modal`, body);
  expect(answer.status).toBe(202);
  return answer.body as Task;
}

async function imagine(prompt: string): Promise<Task> {
  const answer = await alice.imagine({ prompt });
  expect(answer.status).toBe(202);
  return finished(answer.body.id);
}

/** Exactly one upstream job was made for our task (its state token names the task). */
function jobsFor(taskId: string): number {
  return (stack.simulator?.tasks() ?? []).filter((t) => t.state?.includes(`.${taskId}.`)).length;
}

/**
 * The same workflow against each host that has it (local/simulator/profiles.ts): the cometapi
 * profile (new-api's rewrites) and the trueai profile (its own auth and code 21). novicezk has
 * only imagine, U/V/reroll, describe and blend: test/e2e/hosts.test.ts runs what it has.
 */
describe.each(["cometapi", "trueai"] as const)("against %s", (profile) => {
  beforeAll(async () => {
    stack = await startTestStack({ simulator: { profile } });
    alice = api(stack, OWNERS.alice.key);
  });
  afterAll(() => stack.stop());

  describe("a tree: imagine → U2 → zoom out, and custom zoom via modal → V1", () => {
    it("runs every step through webhooks and links each task to the one it came from", async () => {
      const root = await imagine("a paper boat floating on calm water at sunrise --v 6.1");

      const u2 = await finished((await click(root, "U2")).id);
      expect(u2).toMatchObject({ action: "UPSCALE", parentId: root.id, prompt: root.prompt });
      expect(u2.buttons.map((b) => b.label || b.emoji)).toContain("Custom Zoom");

      const zoomOut = await finished((await click(u2, "Zoom Out 2x")).id);
      expect(zoomOut).toMatchObject({ action: "ZOOM", parentId: u2.id });

      // Custom Zoom answers code 21: the child waits in MODAL, bound to its upstream job
      const waiting = await click(u2, "Custom Zoom");
      expect(waiting).toMatchObject({
        action: "CUSTOM_ZOOM",
        status: "MODAL",
        upstreamTaskId: expect.stringMatching(/^\d{16}$/),
      });
      expect((await alice.task(waiting.id)).body.status).toBe("MODAL");
      const zoomPrompt = "a paper boat floating on calm water at sunrise --zoom 1.5";
      const submitted = await modal(waiting, { prompt: zoomPrompt });
      expect(submitted).toMatchObject({
        id: waiting.id,
        status: "SUBMITTED",
        upstreamTaskId: waiting.upstreamTaskId,
        prompt: zoomPrompt,
      });
      const customZoom = await finished(waiting.id);
      expect(customZoom.buttons).toHaveLength(9);

      const v1 = await finished((await click(customZoom, "V1")).id);
      expect(v1).toMatchObject({
        action: "VARIATION",
        parentId: customZoom.id,
        prompt: zoomPrompt,
      });

      // reading the tree: children newest first, on GET one task only
      expect((await alice.task(root.id)).body.children).toEqual([u2.id]);
      expect((await alice.task(u2.id)).body.children).toEqual([customZoom.id, zoomOut.id]);
      expect((await alice.task(customZoom.id)).body.children).toEqual([v1.id]);
      expect((await alice.task(v1.id)).body.children).toEqual([]);

      // the listing filters by parent and by action
      const underU2 = await alice.list(`?parentId=${u2.id}`);
      expect(ids(underU2.body.items)).toEqual([customZoom.id, zoomOut.id]);
      expect(underU2.body.items[0]).not.toHaveProperty("children");
      expect(ids((await alice.list(`?parentId=${u2.id}&action=ZOOM`)).body.items)).toEqual([
        zoomOut.id,
      ]);
      expect(ids((await alice.list("?action=CUSTOM_ZOOM")).body.items)).toContain(customZoom.id);
      expect(ids((await alice.list("?action=UPSCALE&status=SUCCESS")).body.items)).toContain(u2.id);

      // one upstream job per task: the modal went on with the custom zoom's own job
      for (const task of [root, u2, zoomOut, customZoom, v1]) expect(jobsFor(task.id)).toBe(1);
    });
  });

  describe("every button family", () => {
    let grid: Task;
    let upscale: Task;
    beforeAll(async () => {
      grid = await imagine("a quiet harbor, isometric illustration");
      upscale = await finished((await click(grid, "U1")).id);
    });

    it.each([
      ["the grid", "U3", "UPSCALE"],
      ["the grid", "V3", "VARIATION"],
      ["the grid", "🔄", "REROLL"],
      ["the upscale", "Upscale (Subtle)", "UPSCALE"],
      ["the upscale", "Upscale (Creative)", "UPSCALE"],
      ["the upscale", "Vary (Subtle)", "LOW_VARIATION"],
      ["the upscale", "Vary (Strong)", "HIGH_VARIATION"],
      ["the upscale", "Zoom Out 1.5x", "ZOOM"],
      ["the upscale", "⬅️", "PAN"],
      ["the upscale", "⬇️", "PAN"],
    ])("%s's %s runs as %s", async (which, label, action) => {
      const parent = which === "the grid" ? grid : upscale;
      const child = await click(parent, label);
      expect(child).toMatchObject({ action, status: "SUBMITTED", parentId: parent.id });
      const done = await finished(child.id);
      expect(done.imageUrl).toEqual(expect.any(String));
      expect(done.buttons.length).toBeGreaterThan(0);
    });

    it("animates an upscale into a video (VIDEO, videoUrl)", async () => {
      const video = await finished((await click(upscale, "Animate (High motion)")).id);
      expect(video).toMatchObject({ action: "VIDEO", parentId: upscale.id });
      const file = await fetch(video.videoUrl ?? "");
      expect(file.headers.get("content-type")).toBe("video/mp4");
    });

    it("varies a region: INPAINT waits in MODAL and runs once a mask is given", async () => {
      const waiting = await click(upscale, "Vary (Region)");
      expect(waiting).toMatchObject({ action: "INPAINT", status: "MODAL" });
      const running = await modal(waiting, { prompt: "a red sail", maskBase64: MASK });
      expect(running).toMatchObject({ status: "SUBMITTED", prompt: "a red sail" });
      expect((await finished(waiting.id)).buttons).toHaveLength(9);
    });

    it("remixes: enableRemix opens a modal (code 21, or code 1 behind the gateway), recorded as MODAL", async () => {
      const waiting = await click(grid, "V2", { enableRemix: true });
      expect(waiting).toMatchObject({ action: "VARIATION", status: "MODAL" });
      await modal(waiting, { prompt: "a quiet harbor at night" });
      const done = await finished(waiting.id);
      expect(done.prompt).toBe("a quiet harbor at night");
    });

    it("a modal without a prompt keeps the task's prompt", async () => {
      const waiting = await click(grid, "V4", { enableRemix: true });
      const running = await modal(waiting, {});
      expect(running).toMatchObject({ status: "SUBMITTED", prompt: grid.prompt });
      await finished(waiting.id);
    });

    it("gives the seed of a finished task", async () => {
      const answer = await alice.call("GET", `/v1/tasks/${grid.id}/seed`);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ taskId: grid.id, seed: expect.stringMatching(/^\d+$/) });
      const again = await alice.call("GET", `/v1/tasks/${grid.id}/seed`);
      expect(again.body.seed).toBe(answer.body.seed);
    });
  });

  describe("the other jobs", () => {
    it("blends two images into a landscape grid", async () => {
      const answer = await alice.call("POST", "/v1/blend", {
        base64Array: [IMAGE, OTHER],
        dimensions: "LANDSCAPE",
        metadata: { album: "harbour" },
      });
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({
        action: "BLEND",
        status: "SUBMITTED",
        prompt: null,
        parentId: null,
        metadata: { album: "harbour" },
      });
      const done = await finished(answer.body.id);
      expect(done.buttons).toHaveLength(9);
      const png = PNG.sync.read(
        Buffer.from(await (await fetch(done.imageUrl ?? "")).arrayBuffer()),
      );
      expect(png.width).toBeGreaterThan(png.height);
    });

    // a pick runs as an imagine of the picked prompt and a retry as a new describe of the same
    // image: new-api (CometAPI) answers these customIds 400 unknown_action (QuantumNous/new-api,
    // service/midjourney.go CoverPlusActionToNormalAction), which the simulator now does too
    it("describes an image into four prompts, then imagines a picked one", async () => {
      const answer = await alice.call("POST", "/v1/describe", { base64: IMAGE });
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ action: "DESCRIBE", prompt: null, prompts: [] });
      const described = await finished(answer.body.id);
      expect(described.prompts).toHaveLength(4);
      for (const p of described.prompts) expect(p).toMatch(/^\S.*--ar 1:1$/);

      const pick = await click(described, "2️⃣");
      expect(pick).toMatchObject({
        action: "IMAGINE",
        status: "SUBMITTED",
        prompt: described.prompts[1],
      });
      const grid = await finished(pick.id);
      expect(grid.buttons).toHaveLength(9);

      const retry = await finished((await click(described, "🔄")).id);
      expect(retry).toMatchObject({ action: "DESCRIBE", parentId: described.id });
      expect(retry.prompts).toHaveLength(4);

      const all = await alice.call("POST", `/v1/tasks/${described.id}/actions`, {
        customId: button(described, "Imagine all"),
      });
      expect(all.status).toBe(400);
      expect(all.body.error.details[0].path).toBe("customId");
    });

    it("describes an image given by link", async () => {
      const answer = await alice.call("POST", "/v1/describe", {
        link: "https://example.org/boat.png",
      });
      expect(answer.status).toBe(202);
      expect((await finished(answer.body.id)).prompts).toHaveLength(4);
    });

    it("shortens a prompt, then imagines a shortened one", async () => {
      const prompt = "a small paper boat floating on very calm water at sunrise, watercolor";
      const answer = await alice.call("POST", "/v1/shorten", { prompt });
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ action: "SHORTEN", prompt });
      const shortened = await finished(answer.body.id);
      expect(shortened.prompts).toHaveLength(5);
      expect(shortened.prompts[4]?.length).toBeLessThan(prompt.length);

      const pick = await click(shortened, "3️⃣");
      expect(pick).toMatchObject({
        action: "IMAGINE",
        status: "SUBMITTED",
        prompt: shortened.prompts[2],
      });
      await finished(pick.id);
    });

    it("animates an image with motion options", async () => {
      const answer = await alice.call("POST", "/v1/video", {
        image: IMAGE,
        prompt: "the boat drifts",
        motion: "high",
        loop: true,
      });
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ action: "VIDEO", prompt: "the boat drifts" });
      const done = await finished(answer.body.id);
      expect(done.videoUrl).toMatch(/\.mp4$/);
    });
  });
});

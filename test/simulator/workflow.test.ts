import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import type { SimTask } from "../../local/simulator/index.ts";
import { type Harness, startHarness, steps } from "./helpers.ts";

const IMAGE = `data:image/png;base64,${PNG.sync.write(new PNG({ width: 2, height: 2 })).toString("base64")}`;
const OTHER_IMAGE = `data:image/png;base64,${PNG.sync.write(new PNG({ width: 3, height: 3 })).toString("base64")}`;

/** Runs an imagine to SUCCESS and returns it. */
async function finishedImagine(h: Harness, prompt = "a paper boat"): Promise<SimTask> {
  const { json } = await h.post("/mj/submit/imagine", { prompt, notifyHook: h.rx.url });
  await h.sim.idle();
  return h.fetchTask(json.result);
}

function customId(task: SimTask, label: string): string {
  const found = task.buttons.find((b) => b.label === label || b.emoji === label);
  if (!found) throw new Error(`no button ${label}`);
  return found.customId;
}

async function png(url: string | null): Promise<PNG> {
  const res = await fetch(url ?? "");
  expect(res.headers.get("content-type")).toBe("image/png");
  return PNG.sync.read(Buffer.from(await res.arrayBuffer()));
}

describe("actions", () => {
  it("upscales one quadrant into a task with the upscale buttons", async () => {
    const h = await startHarness();
    const grid = await finishedImagine(h);
    const res = await h.post("/mj/submit/action", {
      taskId: grid.id,
      customId: customId(grid, "U2"),
      state: "child",
      notifyHook: h.rx.url,
    });
    expect(res.json).toMatchObject({ code: 1, result: expect.stringMatching(/^\d{16}$/) });
    await h.sim.idle();
    const up = await h.fetchTask(res.json.result);
    expect(up).toMatchObject({
      action: "UPSCALE",
      status: "SUCCESS",
      prompt: grid.prompt,
      description: `/up ${grid.id} U2`,
      state: "child",
    });
    const hash = up.properties.messageHash;
    expect(up.buttons.map((b) => [b.label, b.customId])).toEqual([
      ["Upscale (Subtle)", `MJ::JOB::upsample_v6r1_2x_subtle::1::${hash}::SOLO`],
      ["Upscale (Creative)", `MJ::JOB::upsample_v6r1_2x_creative::1::${hash}::SOLO`],
      ["Vary (Subtle)", `MJ::JOB::low_variation::1::${hash}::SOLO`],
      ["Vary (Strong)", `MJ::JOB::high_variation::1::${hash}::SOLO`],
      ["Vary (Region)", `MJ::Inpaint::1::${hash}::SOLO`],
      ["Zoom Out 2x", `MJ::Outpaint::50::1::${hash}::SOLO`],
      ["Zoom Out 1.5x", `MJ::Outpaint::75::1::${hash}::SOLO`],
      ["Custom Zoom", `MJ::CustomZoom::${hash}`],
      ["", `MJ::JOB::pan_left::1::${hash}::SOLO`],
      ["", `MJ::JOB::pan_right::1::${hash}::SOLO`],
      ["", `MJ::JOB::pan_up::1::${hash}::SOLO`],
      ["", `MJ::JOB::pan_down::1::${hash}::SOLO`],
      ["Animate (High motion)", `MJ::JOB::animate_high::1::${hash}::SOLO`],
      ["Animate (Low motion)", `MJ::JOB::animate_low::1::${hash}::SOLO`],
    ]);
    const image = await png(up.imageUrl);
    const gridImage = await png(grid.imageUrl);
    const topRight = (img: PNG, x: number, y: number) =>
      img.data.readUInt32BE((y * img.width + x) * 4);
    expect(topRight(image, 256, 256)).toBe(topRight(gridImage, 384, 128));
    expect(h.sim.stats().jobsByState).toEqual({ child: 1 });
  });

  it.each([
    ["🔄", "REROLL"],
    ["V3", "VARIATION"],
  ])("runs %s as %s into a new grid", async (label, action) => {
    const h = await startHarness();
    const grid = await finishedImagine(h);
    const res = await h.post("/mj/submit/action", {
      taskId: grid.id,
      customId: customId(grid, label),
    });
    await h.sim.idle();
    const child = await h.fetchTask(res.json.result);
    expect(child).toMatchObject({ action, status: "SUCCESS" });
    expect(child.buttons).toHaveLength(9);
    expect(child.imageUrl).not.toBe(grid.imageUrl);
  });

  it.each([
    ["Vary (Subtle)", "LOW_VARIATION"],
    ["Vary (Strong)", "HIGH_VARIATION"],
    ["Zoom Out 2x", "ZOOM"],
    ["⬅️", "PAN"],
    ["Upscale (Creative)", "UPSCALE"],
  ])("derives the action of %s as %s", async (label, action) => {
    const h = await startHarness();
    const grid = await finishedImagine(h);
    await h.post("/mj/submit/action", { taskId: grid.id, customId: customId(grid, "U1") });
    await h.sim.idle();
    const up = h.sim.tasks().find((t) => t.action === "UPSCALE") as SimTask;
    const res = await h.post("/mj/submit/action", { taskId: up.id, customId: customId(up, label) });
    expect(res.json.code).toBe(1);
    await h.sim.idle();
    expect(await h.fetchTask(res.json.result)).toMatchObject({ action, status: "SUCCESS" });
  });

  it("refuses a missing parent (404 code 3), an unfinished one and an unknown customId (code 4)", async () => {
    const h = await startHarness({ stepMs: 5_000 });
    const missing = await h.post("/mj/submit/action", {
      taskId: "1234567890123456",
      customId: "MJ::JOB::upsample::1::x",
    });
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ code: 3, description: "关联任务不存在或已失效" });
    const running = (await h.post("/mj/submit/imagine", { prompt: "x" })).json.result;
    const early = await h.post("/mj/submit/action", {
      taskId: running,
      customId: "MJ::JOB::upsample::1::x",
    });
    expect(early.json).toMatchObject({ code: 4, description: "关联任务状态错误" });
    expect((await h.post("/mj/submit/action", { taskId: running })).json.code).toBe(4);
    expect(h.sim.stats().jobsCreated).toBe(1);
  });

  it("refuses a customId the parent does not have", async () => {
    const h = await startHarness();
    const grid = await finishedImagine(h);
    const res = await h.post("/mj/submit/action", {
      taskId: grid.id,
      customId: "MJ::JOB::upsample::1::not-this-hash",
    });
    expect(res.json).toMatchObject({ code: 4, description: "未知的 Action 类型" });
  });

  it("turns a remixable click into a MODAL task behind a code 1 when enableRemix is set", async () => {
    const h = await startHarness();
    const grid = await finishedImagine(h);
    const res = await h.post("/mj/submit/action", {
      taskId: grid.id,
      customId: customId(grid, "V1"),
      enableRemix: true,
    });
    expect(res.json.code).toBe(1);
    await h.sim.idle();
    expect((await h.fetchTask(res.json.result)).status).toBe("MODAL");
  });
});

describe("modal", () => {
  async function upscaled(h: Harness): Promise<SimTask> {
    const grid = await finishedImagine(h);
    const res = await h.post("/mj/submit/action", {
      taskId: grid.id,
      customId: customId(grid, "U1"),
    });
    await h.sim.idle();
    return h.fetchTask(res.json.result);
  }

  it("opens Vary (Region) as code 21 + MODAL, needs a mask, then runs the same task id", async () => {
    const h = await startHarness();
    const up = await upscaled(h);
    const res = await h.post("/mj/submit/action", {
      taskId: up.id,
      customId: customId(up, "Vary (Region)"),
      notifyHook: h.rx.url,
    });
    expect(res.json).toMatchObject({
      code: 21,
      description: "Waiting for window confirm",
      result: expect.stringMatching(/^\d{16}$/),
      properties: { remix: true },
    });
    const id = res.json.result;
    await h.sim.idle();
    expect(await h.fetchTask(id)).toMatchObject({
      status: "MODAL",
      action: "INPAINT",
      progress: null,
    });
    expect(h.hooksOf(id)).toEqual([]);

    expect((await h.post("/mj/submit/modal", { taskId: id, prompt: "a hat" })).json).toMatchObject({
      code: 4,
      description: "maskBase64不能为空",
    });
    const confirmed = await h.post("/mj/submit/modal", {
      taskId: id,
      prompt: "a hat",
      maskBase64: IMAGE,
    });
    expect(confirmed.json).toMatchObject({ code: 1, result: id });
    await h.sim.idle();
    expect(await h.fetchTask(id)).toMatchObject({ status: "SUCCESS", prompt: "a hat" });
    expect(steps(h.hooksOf(id))).toEqual([
      "SUBMITTED:0%",
      "IN_PROGRESS:0%",
      "IN_PROGRESS:50%",
      "SUCCESS:100%",
    ]);
    expect(
      (await h.post("/mj/submit/modal", { taskId: id, maskBase64: IMAGE })).json,
    ).toMatchObject({
      code: 4,
      description: "关联任务状态错误",
    });
  });

  it("opens Custom Zoom as code 21 and needs --zoom between 1 and 2", async () => {
    const h = await startHarness();
    const up = await upscaled(h);
    const res = await h.post("/mj/submit/action", {
      taskId: up.id,
      customId: customId(up, "Custom Zoom"),
    });
    expect(res.json.code).toBe(21);
    const id = res.json.result;
    for (const prompt of [undefined, "wider", "wider --zoom 3"]) {
      expect((await h.post("/mj/submit/modal", { taskId: id, prompt })).json.code).toBe(4);
    }
    expect(
      (await h.post("/mj/submit/modal", { taskId: id, prompt: "wider --zoom 1.5" })).json.code,
    ).toBe(1);
    await h.sim.idle();
    expect(await h.fetchTask(id)).toMatchObject({ action: "CUSTOM_ZOOM", status: "SUCCESS" });
  });

  it("answers 404 code 3 for an unknown modal task", async () => {
    const h = await startHarness();
    const res = await h.post("/mj/submit/modal", { taskId: "1234567890123456" });
    expect(res.status).toBe(404);
    expect(res.json.code).toBe(3);
  });
});

describe("other jobs", () => {
  it.each([
    ["one image", { base64Array: [IMAGE] }, "base64List参数错误"],
    ["six images", { base64Array: Array(6).fill(IMAGE) }, "base64List参数错误"],
    [
      "a bad dimension",
      { base64Array: [IMAGE, OTHER_IMAGE], dimensions: "WIDE" },
      "dimensions参数错误",
    ],
    [
      "a null dimension",
      { base64Array: [IMAGE, OTHER_IMAGE], dimensions: null },
      "dimensions参数错误",
    ],
  ])("refuses a blend with %s", async (_, body, description) => {
    const h = await startHarness();
    expect((await h.post("/mj/submit/blend", body)).json).toMatchObject({ code: 4, description });
  });

  it("blends into a grid of the chosen shape", async () => {
    const h = await startHarness();
    const res = await h.post("/mj/submit/blend", {
      base64Array: [IMAGE, OTHER_IMAGE],
      dimensions: "LANDSCAPE",
    });
    expect(res.json.code).toBe(1);
    await h.sim.idle();
    const task = await h.fetchTask(res.json.result);
    expect(task).toMatchObject({
      action: "BLEND",
      status: "SUCCESS",
      description: `/blend ${task.id} 2`,
    });
    expect(task.buttons).toHaveLength(9);
    const image = await png(task.imageUrl);
    expect([image.width, image.height]).toEqual([768, 512]);
  });

  // trueai-org/midjourney-proxy, src/Midjourney.Services/TaskService.cs SubmitAction: a PicReader
  // pick opens a modal; new-api (the cometapi profile) refuses it (test below)
  it("describes an image into four prompts, and a pick waits in MODAL (trueai)", async () => {
    const h = await startHarness({ profile: "trueai" });
    expect((await h.post("/mj/submit/describe", {})).json).toMatchObject({
      code: 4,
      description: "base64或link不能为空",
    });
    const res = await h.post("/mj/submit/describe", { base64: IMAGE });
    await h.sim.idle();
    const task = await h.fetchTask(res.json.result);
    expect(task).toMatchObject({ action: "DESCRIBE", status: "SUCCESS" });
    expect(task.properties.finalPrompt).toMatch(/^1️⃣ .+\n\n2️⃣ .+\n\n3️⃣ .+\n\n4️⃣ .+$/);
    expect(task.prompt).toBe(task.properties.finalPrompt);
    expect(task.buttons.map((b) => b.customId)).toEqual([
      "MJ::Job::PicReader::1",
      "MJ::Job::PicReader::2",
      "MJ::Job::PicReader::3",
      "MJ::Job::PicReader::4",
      "MJ::Picread::Retry",
      "MJ::Job::PicReader::all",
    ]);
    const second = task.properties.finalPrompt.split("\n\n")[1]?.replace("2️⃣ ", "");
    const pick = await h.post("/mj/submit/action", {
      taskId: task.id,
      customId: "MJ::Job::PicReader::2",
    });
    expect(pick.json.code).toBe(21);
    expect(await h.fetchTask(pick.json.result)).toMatchObject({
      action: "IMAGINE",
      status: "MODAL",
      prompt: second,
    });
    const all = await h.post("/mj/submit/action", {
      taskId: task.id,
      customId: "MJ::Job::PicReader::all",
    });
    expect(all.json.result.split(",")).toHaveLength(4);
    // trueai refuses a shorten pick (PromptAnalyzer) with code 4
    const short = await h.post("/mj/submit/shorten", { prompt: "a long paper boat prompt" });
    await h.sim.idle();
    const shortened = await h.fetchTask(short.json.result);
    const analyzer = await h.post("/mj/submit/action", {
      taskId: shortened.id,
      customId: shortened.buttons[0]?.customId,
    });
    expect(analyzer.json.code).toBe(4);
  });

  // QuantumNous/new-api, service/midjourney.go CoverPlusActionToNormalAction knows no pick
  it("behind the cometapi gateway, picks and retry answer 400 unknown_action", async () => {
    const h = await startHarness();
    const res = await h.post("/mj/submit/describe", { base64: IMAGE });
    await h.sim.idle();
    const task = await h.fetchTask(res.json.result);
    for (const customId of ["MJ::Job::PicReader::2", "MJ::Picread::Retry"]) {
      const pick = await h.post("/mj/submit/action", { taskId: task.id, customId });
      expect(pick.status).toBe(400);
      expect(pick.json).toEqual({
        description: "unknown_action ",
        type: "upstream_error",
        code: 4,
      });
    }
  });

  it("describes a link too", async () => {
    const h = await startHarness();
    const res = await h.post("/mj/submit/describe", { link: "https://example.org/a.png" });
    expect(res.json.code).toBe(1);
    expect((await h.post("/mj/submit/describe", { link: "ftp://x" })).json.code).toBe(4);
  });

  it("shortens a prompt into the Midjourney report", async () => {
    const h = await startHarness();
    const res = await h.post("/mj/submit/shorten", {
      prompt: "a small paper boat floating on calm water at sunrise, watercolor --v 6.1",
    });
    await h.sim.idle();
    const task = await h.fetchTask(res.json.result);
    expect(task).toMatchObject({ action: "SHORTEN", status: "SUCCESS" });
    expect(task.properties.finalPrompt).toMatch(
      /^## Important tokens\n.+\n## Shortened prompts\n1️⃣ /,
    );
    expect(task.buttons.map((b) => b.customId)).toContain("MJ::Job::PromptAnalyzer::1");
    expect((await h.post("/mj/submit/shorten", { prompt: "" })).json.code).toBe(4);
  });

  it("makes a video with a downloadable videoUrl", async () => {
    const h = await startHarness();
    expect((await h.post("/mj/submit/video", { image: IMAGE, motion: "fast" })).json.code).toBe(4);
    expect((await h.post("/mj/submit/video", { motion: "low" })).json.code).toBe(4);
    const res = await h.post("/mj/submit/video", { image: IMAGE, motion: "high", prompt: "waves" });
    await h.sim.idle();
    const task = await h.fetchTask(res.json.result);
    expect(task).toMatchObject({ action: "VIDEO", status: "SUCCESS" });
    const file = await fetch(task.videoUrl ?? "");
    expect(file.headers.get("content-type")).toBe("video/mp4");
    expect(
      Buffer.from(await file.arrayBuffer())
        .subarray(4, 8)
        .toString(),
    ).toBe("ftyp");
  });

  it("answers image-seed like TA: 404 unknown, 400 unfinished, a digit string when done", async () => {
    const h = await startHarness({ stepMs: 5_000 });
    expect((await h.get("/mj/task/1234567890123456/image-seed")).status).toBe(404);
    const id = (await h.post("/mj/submit/imagine", { prompt: "x" })).json.result;
    const early = await h.get(`/mj/task/${id}/image-seed`);
    expect([early.status, early.json.code]).toEqual([400, 4]);
  });

  it("gives a finished task a stable numeric seed", async () => {
    const h = await startHarness();
    const task = await finishedImagine(h);
    const seed = await h.get(`/mj/task/${task.id}/image-seed`);
    expect(seed.json).toEqual({
      code: 1,
      description: "成功",
      result: expect.stringMatching(/^\d+$/),
    });
    expect((await h.get(`/mj/task/${task.id}/image-seed`)).json).toEqual(seed.json);
  });
});

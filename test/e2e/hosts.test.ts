import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIM_PROFILES, type SimProfile } from "../../local/simulator/index.ts";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * The core loop against each real host's behaviour (the simulator's profiles,
 * local/simulator/profiles.ts), through the whole stack: the stack sends the key the way the
 * host reads it (MJ_API_AUTH), and everything else follows from the host's answers.
 */
describe.each(SIM_PROFILES)("against %s", (profile: SimProfile) => {
  let stack: TestStack;
  let alice: ReturnType<typeof api>;
  beforeAll(async () => {
    stack = await startTestStack({ simulator: { profile } });
    alice = api(stack, OWNERS.alice.key);
  });
  afterAll(() => stack.stop());

  async function finished(id: string) {
    const read = await eventually(
      () => alice.task(id),
      (r) => ["SUCCESS", "FAILURE", "CANCEL"].includes(r.body?.status),
    );
    return read.body;
  }

  it("imagines, then upscales a quadrant, sending the key the host's way", async () => {
    const answer = await alice.imagine({ prompt: "a paper boat at dawn" });
    expect(answer.status).toBe(202);
    const grid = await finished(answer.body.id);
    expect(grid).toMatchObject({ status: "SUCCESS", imageUrl: expect.any(String) });
    const u1 = grid.buttons.find((b: { label: string }) => b.label === "U1");
    expect(u1).toBeDefined();
    const child = await alice.call("POST", `/v1/tasks/${grid.id}/actions`, {
      customId: u1.customId,
    });
    expect(child.status).toBe(202);
    expect(await finished(child.body.id)).toMatchObject({
      status: "SUCCESS",
      action: "UPSCALE",
      parentId: grid.id,
    });
  });
});

/**
 * trueai's "busy" answers (trueai-org/midjourney-proxy, src/Midjourney.API/Controllers/SubmitController.cs
 * per-user limits; src/Midjourney.Services/TaskService.cs "无可用的账号实例") are upstream_busy with
 * Retry-After, on imagine (code 4 / code 3) and on the other routes (the `{success:false}` envelope).
 */
describe("a busy trueai is busy, not a refusal", () => {
  let stack: TestStack;
  let alice: ReturnType<typeof api>;
  beforeAll(async () => {
    stack = await startTestStack({ simulator: { profile: "trueai" } });
    alice = api(stack, OWNERS.alice.key);
  });
  afterAll(() => stack.stop());

  it.each([
    [
      "imagine",
      "concurrencyLimit",
      "/v1/imagine",
      { prompt: "a boat --sim-submit=concurrencyLimit" },
    ],
    ["imagine", "queueLimit", "/v1/imagine", { prompt: "a boat --sim-submit=queueLimit" }],
    ["imagine", "noAccount", "/v1/imagine", { prompt: "a boat --sim-submit=noAccount" }],
    [
      "shorten",
      "concurrencyLimit",
      "/v1/shorten",
      { prompt: "a boat --sim-submit=concurrencyLimit" },
    ],
  ])("%s answering %s → 429 upstream_busy with Retry-After", async (_route, _kind, path, body) => {
    const answer = await alice.call("POST", path, body);
    expect(answer.status).toBe(429);
    expect(answer.body.error.code).toBe("upstream_busy");
    expect(Number(answer.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(stack.simulator?.stats().jobsCreated).toBe(0);
  });

  it("a refusal with bad parameters is still 422", async () => {
    const answer = await alice.imagine({ prompt: "a boat --sim-submit=refused" });
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe("upstream_rejected");
  });
});

/**
 * `mode`: the path prefix trueai serves every route under (trueai-org/midjourney-proxy,
 * src/Midjourney.API/Controllers/SubmitController.cs and TaskController.cs: `mj-fast/mj/...`,
 * `mj-relax/mj/...`, `mj-turbo/mj/...`; the task records it as `mode`, TaskInfo.cs), for the
 * submit and every poll of that task; recorded on the task and filterable in the list.
 */
describe("speed per request (mode)", () => {
  let stack: TestStack;
  let alice: ReturnType<typeof api>;
  beforeAll(async () => {
    stack = await startTestStack({ simulator: { profile: "trueai" } });
    alice = api(stack, OWNERS.alice.key);
  });
  afterAll(() => stack.stop());

  it("submits and polls a relax job under /mj-relax, and lists it by mode", async () => {
    const relaxed = await alice.imagine({ prompt: "a slow boat --sim-drop-hooks", mode: "relax" });
    expect(relaxed.status).toBe(202);
    expect(relaxed.body).toMatchObject({ mode: "relax", status: "SUBMITTED" });
    const plain = await alice.imagine({ prompt: "a plain boat" });
    expect(plain.body.mode).toBeNull();

    const job = stack.simulator?.tasks().find((t) => t.id === relaxed.body.upstreamTaskId);
    expect(job?.mode).toBe("RELAX");
    expect(stack.simulator?.tasks().find((t) => t.id === plain.body.upstreamTaskId)?.mode).toBe(
      undefined,
    );

    // no webhook: only a poll under the task's own prefix can finish it
    await stack.simulator?.idle();
    const before = stack.simulator?.stats().requestsByPrefix["mj-relax"] ?? 0;
    await stack.reconcileOnce();
    expect(stack.simulator?.stats().requestsByPrefix["mj-relax"]).toBeGreaterThan(before);
    expect((await alice.task(relaxed.body.id)).body).toMatchObject({
      status: "SUCCESS",
      mode: "relax",
    });

    // a button of a relax task runs at relax unless told otherwise
    const grid = (await alice.task(relaxed.body.id)).body;
    const u1 = grid.buttons.find((b: { label: string }) => b.label === "U1").customId;
    const child = await alice.call("POST", `/v1/tasks/${grid.id}/actions`, { customId: u1 });
    expect(child.body.mode).toBe("relax");
    const turbo = await alice.call("POST", `/v1/tasks/${grid.id}/actions`, {
      customId: grid.buttons.find((b: { label: string }) => b.label === "U2").customId,
      mode: "turbo",
    });
    expect(turbo.body.mode).toBe("turbo");
    expect(stack.simulator?.tasks().find((t) => t.id === turbo.body.upstreamTaskId)?.mode).toBe(
      "TURBO",
    );

    const listed = await alice.list("?mode=relax");
    expect(listed.status).toBe(200);
    const ids = listed.body.items.map((t: { id: string }) => t.id);
    expect(ids).toContain(relaxed.body.id);
    expect(ids).toContain(child.body.id);
    expect(ids).not.toContain(plain.body.id);
    expect(ids).not.toContain(turbo.body.id);
    const relaxDone = await alice.list("?mode=relax&status=SUCCESS");
    const doneIds = relaxDone.body.items.map((t: { id: string }) => t.id);
    expect(doneIds).toContain(relaxed.body.id);
    expect(doneIds).not.toContain(plain.body.id);
  });

  // trueai answers a remix click with code 21 itself (no gateway rewrite): MODAL at once
  // (trueai-org/midjourney-proxy, src/Midjourney.Services/TaskService.cs SubmitAction)
  it("a remix click waits in MODAL from its answer (code 21) and runs once the modal is sent", async () => {
    const root = await alice.imagine({ prompt: "a harbor for trueai" });
    const grid = (
      await eventually(
        () => alice.task(root.body.id),
        (r) => r.body?.status === "SUCCESS",
      )
    ).body;
    const v2 = grid.buttons.find((b: { label: string }) => b.label === "V2").customId;
    const click = await alice.call("POST", `/v1/tasks/${grid.id}/actions`, {
      customId: v2,
      enableRemix: true,
    });
    expect(click.body.status).toBe("MODAL");
    const modal = await alice.call("POST", `/v1/tasks/${click.body.id}/modal`, {
      prompt: "a harbor at dusk",
    });
    expect(modal.status).toBe(202);
    const done = await eventually(
      () => alice.task(click.body.id),
      (r) => r.body?.status === "SUCCESS",
    );
    expect(done.body).toMatchObject({ status: "SUCCESS", prompt: "a harbor at dusk" });
  });

  // trueai-org/midjourney-proxy, src/Midjourney.Base/Models/TaskInfo.cs: a VIDEO task's
  // imageUrl is the mp4, and the batch is in both videoUrls and imageUrls
  it("records trueai's video as the video, not as an image", async () => {
    const answer = await alice.call("POST", "/v1/video", {
      image: "https://example.org/boat.png",
      prompt: "the boat drifts",
    });
    expect(answer.status).toBe(202);
    const done = (
      await eventually(
        () => alice.task(answer.body.id),
        (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
      )
    ).body;
    expect(done).toMatchObject({ status: "SUCCESS", imageUrl: null });
    expect(done.videoUrl).toMatch(/\.mp4$/);
    expect(done.imageUrls.filter((u: string) => u.endsWith(".mp4"))).toEqual([]);
    const file = await fetch(done.videoUrl);
    expect(file.headers.get("content-type")).toBe("video/mp4");
  });

  // trueai-org/midjourney-proxy, src/Midjourney.Base/Dto/SubmitVideoDTO.cs (videoType
  // vid_1.1_i2v_480|720, batchSize 1|2|4, action "extend" with index and taskId) and
  // src/Midjourney.API/Controllers/SubmitController.cs (Video: an extend names a SUCCESS task)
  it("records the whole batch in videoUrls and copies every video as it came", async () => {
    const answer = await alice.call("POST", "/v1/video", {
      image: "https://example.org/boat.png",
      prompt: "the boat drifts",
      videoType: 720,
      batchSize: 2,
    });
    expect(answer.status).toBe(202);
    const done = (
      await eventually(
        () => alice.task(answer.body.id),
        (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
      )
    ).body;
    expect(done.status).toBe("SUCCESS");
    expect(done.videoUrls).toHaveLength(2);
    expect(done.videoUrls[0]).toBe(done.videoUrl);
    expect(done.upstreamVideoUrls).toEqual(done.videoUrls);
    const job = stack.simulator?.tasks().find((t) => t.id === done.upstreamTaskId);
    expect(job?.description).toBe("/video low vid_1.1_i2v_720 the boat drifts");

    await stack.copyImagesOnce();
    const copied = (await alice.task(done.id)).body;
    expect(copied.imagesStatus).toBe("done");
    const videos = copied.images.filter((i: { kind: string }) => i.kind === "video");
    expect(videos.map((v: { name: string; source: string }) => [v.name, v.source])).toEqual([
      ["video.mp4", done.upstreamVideoUrls[0]],
      ["video-2.mp4", done.upstreamVideoUrls[1]],
    ]);
    // no grid split and no thumbnail: a video is stored as it came
    expect(copied.images).toHaveLength(2);
    // the read shows the copies; the upstream's own links stay beside them
    expect(copied.videoUrls).toEqual(videos.map((v: { url: string }) => v.url));
    expect(copied.videoUrl).toBe(videos[0].url);
    expect(copied.upstreamVideoUrls).toEqual(done.upstreamVideoUrls);
    for (const video of videos) {
      const file = await fetch(video.url);
      expect(file.headers.get("content-type")).toBe("video/mp4");
      expect((await file.arrayBuffer()).byteLength).toBe(video.bytes);
    }
  });

  it("extends a finished video: a child VIDEO sent with action extend, index and taskId", async () => {
    const first = await alice.call("POST", "/v1/video", {
      image: "https://example.org/crane.png",
      prompt: "the crane unfolds",
      batchSize: 1,
    });
    const parent = (
      await eventually(
        () => alice.task(first.body.id),
        (r) => r.body?.status === "SUCCESS",
      )
    ).body;
    const extend = await alice.call("POST", "/v1/video", {
      action: "extend",
      taskId: parent.id,
      index: 0,
    });
    expect(extend.status).toBe(202);
    expect(extend.body).toMatchObject({
      action: "VIDEO",
      parentId: parent.id,
      prompt: "the crane unfolds",
    });
    const child = (
      await eventually(
        () => alice.task(extend.body.id),
        (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
      )
    ).body;
    expect(child.status).toBe("SUCCESS");
    const job = stack.simulator?.tasks().find((t) => t.id === child.upstreamTaskId);
    expect(job?.description).toBe(`/video extend ${parent.upstreamTaskId} 0 low the crane unfolds`);
    expect((await alice.task(parent.id)).body.children).toContain(child.id);
  });

  it("refuses a bad video request with 400, and an extend of a non-video with 409", async () => {
    const bad = [
      { prompt: "no image" },
      { image: "https://example.org/a.png", videoType: 1080 },
      { image: "https://example.org/a.png", batchSize: 3 },
      { action: "extend", index: 0 },
      { action: "extend", taskId: "01JTASK0000000000000000001" },
      { image: "https://example.org/a.png", index: 1 },
    ];
    for (const body of bad) {
      const answer = await alice.call("POST", "/v1/video", body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe("validation_failed");
    }
    const grid = await alice.imagine({ prompt: "a still boat" });
    const done = await eventually(
      () => alice.task(grid.body.id),
      (r) => r.body?.status === "SUCCESS",
    );
    const extend = await alice.call("POST", "/v1/video", {
      action: "extend",
      taskId: done.body.id,
      index: 0,
    });
    expect(extend.status).toBe(409);
    expect(extend.body.error.code).toBe("invalid_state");
    const missing = await alice.call("POST", "/v1/video", {
      action: "extend",
      taskId: "01JTASK0000000000000000001",
      index: 0,
    });
    expect(missing.status).toBe(404);
  });

  it("refuses an unknown mode with 400", async () => {
    expect((await alice.imagine({ prompt: "a boat", mode: "slow" })).status).toBe(400);
    expect((await alice.list("?mode=slow")).status).toBe(400);
  });
});

/**
 * Remix modals hidden behind code 1: new-api rewrites code 21 to 1 for every action but Inpaint
 * and Custom Zoom, and serves its own copy of the task (`status: ""`, `buttons: null`) until
 * its sync loop has seen the job (QuantumNous/new-api, relay/mjproxy_handler.go
 * RelayMidjourneySubmit and coverMidjourneyTaskDto; controller/midjourney.go
 * UpdateMidjourneyTaskBulk). The child is first recorded SUBMITTED; the MODAL a later poll
 * shows must win, and the modal must then go through.
 */
describe("a remix modal revealed late by the cometapi gateway", () => {
  let stack: TestStack;
  let alice: ReturnType<typeof api>;
  beforeAll(async () => {
    stack = await startTestStack({ simulator: { profile: "cometapi", gatewaySyncMs: 400 } });
    alice = api(stack, OWNERS.alice.key);
  });
  afterAll(() => stack.stop());

  async function settled(id: string, statuses: string[]) {
    const read = await eventually(
      () => alice.task(id),
      (r) => statuses.includes(r.body?.status),
    );
    return read.body;
  }

  it("records SUBMITTED, then the MODAL a poll finds, and takes the modal", async () => {
    const root = await alice.imagine({ prompt: "a harbor to remix" });
    const grid = await settled(root.body.id, ["SUCCESS"]);
    const v2 = grid.buttons.find((b: { label: string }) => b.label === "V2").customId;
    const click = await alice.call("POST", `/v1/tasks/${grid.id}/actions`, {
      customId: v2,
      enableRemix: true,
    });
    expect(click.status).toBe(202);
    // the gateway's copy said nothing yet ("" status): the child is only known as submitted
    expect(click.body.status).toBe("SUBMITTED");

    // once the gateway has synced, a poll shows MODAL, and MODAL ranks above SUBMITTED
    await new Promise((r) => setTimeout(r, 450));
    await stack.reconcileOnce();
    expect((await alice.task(click.body.id)).body.status).toBe("MODAL");

    const modal = await alice.call("POST", `/v1/tasks/${click.body.id}/modal`, {
      prompt: "a harbor at night",
    });
    expect(modal.status).toBe(202);
    expect(modal.body.status).toBe("SUBMITTED");
    const done = await settled(click.body.id, ["SUCCESS", "FAILURE"]);
    expect(done).toMatchObject({ status: "SUCCESS", prompt: "a harbor at night" });
    // and no late copy takes it back into MODAL
    await stack.reconcileOnce();
    expect((await alice.task(click.body.id)).body.status).toBe("SUCCESS");
  });

  it("polls a young child soon after its submit, not only at the regular interval", async () => {
    const root = await alice.imagine({ prompt: "a harbor to remix again" });
    const grid = await settled(root.body.id, ["SUCCESS"]);
    const v3 = grid.buttons.find((b: { label: string }) => b.label === "V3").customId;
    const click = await alice.call("POST", `/v1/tasks/${grid.id}/actions`, {
      customId: v3,
      enableRemix: true,
    });
    expect(click.body.status).toBe("SUBMITTED");
    // the first young poll is due 3 s after the submit; before that nothing is due
    const early = await stack.pollYoungOnce();
    expect(early.checked).toBe(0);
    await new Promise((r) => setTimeout(r, 3100));
    const due = await stack.pollYoungOnce();
    expect(due.checked).toBeGreaterThanOrEqual(1);
    expect((await alice.task(click.body.id)).body.status).toBe("MODAL");
    // the same point of the schedule is not polled twice
    expect((await stack.pollYoungOnce()).checked).toBe(0);
  });
});

/**
 * novicezk's own protocol (novicezk/midjourney-proxy, controller/SubmitController.java: imagine,
 * change, simple-change, describe, blend; domain/Task.java: no `buttons`): its grids get the
 * standard nine buttons, U/V/reroll run through /submit/change, and the routes it lacks answer
 * 422 upstream_unsupported naming the host's kind, without recording or starting anything.
 */
describe("novicezk (MJ_API_KIND=novicezk)", () => {
  let stack: TestStack;
  let alice: ReturnType<typeof api>;
  beforeAll(async () => {
    stack = await startTestStack({ simulator: { profile: "novicezk" } });
    alice = api(stack, OWNERS.alice.key);
  });
  afterAll(() => stack.stop());

  async function finished(id: string) {
    return (
      await eventually(
        () => alice.task(id),
        (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
      )
    ).body;
  }

  it("gives its grids the standard buttons and runs U, V and reroll through /submit/change", async () => {
    const root = await alice.imagine({ prompt: "a paper crane" });
    const grid = await finished(root.body.id);
    const upstreamGrid = stack.simulator?.tasks().find((t) => t.id === grid.upstreamTaskId);
    expect(upstreamGrid).not.toHaveProperty("buttons");
    expect(grid.buttons.map((b: { label: string; emoji: string }) => b.label || b.emoji)).toEqual([
      "U1",
      "U2",
      "U3",
      "U4",
      "🔄",
      "V1",
      "V2",
      "V3",
      "V4",
    ]);
    for (const [label, action, command] of [
      ["U2", "UPSCALE", "U2"],
      ["V3", "VARIATION", "V3"],
      ["🔄", "REROLL", "R"],
    ] as const) {
      const customId = grid.buttons.find(
        (b: { label: string; emoji: string }) => b.label === label || b.emoji === label,
      ).customId;
      const click = await alice.call("POST", `/v1/tasks/${grid.id}/actions`, { customId });
      expect(click.status).toBe(202);
      const child = await finished(click.body.id);
      expect(child).toMatchObject({ status: "SUCCESS", action, parentId: grid.id });
      const job = stack.simulator?.tasks().find((t) => t.id === child.upstreamTaskId);
      expect(job?.description).toBe(`/up ${grid.upstreamTaskId} ${command}`);
    }
  });

  it.each([
    ["/v1/shorten", { prompt: "a long prompt about a paper crane" }, "/submit/shorten"],
    ["/v1/video", { image: "https://example.org/crane.png" }, "/submit/video"],
  ])(
    "%s answers 422 upstream_unsupported naming novicezk, recording nothing",
    async (path, body, route) => {
      const before = (await alice.list("?limit=100")).body.items.length;
      const submits = stack.simulator?.stats().submits;
      const answer = await alice.call("POST", path, body);
      expect(answer.status).toBe(422);
      expect(answer.body.error.code).toBe("upstream_unsupported");
      expect(answer.body.error.message).toContain("novicezk");
      expect(answer.body.error.message).toContain(route);
      expect((await alice.list("?limit=100")).body.items.length).toBe(before);
      expect(stack.simulator?.stats().submits).toBe(submits);
    },
  );

  it("has no speed prefixes: a mode is 422 upstream_unsupported", async () => {
    const answer = await alice.imagine({ prompt: "a fast crane", mode: "fast" });
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe("upstream_unsupported");
    expect(answer.body.error.message).toContain("/mj-fast");
  });

  it("has no seed route either: 422, not 502", async () => {
    const root = await alice.imagine({ prompt: "a seeded crane" });
    const grid = await finished(root.body.id);
    const seed = await alice.call("GET", `/v1/tasks/${grid.id}/seed`);
    expect(seed.status).toBe(422);
    expect(seed.body.error.code).toBe("upstream_unsupported");
  });
});

/**
 * Describe and shorten picks on every host: new-api answers the pick and retry customIds 400
 * unknown_action (QuantumNous/new-api, service/midjourney.go CoverPlusActionToNormalAction);
 * trueai refuses PromptAnalyzer with code 4 and opens a modal for PicReader
 * (trueai-org/midjourney-proxy, src/Midjourney.Services/TaskService.cs). A pick runs as an
 * imagine of the picked prompt, a retry as a new describe of the same image, as the child.
 */
describe.each(["cometapi", "trueai"] as const)("describe and shorten picks on %s", (profile) => {
  let stack: TestStack;
  let alice: ReturnType<typeof api>;
  beforeAll(async () => {
    stack = await startTestStack({ simulator: { profile } });
    alice = api(stack, OWNERS.alice.key);
  });
  afterAll(() => stack.stop());

  async function finished(id: string) {
    return (
      await eventually(
        () => alice.task(id),
        (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
      )
    ).body;
  }
  const pickOf = (task: { buttons: { customId: string; emoji: string }[] }, emoji: string) =>
    task.buttons.find((b) => b.emoji === emoji)?.customId;

  it("a describe pick and retry, and a shorten pick, all run", async () => {
    const described = await finished(
      (await alice.call("POST", "/v1/describe", { link: "https://example.org/boat.png" })).body.id,
    );
    expect(described.prompts).toHaveLength(4);
    const pick = await alice.call("POST", `/v1/tasks/${described.id}/actions`, {
      customId: pickOf(described, "2️⃣"),
    });
    expect(pick.status).toBe(202);
    expect(pick.body).toMatchObject({
      action: "IMAGINE",
      parentId: described.id,
      prompt: described.prompts[1],
    });
    expect((await finished(pick.body.id)).buttons).toHaveLength(9);

    const retry = await alice.call("POST", `/v1/tasks/${described.id}/actions`, {
      customId: pickOf(described, "🔄"),
    });
    expect(retry.status).toBe(202);
    expect(await finished(retry.body.id)).toMatchObject({
      action: "DESCRIBE",
      parentId: described.id,
      prompts: expect.arrayContaining([expect.any(String)]),
    });

    const shortened = await finished(
      (await alice.call("POST", "/v1/shorten", { prompt: "a small paper boat on calm water" })).body
        .id,
    );
    const short = await alice.call("POST", `/v1/tasks/${shortened.id}/actions`, {
      customId: pickOf(shortened, "3️⃣"),
    });
    expect(short.status).toBe(202);
    expect(await finished(short.body.id)).toMatchObject({
      status: "SUCCESS",
      action: "IMAGINE",
      prompt: shortened.prompts[2],
    });
  });
});

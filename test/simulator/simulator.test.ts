import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import type { SubmitFaultKind } from "../../local/simulator/index.ts";
import { eventually } from "../eventually.ts";
import { API_KEY, type Harness, startHarness, steps } from "./helpers.ts";

const HASH = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function imagine(h: Harness, prompt: string, extra: Record<string, unknown> = {}) {
  return h.post("/mj/submit/imagine", { prompt, state: "st-1", notifyHook: h.rx.url, ...extra });
}

async function png(url: string): Promise<PNG> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("image/png");
  return PNG.sync.read(Buffer.from(await res.arrayBuffer()));
}

function pixel(image: PNG, x: number, y: number): string {
  const i = (y * image.width + x) * 4;
  return [image.data[i], image.data[i + 1], image.data[i + 2]].join(",");
}

describe("imagine lifecycle", () => {
  it("accepts, runs NOT_START → SUBMITTED → IN_PROGRESS steps → SUCCESS and notifies every change", async () => {
    const h = await startHarness({ progressSteps: [0, 15, 31, 46, 62, 78, 93] });
    const submitted = await imagine(h, "a paper boat --v 6.1");
    expect(submitted.status).toBe(200);
    expect(submitted.json).toEqual({
      code: 1,
      description: "Submit success",
      result: expect.stringMatching(/^\d{16}$/),
      properties: { discordInstanceId: expect.any(String), discordChannelId: expect.any(String) },
    });
    const id: string = submitted.json.result;
    await h.sim.idle();
    const hooks = h.hooksOf(id);
    expect(steps(hooks)).toEqual([
      "SUBMITTED:0%",
      "IN_PROGRESS:0%",
      "IN_PROGRESS:15%",
      "IN_PROGRESS:31%",
      "IN_PROGRESS:46%",
      "IN_PROGRESS:62%",
      "IN_PROGRESS:78%",
      "IN_PROGRESS:93%",
      "SUCCESS:100%",
    ]);
    expect(h.rx.hooks.every((hook) => hook.headers["content-type"] === "application/json")).toBe(
      true,
    );
    expect(hooks[2]?.imageUrl).toMatch(new RegExp(`/mj/image/${id}\\?preview=15$`));
    expect(hooks[2]?.buttons).toEqual([]);

    const done = await h.fetchTask(id);
    expect(done).toEqual(hooks.at(-1));
    expect(done.imageUrl).toBe(`${h.sim.url}/mj/image/${id}`);
    expect(done.finishTime).toBeGreaterThanOrEqual(done.startTime ?? Number.POSITIVE_INFINITY);
    expect(done.startTime).toBeGreaterThanOrEqual(done.submitTime);
    const hash = done.properties.messageHash ?? "";
    expect(hash).toMatch(HASH);
    const button = (customId: string, label: string, emoji = "") => ({
      customId,
      emoji,
      label,
      type: 2,
      style: 2,
    });
    expect(done.buttons).toEqual([
      button(`MJ::JOB::upsample::1::${hash}`, "U1"),
      button(`MJ::JOB::upsample::2::${hash}`, "U2"),
      button(`MJ::JOB::upsample::3::${hash}`, "U3"),
      button(`MJ::JOB::upsample::4::${hash}`, "U4"),
      button(`MJ::JOB::reroll::0::${hash}::SOLO`, "", "🔄"),
      button(`MJ::JOB::variation::1::${hash}`, "V1"),
      button(`MJ::JOB::variation::2::${hash}`, "V2"),
      button(`MJ::JOB::variation::3::${hash}`, "V3"),
      button(`MJ::JOB::variation::4::${hash}`, "V4"),
    ]);
    expect(h.sim.tasks()).toEqual([done]);
    expect(h.sim.stats()).toMatchObject({
      submits: 1,
      jobsCreated: 1,
      webhooksSent: 9,
      webhooksFailed: 0,
      jobsByState: { "st-1": 1 },
    });
  });

  it("shows a new task in NOT_START with no progress until its first step", async () => {
    const h = await startHarness({ stepMs: 5_000 });
    const { json } = await imagine(h, "a paper boat --v 6.1");
    const fresh = await h.fetchTask(json.result);
    expect(fresh).toEqual({
      id: json.result,
      action: "IMAGINE",
      status: "NOT_START",
      progress: null,
      prompt: "a paper boat --v 6.1",
      promptEn: "a paper boat --v 6.1",
      description: "/imagine a paper boat --v 6.1",
      state: "st-1",
      submitTime: expect.any(Number),
      startTime: null,
      finishTime: null,
      imageUrl: null,
      failReason: null,
      properties: {
        notifyHook: h.rx.url,
        finalPrompt: "a paper boat --v 6.1",
        discordInstanceId: expect.any(String),
      },
      buttons: [],
    });
    expect((await fetch(`${h.sim.url}/mj/image/${json.result}`)).status).toBe(404);
  });

  it("sends no webhook without a notifyHook, and the task still finishes", async () => {
    const h = await startHarness();
    const { json } = await h.post("/mj/submit/imagine", { prompt: "no hook" });
    await h.sim.idle();
    expect((await h.fetchTask(json.result)).status).toBe("SUCCESS");
    expect(h.rx.hooks).toEqual([]);
    expect(h.sim.stats().webhooksSent).toBe(0);
  });

  it("counts jobs per state, so one request can be shown to make one job", async () => {
    const h = await startHarness();
    await imagine(h, "one", { state: "a" });
    await imagine(h, "two", { state: "b" });
    await imagine(h, "three", { state: "b" });
    await imagine(h, "", { state: "c" });
    expect(h.sim.stats()).toMatchObject({
      submits: 4,
      jobsCreated: 3,
      jobsByState: { a: 1, b: 2 },
    });
  });

  it("gives every task a unique 16-digit id", async () => {
    const h = await startHarness();
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => h.post("/mj/submit/imagine", { prompt: `p${i}` })),
    );
    const ids = answers.map((a) => a.json.result);
    expect(ids.every((id) => /^\d{16}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(40);
  });

  it.each([
    ["taskFailure", { taskFailure: 1 }, "doomed"],
    ["--sim-fail", {}, "doomed --sim-fail"],
  ])("fails a task with a reason and an empty progress (%s)", async (_, faults, prompt) => {
    const h = await startHarness({ faults });
    const { json } = await imagine(h, prompt);
    await h.sim.idle();
    const task = await h.fetchTask(json.result);
    expect(task).toMatchObject({
      status: "FAILURE",
      progress: "",
      failReason: "[Invalid parameter] Invalid value",
      buttons: [],
    });
    expect(task.finishTime).toBeTypeOf("number");
    expect(steps(h.hooksOf(json.result)).at(-1)).toBe("FAILURE:");
    expect(steps(h.hooksOf(json.result))[0]).toBe("SUBMITTED:0%");
  });
});

describe("queries", () => {
  it("lists known tasks by id and skips unknown ones", async () => {
    const h = await startHarness();
    const a = (await imagine(h, "a")).json.result;
    const b = (await imagine(h, "b")).json.result;
    await h.sim.idle();
    const listed = await h.post("/mj/task/list-by-condition", { ids: [a, "0000000000000000", b] });
    expect(listed.status).toBe(200);
    expect(listed.json.map((t: { id: string }) => t.id).sort()).toEqual([a, b].sort());
    expect(listed.json[0]).toEqual(await h.fetchTask(listed.json[0].id));
    expect((await h.post("/mj/task/list-by-condition", { ids: [] })).json).toEqual([]);
    expect((await h.post("/mj/task/list-by-condition", {})).json).toEqual([]);
    expect((await h.post("/mj/task/list-by-condition", "{nope")).status).toBe(400);
  });

  it.each([
    ["400", 400, '{"description":"task_no_found ","type":"upstream_error","code":4}'],
    ["204", 204, ""],
    ["empty200", 200, ""],
  ] as const)("answers an unknown id the %s way", async (mode, status, text) => {
    const h = await startHarness({ faults: { unknownTaskFetch: mode } });
    const res = await h.get("/mj/task/1234567890123456/fetch");
    expect(res.status).toBe(status);
    expect(res.text).toBe(text);
  });

  it("serves the control routes without auth", async () => {
    const h = await startHarness();
    const { json } = await imagine(h, "control");
    const tasks = await h.get("/_sim/tasks", {});
    expect(tasks.json.map((t: { id: string }) => t.id)).toEqual([json.result]);
    expect((await h.get("/_sim/stats", {})).json).toMatchObject({ submits: 1, jobsCreated: 1 });
    const put = await fetch(`${h.sim.url}/_sim/faults`, {
      method: "PUT",
      body: JSON.stringify({ unknownTaskFetch: "204", submitFailure: 0 }),
    });
    expect(await put.json()).toMatchObject({ unknownTaskFetch: "204" });
    expect((await h.get("/mj/task/1/fetch")).status).toBe(204);
    const bad = await fetch(`${h.sim.url}/_sim/faults`, {
      method: "PUT",
      body: JSON.stringify({ submitFailure: 2, bogus: true }),
    });
    expect(bad.status).toBe(400);
  });
});

describe("auth", () => {
  it.each([
    ["no header", {}],
    ["a wrong bearer", { authorization: "Bearer nope" }],
    ["the key as a bearer in the wrong header", { "x-api-key": API_KEY }],
    ["a wrong mj-api-secret", { "mj-api-secret": "nope" }],
  ])("refuses %s with the OpenAI-style envelope", async (_, headers) => {
    const h = await startHarness();
    const res = await h.post("/mj/submit/imagine", { prompt: "x" }, headers);
    expect(res.status).toBe(401);
    expect(res.json).toEqual({
      error: { message: expect.any(String), type: "comet_api_error", code: "invalid_api_key" },
    });
    expect((await h.get("/mj/task/1/fetch", headers)).status).toBe(401);
    expect(h.sim.stats().submits).toBe(0);
  });

  it("accepts the raw key as Authorization (new-api strips an optional Bearer: QuantumNous/new-api, middleware/auth.go)", async () => {
    const h = await startHarness();
    const res = await h.post("/mj/submit/imagine", { prompt: "x" }, { authorization: API_KEY });
    expect(res.json.code).toBe(1);
  });

  it("accepts mj-api-secret and the speed-mode prefixes", async () => {
    const h = await startHarness();
    const res = await h.post("/mj/submit/imagine", { prompt: "x" }, { "mj-api-secret": API_KEY });
    expect(res.json.code).toBe(1);
    const fast = await h.post("/mj-fast/mj/submit/imagine", { prompt: "y" });
    expect(fast.json.code).toBe(1);
  });
});

describe("submit validation", () => {
  it.each([
    ["an empty prompt", { prompt: "" }, "prompt不能为空"],
    ["a blank prompt", { prompt: "   " }, "prompt不能为空"],
    ["no prompt", {}, "prompt不能为空"],
    ["a prompt that is not a string", { prompt: 42 }, "prompt不能为空"],
    ["a bad base64Array", { prompt: "x", base64Array: ["nope"] }, "base64格式错误"],
    ["a state over 255 chars", { prompt: "x", state: "s".repeat(256) }, "state长度不能超过255"],
    ["an unknown directive", { prompt: "x --sim-explode" }, "未知的模拟指令: --sim-explode"],
  ])("refuses %s with code 4 and no job", async (_, body, description) => {
    const h = await startHarness();
    const res = await h.post("/mj/submit/imagine", body);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ code: 4, description });
    expect(h.sim.stats().jobsCreated).toBe(0);
  });

  it.each(["{not json", "[1,2]", "null", ""])("answers HTTP 400 to the body %j", async (raw) => {
    const h = await startHarness();
    expect((await h.post("/mj/submit/imagine", raw)).status).toBe(400);
  });

  it("bans the whole word nude, like NZ's banned-word pre-check", async () => {
    const h = await startHarness();
    const res = await h.post("/mj/submit/imagine", { prompt: "A NUDE statue" });
    expect(res.json).toEqual({
      code: 24,
      description: "可能包含敏感词",
      result: null,
      properties: { promptEn: "A NUDE statue", bannedWord: "nude" },
    });
    expect(
      (await h.post("/mj/submit/imagine", { prompt: "nudes and denuded hills" })).json.code,
    ).toBe(1);
    expect(h.sim.stats().jobsCreated).toBe(1);
  });
});

describe("images", () => {
  it("serves the result as a real 512×512 PNG grid of four different quadrants, without auth", async () => {
    const h = await startHarness();
    const { json } = await imagine(h, "a lighthouse at dusk");
    await h.sim.idle();
    const task = await h.fetchTask(json.result);
    const image = await png(task.imageUrl ?? "");
    expect([image.width, image.height]).toEqual([512, 512]);
    const centers = [
      pixel(image, 128, 128),
      pixel(image, 384, 128),
      pixel(image, 128, 384),
      pixel(image, 384, 384),
    ];
    const corners = [
      pixel(image, 2, 2),
      pixel(image, 300, 2),
      pixel(image, 2, 300),
      pixel(image, 300, 300),
    ];
    const quadrantColors = centers.map((c, i) => new Set([c, corners[i]]));
    for (let i = 0; i < 4; i++) {
      for (let j = i + 1; j < 4; j++) {
        const shared = [...(quadrantColors[i] ?? [])].filter((c) => quadrantColors[j]?.has(c));
        expect(shared).toEqual([]);
      }
    }
    const other = await imagine(h, "a different prompt");
    await h.sim.idle();
    const otherImage = await png((await h.fetchTask(other.json.result)).imageUrl ?? "");
    expect(otherImage.data.equals(image.data)).toBe(false);
  });

  it("serves a dimmer preview while the task runs", async () => {
    const h = await startHarness({
      stepMs: 30,
      progressSteps: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90],
    });
    const { json } = await imagine(h, "preview me");
    const running = await eventually(
      () => h.fetchTask(json.result),
      (task) => task.status !== "NOT_START" && task.status !== "SUBMITTED",
      10_000,
      5,
    );
    expect(running.status).toBe("IN_PROGRESS");
    const preview = await png(running.imageUrl ?? "");
    expect([preview.width, preview.height]).toEqual([512, 512]);
    await h.sim.idle();
    const final = await png((await h.fetchTask(json.result)).imageUrl ?? "");
    expect(final.data.equals(preview.data)).toBe(false);
  });
});

const FAULT_ANSWERS: [SubmitFaultKind, number, (text: string) => void][] = [
  [
    "http500",
    500,
    (t) =>
      expect(JSON.parse(t)).toEqual({
        success: false,
        code: -1,
        message: "操作失败",
        timestamp: expect.stringMatching(/^\d+$/),
      }),
  ],
  ["garbage", 200, (t) => expect(t).toBe("<html>Bad gateway</html>")],
  ["empty", 200, (t) => expect(t).toBe("")],
  [
    "queueFull",
    429,
    (t) =>
      expect(JSON.parse(t)).toMatchObject({
        code: 23,
        description: "队列已满，请稍后尝试",
        result: expect.stringMatching(/^\d{16}$/),
      }),
  ],
  ["refused", 200, (t) => expect(JSON.parse(t)).toMatchObject({ code: 4 })],
  [
    "bannedPrompt",
    200,
    (t) =>
      expect(JSON.parse(t)).toMatchObject({
        code: 24,
        description: "可能包含敏感词",
        properties: { bannedWord: expect.any(String) },
      }),
  ],
  [
    "envelope",
    200,
    (t) =>
      expect(JSON.parse(t)).toMatchObject({
        success: false,
        code: -1,
        message: "服务暂不可用，请联系管理员",
      }),
  ],
];

describe("submit faults", () => {
  it.each(FAULT_ANSWERS)(
    "answers %s (run config) without creating a job",
    async (kind, status, check) => {
      const h = await startHarness({ faults: { submitFailure: 1, submitFailureKinds: [kind] } });
      const res = await imagine(h, "anything");
      expect(res.status).toBe(status);
      check(res.text);
      expect(h.sim.stats()).toMatchObject({ submits: 1, jobsCreated: 0 });
    },
  );

  it.each(FAULT_ANSWERS)(
    "answers %s when the prompt says --sim-submit",
    async (kind, status, check) => {
      const h = await startHarness();
      const res = await imagine(h, `anything --sim-submit=${kind}`);
      expect(res.status).toBe(status);
      check(res.text);
      expect(h.sim.stats().jobsCreated).toBe(0);
    },
  );

  it("holds a timeout submit past the client's patience, creates no job, and lets stop() go", async () => {
    const h = await startHarness();
    const submits = () => h.sim.stats().submits;
    const patience = new AbortController();
    let answered = false;
    const attempt = fetch(`${h.sim.url}/mj/submit/imagine`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ prompt: "slow --sim-submit=timeout" }),
      signal: patience.signal,
    }).finally(() => {
      answered = true;
    });
    // the simulator has the request and gives no answer, while it answers a later one; the
    // client gives up first
    expect(await eventually(submits, (n) => n === 1)).toBe(1);
    expect((await h.get("/mj/task/unknown/fetch")).status).toBeLessThan(500);
    expect(answered).toBe(false);
    patience.abort();
    await expect(attempt).rejects.toThrow();
    expect(h.sim.stats()).toMatchObject({ submits: 1, jobsCreated: 0 });
    const late = fetch(`${h.sim.url}/mj/submit/imagine`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ prompt: "slow --sim-submit=timeout" }),
    }).then(
      (res) => res.status,
      () => "closed",
    );
    // held, not answered: it waits in the simulator until stop()
    expect(await eventually(submits, (n) => n === 2)).toBe(2);
    await h.sim.stop();
    // stop() released it with the 504 a gateway gives up with (not HOLD_MS later, not a cut)
    expect(await late).toBe(504);
  });

  it("draws faults per submit at the configured rate, and setFaults turns them off", async () => {
    const h = await startHarness({
      seed: 7,
      faults: { submitFailure: 0.5, submitFailureKinds: ["refused"] },
    });
    const codes = [];
    for (let i = 0; i < 20; i++) codes.push((await imagine(h, `p${i}`)).json.code);
    expect(codes).toContain(1);
    expect(codes).toContain(4);
    h.sim.setFaults({ submitFailure: 0 });
    expect((await imagine(h, "now fine")).json.code).toBe(1);
  });

  it("answers code 24 for --sim-banned", async () => {
    const h = await startHarness();
    const res = await imagine(h, "harmless --sim-banned");
    expect(res.json).toMatchObject({ code: 24, properties: { promptEn: "harmless --sim-banned" } });
    expect(h.sim.stats().jobsCreated).toBe(0);
  });

  it("answers code 22 (queued, job created) for --sim-queued", async () => {
    const h = await startHarness();
    const res = await imagine(h, "later --sim-queued");
    expect(res.json).toMatchObject({ code: 22, properties: { numberOfQueues: 1 } });
    expect(h.sim.stats().jobsCreated).toBe(1);
  });
});

describe("webhook faults", () => {
  it("drops all of a task's webhooks (dropWebhooks, neverNotify, --sim-drop-hooks) but still runs it", async () => {
    for (const [faults, prompt] of [
      [{ dropWebhooks: 1 }, "a"],
      [{ neverNotify: true }, "b"],
      [{}, "c --sim-drop-hooks"],
      [{ dropEachWebhook: 1 }, "d"],
    ] as const) {
      const h = await startHarness({ faults });
      const { json } = await imagine(h, prompt);
      await h.sim.idle();
      expect((await h.fetchTask(json.result)).status).toBe("SUCCESS");
      expect(h.rx.hooks).toEqual([]);
      expect(h.sim.stats()).toMatchObject({ webhooksSent: 0, webhooksDropped: 4 });
    }
  });

  it("drops only the terminal webhook for --sim-drop-final", async () => {
    const h = await startHarness();
    const { json } = await imagine(h, "x --sim-drop-final");
    await h.sim.idle();
    expect(steps(h.hooksOf(json.result))).toEqual([
      "SUBMITTED:0%",
      "IN_PROGRESS:0%",
      "IN_PROGRESS:50%",
    ]);
    expect((await h.fetchTask(json.result)).properties.finalPrompt).toBe("x");
  });

  it("sends each webhook twice (duplicateWebhooks and --sim-duplicate)", async () => {
    for (const [faults, prompt] of [
      [{ duplicateWebhooks: 1 }, "a"],
      [{}, "b --sim-duplicate"],
    ] as const) {
      const h = await startHarness({ faults });
      const { json } = await imagine(h, prompt);
      await h.sim.idle();
      const seen = h.hooksOf(json.result);
      expect(steps(seen)).toEqual([
        "SUBMITTED:0%",
        "SUBMITTED:0%",
        "IN_PROGRESS:0%",
        "IN_PROGRESS:0%",
        "IN_PROGRESS:50%",
        "IN_PROGRESS:50%",
        "SUCCESS:100%",
        "SUCCESS:100%",
      ]);
      expect(seen[6]).toEqual(seen[7]);
    }
  });

  it("delivers a task's webhooks late and shuffled (reorderWebhooks and --sim-reorder)", async () => {
    for (const [faults, prompt] of [
      [{ reorderWebhooks: 1 }, "a"],
      [{}, "b --sim-reorder"],
    ] as const) {
      const h = await startHarness({ faults, progressSteps: [0, 15, 31, 46, 62, 78, 93] });
      const { json } = await imagine(h, prompt);
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(h.rx.hooks).toEqual([]);
      await h.sim.idle();
      const seen = steps(h.hooksOf(json.result));
      const inOrder = [
        "SUBMITTED:0%",
        ...[0, 15, 31, 46, 62, 78, 93].map((p) => `IN_PROGRESS:${p}%`),
        "SUCCESS:100%",
      ];
      expect([...seen].sort()).toEqual([...inOrder].sort());
      expect(seen).not.toEqual(inOrder);
    }
  });

  it("delays webhooks without reordering them", async () => {
    const h = await startHarness({ faults: { delayWebhookMs: 30 } });
    const { json } = await imagine(h, "slow hooks");
    await h.sim.idle();
    expect(steps(h.hooksOf(json.result))).toEqual([
      "SUBMITTED:0%",
      "IN_PROGRESS:0%",
      "IN_PROGRESS:50%",
      "SUCCESS:100%",
    ]);
  });

  it("counts failed deliveries and never retries them", async () => {
    const h = await startHarness();
    h.rx.status = 500;
    const { json } = await imagine(h, "receiver down");
    await imagine(h, "nowhere", { notifyHook: "http://127.0.0.1:1/hook" });
    await h.sim.idle();
    expect(h.hooksOf(json.result)).toHaveLength(4);
    expect(h.sim.stats()).toMatchObject({ webhooksSent: 8, webhooksFailed: 8 });
  });
});

describe("seeded runs", () => {
  async function run(seed: number) {
    const h = await startHarness({
      seed,
      faults: {
        submitFailure: 0.3,
        submitFailureKinds: ["http500", "queueFull", "refused", "envelope", "garbage", "empty"],
        taskFailure: 0.3,
        dropWebhooks: 0.1,
        dropEachWebhook: 0.2,
        duplicateWebhooks: 0.2,
        reorderWebhooks: 0.2,
      },
    });
    const answers: string[] = [];
    for (let i = 0; i < 16; i++) {
      const res = await imagine(h, `prompt ${i}`, { state: `s${i}` });
      answers.push(`${res.status}:${res.json?.code ?? res.text}`);
    }
    await h.sim.idle();
    const byState = h.sim
      .tasks()
      .map((t) => [
        t.state,
        t.status,
        steps(h.rx.hooks.filter((hook) => hook.body.id === t.id).map((hook) => hook.body)),
      ]);
    return { answers, byState };
  }

  it("replays the same faults for the same seed, and others for another", async () => {
    const first = await run(1234);
    expect(await run(1234)).toEqual(first);
    expect(await run(4321)).not.toEqual(first);
  });
});

describe("stop", () => {
  it("leaves nothing running: a process that used the simulator exits by itself", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/run-and-stop.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", fixture], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(output).toContain("stopped");
    expect(code).toBe(0);
  }, 20_000);
});

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../local/dynamodb.ts";
import { eventually, OWNERS, type ProcessRun as Run, runProcess } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * `paperboat` as a user runs it: the real bin (bin/paperboat.mjs, TypeScript through tsx) in its
 * own process, against the real local stack; what it prints, what it saves, how it exits.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "paperboat.mjs");
const home = mkdtempSync(join(tmpdir(), "paperboat-cli-"));
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** Runs the CLI with a clean environment: no PAPERBOAT_* but what the test gives, its own HOME. */
function cli(
  args: string[],
  env: Record<string, string> = {},
  command = ["node", BIN],
): Promise<Run> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("PAPERBOAT_")),
  );
  const [cmd = "node", ...pre] = command;
  return runProcess(cmd, [...pre, ...args], {
    cwd: ROOT,
    env: { ...base, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), ...env },
  });
}

const asAlice = () => ({ PAPERBOAT_URL: stack.url, PAPERBOAT_API_KEY: OWNERS.alice.key });
const FAST = ["--poll-interval", "30"];

/** No stack trace, ever: one sentence. */
function expectOneSentence(stderr: string, text: string) {
  expect(stderr).toContain(text);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr.trim().split("\n")).toHaveLength(1);
}

let rootId = "";

describe("paperboat imagine", () => {
  it("--wait --out: follows the task with a progress bar, prints the image URL, saves a real PNG", async () => {
    const out = join(home, "images");
    const run = await cli(
      [
        "imagine",
        "a paper boat floating on calm water at sunrise",
        "--wait",
        "--out",
        out,
        ...FAST,
      ],
      asAlice(),
    );
    expect(run.stderr).toMatch(/\[█+\] 100% {2}SUCCESS/);
    expect(run.code).toBe(0);
    rootId = /task: +(\w{26})/.exec(run.stdout)?.[1] ?? "";
    expect(rootId).toHaveLength(26);
    expect(run.stdout).toMatch(/image: +http:\/\/127\.0\.0\.1:\d+\//);
    expect(run.stdout).toContain(`buttons:  U1  U2  U3  U4  🔄  V1  V2  V3  V4`);
    const saved = /saved: +(.+\.png)$/m.exec(run.stdout)?.[1] ?? "";
    expect(saved).toBe(join(out, `${rootId}.png`));
    const image = PNG.sync.read(readFileSync(saved));
    expect(image.width).toBeGreaterThan(100);
    expect(image.height).toBeGreaterThan(100);
  });

  it("--json: the finished task on stdout for scripts, nothing else", async () => {
    const run = await cli(
      ["imagine", "a boat for scripts", "--wait", "--json", ...FAST],
      asAlice(),
    );
    expect(run.code).toBe(0);
    const task = JSON.parse(run.stdout);
    expect(task).toMatchObject({ status: "SUCCESS", prompt: "a boat for scripts", owner: "alice" });
    expect(run.stderr).toBe("");
  });

  it("without --wait: the submitted task and how to follow it", async () => {
    const run = await cli(["imagine", "a boat, later"], asAlice());
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/IMAGINE +SUBMITTED/);
    expect(run.stdout).toMatch(/follow: +paperboat wait \w{26}/);
  });

  it("a failed task: its reason in one sentence, exit 1", async () => {
    const run = await cli(
      ["imagine", "a boat that sinks --sim-fail", "--wait", "-q", ...FAST],
      asAlice(),
    );
    expect(run.code).toBe(1);
    expectOneSentence(run.stderr, "ended in FAILURE");
    expect(run.stdout).toMatch(/reason: +\S/);
  });

  it("--timeout: exit 5, and the task goes on; Ctrl-C: exit 130, and says how to follow it", async () => {
    const late = await cli(
      ["imagine", "never called back --sim-drop-hooks", "--wait", "--timeout", "1", ...FAST],
      asAlice(),
    );
    expect(late.code).toBe(5);
    expect(late.stderr).toMatch(
      /Task \w{26} is still SUBMITTED \(0%\) after 1 s\. It goes on: `paperboat wait \w{26}`\./,
    );

    const child = spawn("node", [BIN, "imagine", "waiting for ever --sim-drop-hooks", "--wait"], {
      cwd: ROOT,
      env: { ...process.env, ...asAlice() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((ok) => child.once("close", ok));
    expect(
      await eventually(
        () => stderr,
        (text) => text.includes("SUBMITTED"),
      ),
    ).toContain("SUBMITTED");
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/Stopped waiting; task (\w{26}) goes on: `paperboat wait \1`\./);
  });

  it("--wait that loses the server: exit 5, and says how to resume once it is back", async () => {
    // a pass-through proxy in front of the stack, closed while the CLI is waiting
    const target = new URL(stack.url);
    const proxy = createServer((req, res) => {
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    const port = await freePort();
    await new Promise<void>((ok) => proxy.listen(port, "127.0.0.1", ok));
    const child = spawn(
      "node",
      [BIN, "imagine", "the server goes away --sim-drop-hooks", "--wait", ...FAST],
      {
        cwd: ROOT,
        env: { ...process.env, ...asAlice(), PAPERBOAT_URL: `http://127.0.0.1:${port}` },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((ok) => child.once("close", ok));
    while (!stderr.includes("SUBMITTED")) await new Promise((r) => setTimeout(r, 20));
    proxy.closeAllConnections();
    await new Promise((ok) => proxy.close(ok));
    expect(await exited).toBe(5);
    const id = /task (\w{26}) goes on/.exec(stderr)?.[1] ?? "";
    expect(stderr).toContain(`When the server is back: \`paperboat wait ${id}\`.`);
    // and it does resume: the task is still there
    const resumed = await cli(["show", id], asAlice());
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(id);
  });

  it("a refused prompt is exit 4, a full upstream queue exit 5", async () => {
    const banned = await cli(["imagine", "a boat --sim-banned"], asAlice());
    expect(banned.code).toBe(4);
    expectOneSentence(banned.stderr, "The upstream refused the job");
    const busy = await cli(["imagine", "a boat --sim-submit=queueFull"], asAlice());
    expect(busy.code).toBe(5);
    expectOneSentence(busy.stderr, "queue is full");
  });
});

describe("paperboat action, show, tasks", () => {
  let childId = "";

  it("action <id> U2 resolves the label to the button's customId and follows the child", async () => {
    const run = await cli(["action", rootId, "U2", "--wait", "-q", ...FAST], asAlice());
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/UPSCALE +SUCCESS +100%/);
    expect(run.stdout).toContain(`parent:   ${rootId}`);
    childId = /task: +(\w{26})/.exec(run.stdout)?.[1] ?? "";
    const missing = await cli(["action", rootId, "X9"], asAlice());
    expect(missing.code).toBe(4);
    expectOneSentence(missing.stderr, 'has no button "X9"; it has U1, U2');
  });

  it("show <id>: the task and its tree; --json the nested tree", async () => {
    const run = await cli(["show", rootId], asAlice());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${rootId}  IMAGINE  SUCCESS`);
    expect(run.stdout).toMatch(new RegExp(`└── ${childId}  UPSCALE  SUCCESS`));
    const json = JSON.parse((await cli(["show", rootId, "--json"], asAlice())).stdout);
    expect(json).toMatchObject({ id: rootId, children: [{ id: childId, parentId: rootId }] });
  });

  it("tasks: a table, newest first; --json the page; a bad --status is a usage error", async () => {
    const run = await cli(["tasks", "--limit", "3"], asAlice());
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID +ACTION +STATUS +PROGRESS +CREATED +PROMPT$/);
    expect(lines.slice(1, 4)).toHaveLength(3);
    expect(run.stdout).toMatch(/more: paperboat tasks --cursor \S+/);
    const page = JSON.parse(
      (await cli(["tasks", "--json", "--action", "UPSCALE"], asAlice())).stdout,
    );
    expect(page.items.map((t: { id: string }) => t.id)).toEqual([childId]);
    const bad = await cli(["tasks", "--status", "DONE"], asAlice());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("DONE");
  });

  it("cancel <id>: the task, CANCEL with its reason; a finished one is exit 4", async () => {
    const zoom = await cli(["action", childId, "Custom Zoom", "--json"], asAlice());
    const waiting = JSON.parse(zoom.stdout);
    expect(waiting.status).toBe("MODAL");
    const run = await cli(["cancel", waiting.id], asAlice());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${waiting.id}  CUSTOM_ZOOM  CANCEL`);
    expect(run.stdout).toContain("reason:   cancelled by its owner while it waited for its modal");
    const again = await cli(["cancel", waiting.id], asAlice());
    expect(again.code).toBe(4);
    expectOneSentence(
      again.stderr,
      "Only an unfinished task can be cancelled; this one is CANCEL.",
    );
  });

  it("an unknown task is exit 4 with the contract's message", async () => {
    const run = await cli(["show", "01ARZ3NDEKTSV4RRFFQ69G5FAV"], asAlice());
    expect(run.code).toBe(4);
    expectOneSentence(run.stderr, "paperboat: No such task.");
  });
});

describe("bad input gets a clear sentence and an exit code", () => {
  it("a wrong key: exit 3 (and the contract's code with --json)", async () => {
    const run = await cli(["tasks"], { ...asAlice(), PAPERBOAT_API_KEY: "not-a-key" });
    expect(run.code).toBe(3);
    expectOneSentence(run.stderr, `The server at ${stack.url} refused the API key`);
    const json = await cli(["tasks", "--json"], { ...asAlice(), PAPERBOAT_API_KEY: "not-a-key" });
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: "unauthorized", exitCode: 3 } });
    expect(json.stdout).toBe("");
  });

  it("no key at all: exit 3, saying where a key can come from", async () => {
    const run = await cli(["tasks"], { PAPERBOAT_URL: stack.url });
    expect(run.code).toBe(3);
    expectOneSentence(run.stderr, "No API key: pass --api-key, set PAPERBOAT_API_KEY");
  });

  it("a server that is not there: exit 5", async () => {
    const port = await freePort();
    const run = await cli(["tasks"], { ...asAlice(), PAPERBOAT_URL: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(5);
    expectOneSentence(run.stderr, `Cannot reach the paperboat server at http://127.0.0.1:${port}`);
  });

  it("usage errors are exit 2: unknown command, missing argument, an unquoted prompt", async () => {
    const unknown = await cli(["imagin", "a boat"], asAlice());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'imagin'");
    expect(unknown.stderr).toContain("imagine");
    const missing = await cli(["imagine"], asAlice());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'prompt'");
    const unquoted = await cli(["imagine", "a", "boat", "--v", "6.1"], asAlice());
    expect(unquoted.code).toBe(2);
    expect(unquoted.stderr).toContain("Quote the prompt");
  });

  it("--help and --version exit 0", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Exit codes: 0 ok, 1 the task failed, 2 usage");
    const version = await cli(["--version"]);
    expect(version.stdout.trim()).toBe(
      JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version,
    );
  });
});

describe("paperboat endpoints", () => {
  it("add, list and remove an account webhook endpoint; a bad URL and an unknown id fail clearly", async () => {
    const added = await cli(
      ["endpoints", "add", "http://127.0.0.1:9/all", "--events", "task.failed", "--json"],
      asAlice(),
    );
    expect(added.code).toBe(0);
    const endpoint = JSON.parse(added.stdout);
    expect(endpoint).toMatchObject({ id: expect.stringMatching(/^ep_/), events: ["task.failed"] });
    const listed = await cli(["endpoints", "list"], asAlice());
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(endpoint.id);
    expect(listed.stdout).toContain("http://127.0.0.1:9/all");
    const bad = await cli(["endpoints", "add", "ftp://example.com/x", "--json"], asAlice());
    expect(bad.code).toBe(4);
    expect(JSON.parse(bad.stderr).error.code).toBe("validation_failed");
    expect((await cli(["endpoints", "remove", endpoint.id], asAlice())).code).toBe(0);
    const again = await cli(["endpoints", "remove", endpoint.id, "--json"], asAlice());
    expect(again.code).toBe(4);
    expect(JSON.parse(again.stderr).error.code).toBe("not_found");
    const empty = await cli(["endpoints", "list"], asAlice());
    expect(empty.stdout).toContain("No endpoints");
  });
});

describe("paperboat admin keys (the operator's ADMIN_KEY)", () => {
  const asOperator = () => ({ PAPERBOAT_URL: stack.url, PAPERBOAT_ADMIN_KEY: stack.adminKey });

  it("create prints the key once; the key works; list never shows it; revoke takes it away", async () => {
    const created = await cli(
      ["admin", "keys", "create", "--owner", "cli-carol", "--name", "carol's laptop", "--json"],
      asOperator(),
    );
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ owner: "cli-carol", name: "carol's laptop" });
    expect(key.key).toMatch(/^pb_/);

    const used = await cli(["tasks", "--json"], {
      PAPERBOAT_URL: stack.url,
      PAPERBOAT_API_KEY: key.key,
    });
    expect(used.code).toBe(0);
    expect(JSON.parse(used.stdout).items).toEqual([]);

    // the flag works as well as the environment
    const listed = await cli([
      "--url",
      stack.url,
      "admin",
      "--admin-key",
      stack.adminKey,
      "keys",
      "list",
      "--owner",
      "cli-carol",
    ]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(key.id);
    expect(listed.stdout).toContain("carol's laptop");
    expect(listed.stdout).not.toContain(key.key);

    const human = await cli(["admin", "keys", "create", "--owner", "cli-carol"], asOperator());
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^key: +pb_/m);
    expect(human.stdout).toContain("shown this once");

    const revoked = await cli(["admin", "keys", "revoke", key.id], asOperator());
    expect(revoked.code).toBe(0);
    const again = await cli(["admin", "keys", "revoke", key.id, "--json"], asOperator());
    expect(again.code).toBe(4);
    expect(JSON.parse(again.stderr)).toMatchObject({ error: { code: "not_found", exitCode: 4 } });
    const after = await cli(
      ["admin", "keys", "list", "--owner", "cli-carol", "--json"],
      asOperator(),
    );
    expect(JSON.parse(after.stdout).items.map((k: { id: string }) => k.id)).not.toContain(key.id);
  });

  it("an owner's key, a wrong key or none: exit 3; a bad owner: exit 4; no --owner: exit 2", async () => {
    const owner = await cli(["admin", "keys", "list"], {
      PAPERBOAT_URL: stack.url,
      PAPERBOAT_ADMIN_KEY: OWNERS.alice.key,
    });
    expect(owner.code).toBe(3);
    expectOneSentence(owner.stderr, "refused the admin key");
    const none = await cli(["admin", "keys", "list"], { PAPERBOAT_URL: stack.url });
    expect(none.code).toBe(3);
    expectOneSentence(none.stderr, "No admin key");
    const bad = await cli(["admin", "keys", "create", "--owner", "not an owner"], asOperator());
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain("owner:");
    const missing = await cli(["admin", "keys", "create"], asOperator());
    expect(missing.code).toBe(2);
  });
});

describe("paperboat usage", () => {
  it("prints the owner's days as a table with a bar chart, and the totals; --json is the API's answer", async () => {
    const asOperator = { PAPERBOAT_URL: stack.url, PAPERBOAT_ADMIN_KEY: stack.adminKey };
    const created = await cli(
      ["admin", "keys", "create", "--owner", "cli-usage", "--json"],
      asOperator,
    );
    const key = JSON.parse(created.stdout).key as string;
    const post = (body: unknown) =>
      fetch(`${stack.url}/v1/imagine`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post({ prompt: "a counted boat", mode: "relax" })).status).toBe(202);
    expect((await post({ prompt: "another counted boat" })).status).toBe(202);
    expect((await post({ prompt: "a refused boat --sim-banned" })).status).toBe(422);
    const asOwner = { PAPERBOAT_URL: stack.url, PAPERBOAT_API_KEY: key };
    const today = new Date().toISOString().slice(0, 10);

    const human = await cli(["usage"], asOwner);
    expect(human.code).toBe(0);
    const [header, day] = human.stdout.split("\n");
    expect(header).toMatch(/^DATE +JOBS +FAILED +CHART +BY ACTION$/);
    // the only day is the busiest: a full bar
    expect(day).toMatch(new RegExp(`^${today} +3 +1 +█{24} +IMAGINE 3$`));
    expect(human.stdout).toMatch(/^total: +3 jobs, 1 failed$/m);
    expect(human.stdout).toMatch(/^modes: +relax 1$/m);

    const json = await cli(["usage", "--from", today, "--to", today, "--json"], asOwner);
    expect(JSON.parse(json.stdout)).toEqual({
      days: [{ date: today, jobs: { IMAGINE: 3 }, modes: { relax: 1 }, failed: 1 }],
      totals: { jobs: { IMAGINE: 3 }, modes: { relax: 1 }, failed: 1 },
    });

    const bad = await cli(["usage", "--from", "yesterday"], asOwner);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("YYYY-MM-DD");
  });
});

describe("settings: flags > environment > config file", () => {
  it("config set saves the file (0600), and each source wins over the next", async () => {
    const file = join(home, "custom", "config.json");
    const set = await cli([
      "config",
      "set",
      "--config",
      file,
      "--url",
      stack.url,
      "--api-key",
      OWNERS.alice.key,
    ]);
    expect(set.code).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
      url: stack.url,
      apiKey: OWNERS.alice.key,
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // the file alone is enough to work
    const fromFile = await cli(["tasks", "--config", file, "--json"]);
    expect(fromFile.code).toBe(0);
    const show = async (env: Record<string, string>, flags: string[] = []) =>
      JSON.parse((await cli(["config", "show", "--json", "--config", file, ...flags], env)).stdout);
    expect(await show({})).toMatchObject({ urlFrom: "file", apiKeyFrom: "file" });
    expect(await show({ PAPERBOAT_API_KEY: "env-key-123" })).toMatchObject({
      apiKeyFrom: "env",
      apiKey: "env-…-123",
    });
    expect(
      await show({ PAPERBOAT_API_KEY: "env-key-123" }, ["--api-key", "flag-key-456"]),
    ).toMatchObject({ apiKeyFrom: "flag", apiKey: "flag…-456" });
    // and the winner is the key actually sent
    const envWins = await cli(["tasks", "--config", file], { PAPERBOAT_API_KEY: "env-key-123" });
    expect(envWins.code).toBe(3);
  });

  it("the default file is ~/.config/paperboat/config.json; a broken one is a usage error", async () => {
    const path = await cli(["config", "path"], { XDG_CONFIG_HOME: "" });
    expect(path.stdout.trim()).toBe(join(home, ".config", "paperboat", "config.json"));
    const broken = join(home, "broken.json");
    writeFileSync(broken, "{nope");
    const run = await cli(["tasks", "--config", broken], asAlice());
    expect(run.code).toBe(2);
    expectOneSentence(run.stderr, `The config file ${broken} is not JSON.`);
  });
});

describe("npx paperboat", () => {
  it("runs the package's own bin from the repository", async () => {
    const run = await cli(["health"], asAlice(), ["npx", "--no-install", "paperboat"]);
    expect(run.code).toBe(0);
    const [server, ...upstreams] = run.stdout.trim().split("\n");
    expect(server).toBe(`${stack.url}: ok`);
    expect(upstreams).toEqual([expect.stringMatching(/^upstream 1 u-[0-9a-f]{10}: up$/)]);
  });
});

describe("paperboat upload, edit, retexture", () => {
  const png = () => {
    const file = join(home, "boat.png");
    const image = new PNG({ width: 4, height: 4 });
    image.data.fill(200);
    writeFileSync(file, PNG.sync.write(image));
    return file;
  };

  it("upload <file> prints a link that opens without a key and gives back the same bytes", async () => {
    const file = png();
    const run = await cli(["upload", file], asAlice());
    expect(run.code).toBe(0);
    const url = run.stdout.trim();
    expect(url.startsWith(`${stack.url}/uploads/`)).toBe(true);
    const answer = await fetch(url);
    expect(Buffer.from(await answer.arrayBuffer()).equals(readFileSync(file))).toBe(true);
    const json = await cli(["upload", file, "--json"], asAlice());
    expect(JSON.parse(json.stdout)).toMatchObject({
      url: expect.any(String),
      expiresAt: expect.any(String),
    });
  });

  it("upload of a file that is not an image is a usage error (exit 2)", async () => {
    const file = join(home, "notes.txt");
    writeFileSync(file, "not a picture");
    const run = await cli(["upload", file], asAlice());
    expect(run.code).toBe(2);
    expectOneSentence(run.stderr, "is not a PNG, JPEG, GIF or WebP image");
  });

  it("edit <file> <prompt> --wait: an EDIT task, followed to SUCCESS", async () => {
    const run = await cli(
      ["edit", png(), "the boat at night", "--mask", png(), "--wait", "--json", ...FAST],
      asAlice(),
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      action: "EDIT",
      status: "SUCCESS",
      prompt: "the boat at night",
    });
  });

  it("retexture on a host without the route (the cometapi simulator) is exit 4, naming it", async () => {
    const run = await cli(["retexture", png(), "made of newspaper"], asAlice());
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("/submit/retexture");
  });
});

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../local/dynamodb.ts";
import { eventually } from "../eventually.ts";

const dataDir = mkdtempSync(join(tmpdir(), "paperboat-start-"));
let child: ChildProcess | null = null;
afterAll(() => {
  child?.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

function javaProcessesFor(dir: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
  return out.split("\n").filter((line) => line.includes("DynamoDBLocal") && line.includes(dir));
}

/**
 * The curl lines of a document's first `curl -s -X POST` snippet (a `\`-continued command is one
 * line), with the URL and the key as placeholders.
 */
function documentedCurls(file: string): string[] {
  const text = readFileSync(join(import.meta.dirname, "..", "..", file), "utf8");
  const block = /```sh\n(curl -s -X POST[^`]*)```/.exec(text)?.[1] ?? "";
  return block
    .replace(/\\\n\s*/g, "")
    .split("\n")
    .filter((line) => line.startsWith("curl "))
    .map((line) => line.replaceAll("http://127.0.0.1:3000", "URL").replaceAll("pb_…", "KEY"));
}

describe("a port that is taken", () => {
  it("fails at once with one line saying to set PORT, and a non-zero exit", async () => {
    const port = await freePort();
    const taken = createServer();
    await new Promise<void>((ok) => taken.listen(port, "127.0.0.1", ok));
    try {
      const run = spawn("npm", ["start", "--silent"], {
        env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, DYNAMODB_ENDPOINT: "" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      run.stderr?.on("data", (chunk) => {
        stderr += chunk.toString();
      });
      const code = await new Promise<number | null>((ok) => run.once("close", ok));
      expect(code).not.toBe(0);
      expect(stderr.trim()).toBe(
        `paperboat: port ${port} is in use: set PORT to a free one (PORT=${port + 1} npm start)`,
      );
      expect(javaProcessesFor(dataDir)).toEqual([]);
    } finally {
      await new Promise((ok) => taken.close(ok));
    }
  });
});

describe("several upstreams whose lists do not pair up", () => {
  it("fails at once with one line naming the setting (docs/upstreams.md)", async () => {
    const run = spawn("npm", ["start", "--silent"], {
      env: {
        ...process.env,
        PORT: String(await freePort()),
        DATA_DIR: dataDir,
        DYNAMODB_ENDPOINT: "",
        MJ_API_BASE_URL: "http://127.0.0.1:9/,http://127.0.0.1:10/",
        MJ_API_KEY: "key-a,key-b,key-c",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    run.stderr?.on("data", (chunk) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((ok) => run.once("close", ok));
    expect(code).not.toBe(0);
    expect(stderr.trim()).toBe(
      "paperboat: setting MJ_API_KEY is malformed: 3 values for 2 upstreams (give one, or one per MJ_API_BASE_URL)",
    );
    expect(stderr).not.toContain("key-a");
    expect(javaProcessesFor(dataDir)).toEqual([]);
  });
});

/** `npm start` as a user runs it: a real process, its printed curl line, then Ctrl-C. */
describe("npm start", () => {
  it("serves the curl it prints, then stops everything it started on SIGTERM", async () => {
    const port = await freePort();
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, "left-open.txt"), "x", { mode: 0o644 });
    child = spawn("npm", ["start", "--silent"], {
      env: {
        ...process.env,
        PORT: String(port),
        DATA_DIR: dataDir,
        SIMULATOR_STEP_MS: "20",
        DYNAMODB_ENDPOINT: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: false,
    });
    let output = "";
    let stdout = "";
    child.stdout?.on("data", (chunk) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk) => {
      output += chunk.toString();
    });
    await eventually(
      () => output,
      (text) => text.includes("Ctrl-C stops everything") || child?.exitCode !== null,
      60_000,
      100,
    );
    expect(output).toContain(`paperboat is running at http://127.0.0.1:${port}`);
    expect(javaProcessesFor(dataDir)).toHaveLength(1);

    const curl = output.split("\n").find((line) => line.trim().startsWith("curl -s -X POST"));
    expect(curl).toBeDefined();
    const answer = JSON.parse(execFileSync("bash", ["-c", curl as string], { encoding: "utf8" }));
    expect(answer).toMatchObject({ status: "SUBMITTED", owner: "local" });

    // within seconds the result has durable copies, kept under DATA_DIR/images
    const key = /Bearer ([^']+)'/.exec(curl as string)?.[1];
    const read = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/v1/tasks/${answer.id}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      return (await response.json()) as { imagesStatus: string; images: { url: string }[] };
    };
    const task = await eventually(read, (t) => t.imagesStatus === "done", 20_000, 200);
    expect(task).toMatchObject({ status: "SUCCESS", imagesStatus: "done" });
    expect(existsSync(join(dataDir, "images", "tasks", answer.id, "grid.png"))).toBe(true);
    // DATA_DIR holds secrets, the database and the copies: folders 0700, files 0600, all of
    // them (the file an earlier version left open to others included)
    const modes = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const path = join(dir, entry.name);
        const mode = statSync(path).mode & 0o777;
        return entry.isDirectory()
          ? [`${mode === 0o700 ? "ok" : mode.toString(8)} ${path}/`, ...modes(path)]
          : [`${mode === 0o600 ? "ok" : mode.toString(8)} ${path}`];
      });
    const all = modes(dataDir);
    expect(all.length).toBeGreaterThan(4);
    expect(all.filter((line) => !line.startsWith("ok "))).toEqual([]);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect((await fetch(task.images[0]?.url ?? "")).status).toBe(200);

    // the banner's curl lines are the documented ones, with this server's URL and key
    const banner = stdout.slice(stdout.indexOf("paperboat is running at"));
    const curls = banner
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith("curl "))
      .map((line) =>
        line.replaceAll(`http://127.0.0.1:${port}`, "URL").replaceAll(key ?? "", "KEY"),
      );
    // docs/development.md shows what it prints; README.md's first screen, the first of them
    expect(curls).toHaveLength(2);
    expect(curls).toEqual(documentedCurls("docs/development.md"));
    const readme = documentedCurls("README.md");
    expect(readme.length).toBeGreaterThan(0);
    for (const line of readme) expect(curls).toContain(line);

    const END = "Ctrl-C stops everything.";
    // piped, the log is JSON lines: everything but the banner parses, the task's changes included
    const logLines = stdout
      .replace(banner.slice(0, banner.indexOf(END) + END.length), "")
      .split("\n")
      .filter((line) => line.trim() !== "");
    const records = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) {
      expect(record).toMatchObject({ level: expect.any(String), message: expect.any(String) });
    }
    expect(records).toContainEqual(
      expect.objectContaining({ message: "webhook", taskId: answer.id, status: "SUCCESS" }),
    );

    // npm passes the signal on to the stack and then ends by the same signal
    const exited = new Promise<string>((ok) =>
      child?.once("exit", (code, signal) => ok(String(signal ?? code))),
    );
    child.kill("SIGTERM");
    expect(["0", "SIGTERM"]).toContain(await exited);
    expect(
      await eventually(
        () => javaProcessesFor(dataDir),
        (left) => left.length === 0,
        10_000,
        100,
      ),
    ).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  }, 120_000);
});

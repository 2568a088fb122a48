import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PROGRESS_STEPS } from "../../local/simulator/index.ts";
import { OWNERS, runProcess } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * `paperboat imagine --wait` follows the live stream: the real bin in its own process, talking
 * to the local stack through a forwarding proxy that counts which requests it made.
 */
const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "paperboat.mjs");
const home = mkdtempSync(join(tmpdir(), "paperboat-cli-stream-"));
let stack: TestStack;
let proxy: Server;
let proxyUrl = "";
const counts = { stream: 0, read: 0 };

beforeAll(async () => {
  stack = await startTestStack({ events: { intervalMs: 100 } });
  const target = new URL(stack.url);
  proxy = createServer((incoming, outgoing) => {
    const path = incoming.url ?? "/";
    if (path.endsWith("/events")) counts.stream++;
    else if (incoming.method === "GET" && /^\/v1\/tasks\/[^/?]+$/.test(path)) counts.read++;
    const forwarded = request(
      {
        host: target.hostname,
        port: target.port,
        path,
        method: incoming.method,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    incoming.pipe(forwarded);
  });
  await new Promise<void>((ok) => proxy.listen(0, "127.0.0.1", ok));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((ok) => proxy?.close(ok));
  await stack?.stop();
  rmSync(home, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string>) {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("PAPERBOAT_")),
  );
  return runProcess("node", [BIN, ...args], {
    cwd: ROOT,
    env: { ...base, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), ...env },
  });
}

describe("paperboat imagine --wait", () => {
  it("shows every progress step from the live stream, with no reads of the task", async () => {
    const run = await cli(["imagine", "a paper boat, live in a shell", "--wait"], {
      PAPERBOAT_URL: proxyUrl,
      PAPERBOAT_API_KEY: OWNERS.alice.key,
    });
    expect(run.code, run.stderr).toBe(0);
    // not a terminal: one progress line per change
    const lines = run.stderr.trim().split("\n");
    const steps = lines.map((line) => /(\d+)%\s+(\w+)$/.exec(line)?.slice(1).join(":"));
    expect(steps).toEqual([
      "0:NOT_START",
      "0:SUBMITTED",
      ...DEFAULT_PROGRESS_STEPS.map((p) => `${p}:IN_PROGRESS`),
      "100:SUCCESS",
    ]);
    expect(run.stdout).toContain("SUCCESS");
    expect(counts.stream).toBe(1);
    expect(counts.read).toBe(0);
  });

  it("watch prints each state of the task as a line, and as JSON lines with --json", async () => {
    const env = { PAPERBOAT_URL: stack.url, PAPERBOAT_API_KEY: OWNERS.alice.key };
    const submitted = await cli(["imagine", "a paper boat, watched from a shell", "--json"], env);
    const id = (JSON.parse(submitted.stdout) as { id: string }).id;
    const plain = await cli(["watch", id], env);
    expect(plain.code, plain.stderr).toBe(0);
    expect(
      plain.stdout
        .trim()
        .split("\n")
        .map((line) => line.replace(/\s+/g, " ")),
    ).toEqual([
      "NOT_START 0%",
      "SUBMITTED 0%",
      ...DEFAULT_PROGRESS_STEPS.map((p) => `IN_PROGRESS ${p}%`),
      "SUCCESS 100%",
    ]);
    const json = await cli(["watch", id, "--json"], env);
    const states = json.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: string; status: string });
    expect(states.map((s) => s.status).at(-1)).toBe("SUCCESS");
    expect(new Set(states.map((s) => s.id))).toEqual(new Set([id]));
    const unknown = await cli(["watch", "01JDB3K6Z5Q8N2X4V7W9Y1A3C5"], env);
    expect(unknown.code).toBe(4);
  });
});

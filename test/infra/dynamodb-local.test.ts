import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "../../functions/deps.ts";
import { ensureTable, freePort, startDynamoDbLocal } from "../../local/dynamodb.ts";

/**
 * DynamoDB Local as `npm start` runs it (on disk): reachable on the loopback address only,
 * its telemetry off, its files readable by this user only.
 */

const dataDir = join(mkdtempSync(join(tmpdir(), "paperboat-ddb-")), "dynamodb");
let port: number;
let db: Awaited<ReturnType<typeof startDynamoDbLocal>>;

beforeAll(async () => {
  port = await freePort();
  db = await startDynamoDbLocal({ port, dataDir });
  await ensureTable(createDocumentClient({ endpoint: db.endpoint }), "perms");
});
afterAll(async () => {
  await db?.stop();
  rmSync(join(dataDir, ".."), { recursive: true, force: true });
});

/** The local addresses (hex, as /proc/net/tcp{,6} writes them) listening on `port`. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return ["/proc/net/tcp", "/proc/net/tcp6"].flatMap((file) =>
    readFileSync(file, "utf8")
      .split("\n")
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((cols) => cols[3] === "0A" && cols[1]?.endsWith(`:${hexPort}`))
      .map((cols) => (cols[1] ?? "").split(":")[0] ?? ""),
  );
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((ok) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once("connect", () => {
      socket.destroy();
      ok(true);
    });
    socket.once("error", () => ok(false));
    socket.once("timeout", () => {
      socket.destroy();
      ok(false);
    });
  });
}

describe("DynamoDB Local", () => {
  it("listens on 127.0.0.1 only", async () => {
    // 127.0.0.1, as IPv4 or IPv4-mapped IPv6 (Java's socket); a wildcard bind shows zeros
    const listening = listeningAddresses(port);
    expect(listening).toHaveLength(1);
    expect(["0100007F", "0000000000000000FFFF00000100007F"]).toContain(listening[0]);
    expect(await reachable("127.0.0.1", port)).toBe(true);
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && a.family === "IPv4")
      .map((a) => a?.address as string);
    for (const address of others) expect(await reachable(address, port)).toBe(false);
  });

  it("runs with its telemetry off", () => {
    const processes = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes(dataDir) && line.includes("java"));
    expect(processes).toHaveLength(1);
    expect(processes[0]).toContain("-disableTelemetry");
  });

  it("keeps its folder 0700 and its files 0600", () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dataDir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(statSync(join(dataDir, file)).mode & 0o777).toBe(0o600);
  });

  it("closes files an earlier run left open to others when it starts again", async () => {
    await db.stop();
    const file = join(dataDir, readdirSync(dataDir)[0] ?? "");
    chmodSync(file, 0o644);
    chmodSync(dataDir, 0o755);
    db = await startDynamoDbLocal({ port: await freePort(), dataDir });
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

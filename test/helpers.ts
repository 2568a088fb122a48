import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { createDocumentClient } from "../functions/deps.ts";
import { createTaskStore } from "../functions/store/task-store.ts";
import { ensureTable } from "../local/dynamodb.ts";

export { eventually } from "./eventually.ts";

/** What a child process printed, and how it ended. */
export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (stdin closed), collecting its output; rejects if it cannot start. */
export function runProcess(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export const OWNERS = {
  alice: { owner: "alice", key: `key_alice_${randomBytes(8).toString("hex")}` },
  bob: { owner: "bob", key: `key_bob_${randomBytes(8).toString("hex")}` },
};

/** A table of this test file's own. */
export function uniqueTableName(prefix = "t"): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

export function dynamodbEndpoint(): string {
  return inject("dynamodbEndpoint");
}

/** A TaskStore on a fresh table of the shared DynamoDB Local. */
export async function createTestStore(tableName = uniqueTableName()) {
  const client = createDocumentClient({ endpoint: dynamodbEndpoint() });
  await ensureTable(client, tableName);
  return { store: createTaskStore({ client, tableName }), client, tableName };
}

/** A tiny client for the API, as a user would call it. */
export function api(stack: { url: string }, key: string) {
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: response.status, headers: response.headers, body: json };
  };
  return {
    call,
    imagine: (body: unknown, headers?: Record<string, string>) =>
      call("POST", "/v1/imagine", body, headers),
    task: (id: string) => call("GET", `/v1/tasks/${id}`),
    list: (query = "") => call("GET", `/v1/tasks${query}`),
  };
}

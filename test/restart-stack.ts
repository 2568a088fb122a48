import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../local/dynamodb.ts";
import { type Stack, startStack } from "../local/stack.ts";
import { api, eventually, OWNERS, uniqueTableName } from "./helpers.ts";

/**
 * The local stack as `npm start` keeps it: everything under one DATA_DIR (DynamoDB Local's
 * files, the image copies, the simulator's jobs), the same port and secrets at every start.
 * Each start is new processes with a new simulator port, so the upstream links of an earlier
 * run are dead, as the real upstream's are once they expire.
 */
export async function createRestartableStack(options: { stepMs: number }) {
  const dataDir = await mkdtemp(join(tmpdir(), "paperboat-restart-"));
  const port = await freePort();
  const fixed = {
    tableName: uniqueTableName(),
    callbackSecret: randomBytes(32).toString("base64url"),
    apiKeys: [OWNERS.alice],
    reconcileIntervalSeconds: 0,
    port,
    dynamodbDataDir: join(dataDir, "dynamodb"),
    images: { dir: join(dataDir, "images"), urlSecret: randomBytes(32).toString("base64url") },
    simulator: { stepMs: options.stepMs, dataDir: join(dataDir, "simulator") },
  };
  let running: Stack | null = null;
  return {
    dataDir,
    /** Starts the stack (stopping the running one first). */
    async start(): Promise<Stack> {
      await running?.stop();
      running = await startStack(fixed);
      return running;
    },
    async stop(): Promise<void> {
      await running?.stop();
      running = null;
    },
    async remove(): Promise<void> {
      await running?.stop();
      running = null;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls alice's task until `check` holds (or 20 s pass); the last answer's body. */
export async function taskWhen(
  stack: { url: string },
  id: string,
  check: (task: Record<string, any>) => boolean,
): Promise<Record<string, any>> {
  const read = async () => (await api(stack, OWNERS.alice.key).task(id)).body;
  return eventually(read, check, 20_000);
}

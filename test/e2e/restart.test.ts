import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startDynamoDbLocal } from "../../local/dynamodb.ts";
import { startStack } from "../../local/stack.ts";
import { api, OWNERS, uniqueTableName } from "../helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "paperboat-restart-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("restart", () => {
  it("keeps tasks in DATA_DIR across a restart of the embedded DynamoDB Local", async () => {
    const options = {
      tableName: uniqueTableName(),
      callbackSecret: randomBytes(32).toString("base64url"),
      apiKeys: [OWNERS.alice],
      reconcileIntervalSeconds: 0,
      simulator: { stepMs: 10 },
    };
    const first = await startStack({ ...options, dynamodbDataDir: dir });
    const submitted = await api(first, OWNERS.alice.key).imagine({ prompt: "survive me" });
    expect(submitted.status).toBe(202);
    await first.simulator?.idle();
    const before = await api(first, OWNERS.alice.key).task(submitted.body.id);
    expect(before.body.status).toBe("SUCCESS");
    await first.stop();

    // the same data directory, new processes: DynamoDB Local, server, simulator
    const db = await startDynamoDbLocal({ dataDir: dir });
    const second = await startStack({ ...options, dynamodbEndpoint: db.endpoint });
    try {
      const after = await api(second, OWNERS.alice.key).task(submitted.body.id);
      expect(after.status).toBe(200);
      expect(after.body).toEqual(before.body);
    } finally {
      await second.stop();
      await db.stop();
    }
  }, 120_000);
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "../../functions/deps.ts";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * TASK_RETENTION_DAYS: every item of a task (the task, its webhook deliveries) carries the
 * table's TTL attribute `ttl` = the task's createdAt + N days, written by the item's own creating
 * write; with 0 no item of a task has one. Read back from DynamoDB Local, after real requests.
 */

const DAY = 24 * 60 * 60;
let receiver: Server;
let receiverUrl = "";
const stacks: TestStack[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(204).end());
  });
  await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  for (const stack of stacks) await stack.stop();
  await new Promise<void>((ok) => {
    receiver.close(() => ok());
    receiver.closeAllConnections();
  });
});

/** Every item stored under the task's partition: the task item and its deliveries. */
async function itemsOf(stack: TestStack, taskId: string) {
  const client = createDocumentClient({ endpoint: stack.dynamodbEndpoint });
  const { Items } = await client.send(
    new QueryCommand({
      TableName: stack.tableName,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": `TASK#${taskId}` },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

/** A root task (with an Idempotency-Key: the key's transaction), a child (a button) and their deliveries. */
async function tasksWithDeliveries(stack: TestStack) {
  const alice = api(stack, OWNERS.alice.key);
  const finished = (id: string) =>
    eventually(
      () => alice.task(id),
      (r) => r.body?.status === "SUCCESS",
    );
  const submitted = await alice.imagine(
    { prompt: "a boat to keep a while", webhookUrl: receiverUrl },
    { "idempotency-key": `retention-${Date.now()}` },
  );
  const root = await finished(submitted.body.id);
  const u1 = root.body.buttons.find((b: { label: string }) => b.label === "U1").customId;
  const child = await finished(
    (await alice.call("POST", `/v1/tasks/${root.body.id}/actions`, { customId: u1 })).body.id,
  );
  await stack.dispatchOnce();
  return [root.body, child.body] as { id: string; createdAt: string }[];
}

describe("TASK_RETENTION_DAYS", () => {
  it("puts ttl = createdAt + N days on every item of a task, deliveries included", async () => {
    const stack = await startTestStack({ taskRetentionDays: 3 });
    stacks.push(stack);
    for (const task of await tasksWithDeliveries(stack)) {
      const items = await itemsOf(stack, task.id);
      const kinds = items.map((item) => String(item.sk).replace(/#.*/, ""));
      expect(kinds).toContain("TASK");
      expect(kinds).toContain("DELIVERY"); // the child inherited the webhookUrl
      const expected = Math.floor(Date.parse(task.createdAt) / 1000) + 3 * DAY;
      for (const item of items) expect(item.ttl, `${item.sk}`).toBe(expected);
    }
  });

  it("0 keeps them: no item of a task has a ttl", async () => {
    const stack = await startTestStack({ taskRetentionDays: 0 });
    stacks.push(stack);
    for (const task of await tasksWithDeliveries(stack)) {
      const items = await itemsOf(stack, task.id);
      expect(items.length).toBeGreaterThan(1);
      for (const item of items) expect(item.ttl, `${item.sk}`).toBeUndefined();
    }
  });
});

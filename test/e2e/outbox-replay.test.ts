import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "../../functions/deps.ts";
import { keys } from "../../functions/store/keys.ts";
import { createTaskStore } from "../../functions/store/task-store.ts";
import { api, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * An event that is already a delivery must not block the task's outbox. It happens when one
 * transition is written twice, as after an upgrade that changed the ranks (a task stored in
 * MODAL at the old rank 0 is written MODAL again by a poll): the second copy of the event must
 * be dropped, and the task's later events still delivered.
 */
let stack: TestStack;
let receiver: Server;
let receiverUrl: string;
const received: { id: string; type: string; taskId: string }[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      received.push({
        id: String(request.headers["webhook-id"]),
        type: body.type,
        taskId: body.data.id,
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
  receiver?.close();
  receiver?.closeAllConnections();
});

describe("the outbox", () => {
  it("drops an event that is already a delivery and still delivers the task's later events", async () => {
    const created = await api(stack, OWNERS.alice.key).imagine({
      prompt: "a boat that waits --sim-drop-hooks",
      webhookUrl: receiverUrl,
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const client = createDocumentClient({ endpoint: stack.dynamodbEndpoint });
    const at = new Date().toISOString();
    // the same task.modal event put into the outbox twice, as two writes of one transition would
    const queueModal = () =>
      client.send(
        new UpdateCommand({
          TableName: stack.tableName,
          Key: keys.task(id),
          UpdateExpression: "SET outbox = :events, gsi7pk = :dispatch, gsi7sk = :due",
          ExpressionAttributeValues: {
            ":events": [
              { id: `evt_${id}_MODAL`, type: "task.modal", status: "MODAL", progress: 0, at },
            ],
            ":dispatch": keys.dispatch(),
            ":due": keys.dispatchDue(new Date(at), keys.task(id).pk, "TASK"),
          },
        }),
      );
    await queueModal();
    await stack.dispatchOnce();
    await queueModal();
    await stack.dispatchOnce();

    const store = createTaskStore({ client, tableName: stack.tableName });
    await store.apply(
      id,
      { status: "SUCCESS", progress: 100, finishedAt: new Date().toISOString() },
      new Date(),
    );
    await stack.dispatchOnce();

    const mine = received.filter((event) => event.taskId === id);
    expect(mine.map((event) => event.type).sort()).toEqual(["task.modal", "task.succeeded"]);
    expect(new Set(mine.map((event) => event.id)).size).toBe(2);
  });
});

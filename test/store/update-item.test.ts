import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../../functions/core/errors.ts";
import { newTask } from "../../functions/core/submit.ts";
import { createDocumentClient, createIdFactory } from "../../functions/deps.ts";
import { keys } from "../../functions/store/keys.ts";
import { buildAdvance } from "../../functions/store/task-advance.ts";
import { taskToItem } from "../../functions/store/task-store.ts";
import { createUpdateItemSender } from "../../functions/store/update-item.ts";
import { ensureTable, freePort } from "../../local/dynamodb.ts";
import { type DynamoDbProxy, startDynamoDbProxy } from "../../local/dynamodb-proxy.ts";
import { dynamodbEndpoint, uniqueTableName } from "../helpers.ts";

/**
 * The webhook's write sent without the SDK's command pipeline (functions/store/update-item.ts),
 * against DynamoDB Local, through the fault proxy where DynamoDB must fail.
 */
const newId = createIdFactory();
const tableName = uniqueTableName();
let proxy: DynamoDbProxy;
const client = () => createDocumentClient({ endpoint: proxy.endpoint, maxAttempts: 2 });

async function seeded() {
  const task = {
    ...newTask({
      id: newId(),
      owner: "alice",
      action: "IMAGINE",
      prompt: "a boat",
      now: new Date("2026-11-25T09:00:00.000Z"),
    }),
    status: "SUBMITTED" as const,
    upstreamTaskId: "41",
  };
  // written to DynamoDB Local directly: the proxy counts only the writes under test
  await direct().send(new PutCommand({ TableName: tableName, Item: taskToItem(task) }));
  return task;
}

const direct = () => createDocumentClient({ endpoint: dynamodbEndpoint() });
const item = async (id: string) =>
  (await direct().send(new GetCommand({ TableName: tableName, Key: keys.task(id) }))).Item ?? {};

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  await ensureTable(createDocumentClient({ endpoint: dynamodbEndpoint() }), tableName);
});
afterEach(() => {
  proxy.setFault(null);
  proxy.reset();
});
afterAll(async () => {
  await proxy.stop();
});

describe("the webhook's UpdateItem", () => {
  it("writes what the DocumentClient writes for the same update", async () => {
    const [a, b] = [await seeded(), await seeded()];
    const at = new Date("2026-11-25T10:00:00.000Z");
    const update = {
      status: "IN_PROGRESS" as const,
      progress: 46,
      imageUrl: "http://127.0.0.1:9/x.png",
      upstreamTaskId: "41",
    };
    await createUpdateItemSender(client())({
      TableName: tableName,
      ...buildAdvance(a.id, update, at, false),
    });
    await client().send(
      new UpdateCommand({ TableName: tableName, ...buildAdvance(b.id, update, at, false) }),
    );
    const strip = (x: Record<string, unknown>, id: string) =>
      JSON.parse(JSON.stringify(x).replaceAll(id, "<id>"));
    expect(strip(await item(a.id), a.id)).toEqual(strip(await item(b.id), b.id));
    expect((await item(a.id)).progress).toBe(46);
  });

  it("returns the item when asked (ALL_NEW), and a failed condition is the SDK's exception", async () => {
    const task = await seeded();
    const send = createUpdateItemSender(client());
    const write = (progress: number) =>
      send({
        TableName: tableName,
        ...buildAdvance(task.id, { status: "IN_PROGRESS", progress }, new Date(), false),
        ReturnValues: "ALL_NEW",
      });
    const { Attributes } = await write(10);
    expect(Attributes).toMatchObject({ id: task.id, status: "IN_PROGRESS", progress: 10 });
    await expect(write(10)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(proxy.counts().UpdateItem).toBe(2);
  });

  it("a request DynamoDB refuses is its error, not retried and not 'unavailable'", async () => {
    const send = createUpdateItemSender(client());
    const refused = send({
      TableName: tableName,
      Key: keys.task(newId()),
      UpdateExpression: "SET #a = :missing",
      ExpressionAttributeNames: { "#a": "a" },
    });
    await expect(refused).rejects.toMatchObject({
      name: "ValidationException",
      $metadata: { httpStatusCode: 400 },
    });
    expect(proxy.counts().UpdateItem).toBe(1);
  });

  it.each(["throttle", "error500"] as const)(
    "%s once: the second attempt applies",
    async (kind) => {
      const task = await seeded();
      proxy.setFault({ kind, operations: ["UpdateItem"], times: 1 });
      await createUpdateItemSender(client())({
        TableName: tableName,
        ...buildAdvance(task.id, { status: "IN_PROGRESS", progress: 5 }, new Date(), false),
      });
      expect(proxy.counts().UpdateItem).toBe(2);
      expect((await item(task.id)).progress).toBe(5);
    },
  );

  it("nothing listening: unavailable after the client's attempts", async () => {
    const dead = createDocumentClient({
      endpoint: `http://127.0.0.1:${await freePort()}`,
      maxAttempts: 2,
    });
    const write = createUpdateItemSender(dead)({
      TableName: tableName,
      ...buildAdvance(newId(), { status: "IN_PROGRESS", progress: 5 }, new Date(), false),
    });
    await expect(write).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe("which way the write goes", () => {
  it("with the SDK this project pins, the write skips the command pipeline", () => {
    // if an SDK upgrade moves the settings the direct sender reads, this says so
    expect(createUpdateItemSender(client()).direct).toBe(true);
  });

  it("a client without those settings still writes, through its own pipeline", async () => {
    const task = await seeded();
    const real = client();
    // the same client, as another SDK version might resolve it: `maxAttempts` a plain number,
    // not the provider the direct sender reads (the client's retry strategy was built already)
    const other = Object.create(real, {
      config: { value: { ...real.config, maxAttempts: 2 } },
    }) as typeof real;
    const send = createUpdateItemSender(other);
    expect(send.direct).toBe(false);
    await send({
      TableName: tableName,
      ...buildAdvance(
        task.id,
        { status: "IN_PROGRESS", progress: 40 },
        new Date("2026-11-25T09:01:00.000Z"),
        false,
      ),
    });
    expect(await item(task.id)).toMatchObject({ status: "IN_PROGRESS", progress: 40 });
  });
});

import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page, TaskStore } from "../../functions/core/ports.ts";
import { newTask } from "../../functions/core/submit.ts";
import type { Task, TaskAction } from "../../functions/core/task.ts";
import { createDocumentClient, createIdFactory } from "../../functions/deps.ts";
import { createTaskStore } from "../../functions/store/task-store.ts";
import { type DynamoDbLocal, ensureTable, startDynamoDbLocal } from "../../local/dynamodb.ts";
import { createTestStore, uniqueTableName } from "../helpers.ts";

const newId = createIdFactory();
const at = new Date("2026-11-25T10:00:00.000Z");
let store: TaskStore;

beforeAll(async () => {
  ({ store } = await createTestStore());
});

async function create(fields: {
  owner?: string;
  action?: TaskAction;
  parentId?: string;
  status?: "SUCCESS";
}): Promise<Task> {
  const task = newTask({
    id: newId(),
    owner: fields.owner ?? "alice",
    action: fields.action ?? "IMAGINE",
    prompt: "a boat",
    parentId: fields.parentId,
    now: at,
  });
  await store.create(task);
  if (fields.status) {
    await store.advance(task.id, { status: "SUCCESS", progress: 100, upstreamTaskId: "1" }, at);
  }
  return task;
}

/** Every page of a listing, following lastId; asserts no page is over the limit. */
async function all(limit: number, page: (afterId?: string) => Promise<Page<Task>>) {
  const ids: string[] = [];
  let afterId: string | undefined;
  let pages = 0;
  do {
    const result = await page(afterId);
    expect(result.items.length).toBeLessThanOrEqual(limit);
    ids.push(...result.items.map((t) => t.id));
    afterId = result.lastId ?? undefined;
    pages++;
  } while (afterId && pages < 50);
  return { ids, pages };
}

describe("task trees in the store", () => {
  it("lists a task's children newest first, paged, and only the owner's", async () => {
    const parent = await create({});
    const children: Task[] = [];
    for (let i = 0; i < 7; i++) {
      children.push(await create({ parentId: parent.id, action: i % 2 ? "UPSCALE" : "VARIATION" }));
    }
    // a task of another owner naming alice's task as parent is never listed to alice
    await create({ owner: "mallory", parentId: parent.id });
    const newestFirst = children.map((c) => c.id).reverse();

    const listed = await all(3, (afterId) =>
      store.listChildren("alice", parent.id, { limit: 3, afterId }),
    );
    expect(listed.ids).toEqual(newestFirst);
    expect(listed.pages).toBe(3);

    const upscales = await all(2, (afterId) =>
      store.listChildren("alice", parent.id, { action: "UPSCALE", limit: 2, afterId }),
    );
    expect(upscales.ids).toEqual(
      children
        .filter((c) => c.action === "UPSCALE")
        .map((c) => c.id)
        .reverse(),
    );
    expect((await store.listChildren("bob", parent.id, { limit: 10 })).items).toEqual([]);

    expect(await store.listChildIds("alice", parent.id, 100)).toEqual(newestFirst);
    expect(await store.listChildIds("alice", parent.id, 2)).toEqual(newestFirst.slice(0, 2));
    expect(await store.listChildIds("bob", parent.id, 10)).toEqual([]);
    expect(await store.listChildIds("alice", newId(), 10)).toEqual([]);
  });

  it("fills filtered pages: the owner's tasks of one action and status, newest first", async () => {
    const owner = `owner-${newId()}`;
    const wanted: string[] = [];
    for (let i = 0; i < 24; i++) {
      const action = i % 3 === 0 ? "ZOOM" : "PAN";
      const task = await create({ owner, action, status: i % 4 === 0 ? "SUCCESS" : undefined });
      if (action === "ZOOM" && i % 4 === 0) wanted.push(task.id);
    }
    const zooms = await all(5, (afterId) =>
      store.listByAction(owner, { action: "ZOOM", limit: 5, afterId }),
    );
    expect(zooms.ids).toHaveLength(8);
    const successfulZooms = await all(2, (afterId) =>
      store.listByAction(owner, { action: "ZOOM", status: "SUCCESS", limit: 2, afterId }),
    );
    expect(successfulZooms.ids).toEqual([...wanted].reverse());
    // full pages although the filter drops most of what the index holds
    const first = await store.listByAction(owner, { action: "ZOOM", status: "SUCCESS", limit: 2 });
    expect(first.items).toHaveLength(2);
    expect((await store.listByAction("nobody", { action: "ZOOM", limit: 5 })).items).toEqual([]);
  });

  it("claims a MODAL task once, only for its owner", async () => {
    const task = await create({ action: "CUSTOM_ZOOM" });
    // not MODAL yet
    expect(await store.claimModal(task.id, { owner: "alice", at })).toBe("unclaimable");
    await store.advance(task.id, { status: "MODAL", upstreamTaskId: "42" }, at, {
      allowModal: true,
    });
    expect(await store.claimModal(task.id, { owner: "bob", at })).toBe("unclaimable");
    expect(await store.claimModal(newId(), { owner: "alice", at })).toBe("unclaimable");
    expect(await store.claimModal(task.id, { owner: "alice", prompt: "zoom --zoom 2", at })).toBe(
      "claimed",
    );
    expect(await store.claimModal(task.id, { owner: "alice", at })).toBe("unclaimable");
    expect(await store.get(task.id)).toMatchObject({ status: "MODAL", prompt: "zoom --zoom 2" });
    // no poll or webhook takes it back into MODAL, or moves it down to SUBMITTED...
    expect(
      (await store.advance(task.id, { status: "SUBMITTED", upstreamTaskId: "42" }, at)).outcome,
    ).toBe("stale");
    // ...only the modal's own answer moves it on, and nothing takes it back into MODAL
    const moved = await store.advance(task.id, { status: "SUBMITTED", upstreamTaskId: "42" }, at, {
      leavingModal: true,
    });
    expect(moved.outcome).toBe("applied");
    expect(
      (await store.advance(task.id, { status: "MODAL", upstreamTaskId: "42" }, at)).outcome,
    ).toBe("stale");
  });
});

describe("ensureTable", () => {
  // Its own DynamoDB Local: index creation on the run's shared one can queue behind everything
  // the other test files do, and this is about `npm start` on an old DATA_DIR anyway.
  let db: DynamoDbLocal;
  let client: DynamoDBClient;
  beforeAll(async () => {
    db = await startDynamoDbLocal();
    client = createDocumentClient({ endpoint: db.endpoint });
  });
  afterAll(() => db?.stop());

  it("adds the indexes a table kept from an older version lacks", async () => {
    const tableName = uniqueTableName("old");
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2sk", "gsi3pk", "gsi3sk"].map(
          (name) => ({ AttributeName: name, AttributeType: "S" }),
        ),
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        // the table as the version before task trees made it
        GlobalSecondaryIndexes: (
          [
            ["gsi1", "gsi1pk", "gsi1sk"],
            ["gsi2", "gsi1pk", "gsi2sk"],
            ["gsi3", "gsi3pk", "gsi3sk"],
          ] as const
        ).map(([IndexName, hash, range]) => ({
          IndexName,
          KeySchema: [
            { AttributeName: hash, KeyType: "HASH" as const },
            { AttributeName: range, KeyType: "RANGE" as const },
          ],
          Projection: { ProjectionType: "ALL" as const },
        })),
      }),
    );
    await ensureTable(client, tableName);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual([
      "gsi1",
      "gsi2",
      "gsi3",
      "gsi4",
      "gsi5",
      "gsi6",
      "gsi7",
    ]);
    const old = createTaskStore({
      client: createDocumentClient({ endpoint: db.endpoint }),
      tableName,
    });
    const parent = newTask({ id: newId(), owner: "a", action: "IMAGINE", prompt: "p", now: at });
    await old.create(parent);
    const child = { ...parent, id: newId(), parentId: parent.id, action: "UPSCALE" as const };
    await old.create(child);
    expect(await old.listChildIds("a", parent.id, 10)).toEqual([child.id]);
  });
});

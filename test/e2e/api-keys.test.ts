import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEY_CACHE_SECONDS, LAST_USED_INTERVAL_SECONDS } from "../../functions/core/api-keys.ts";
import { createDocumentClient } from "../../functions/deps.ts";
import { createApiKeyStore } from "../../functions/store/api-key-store.ts";
import { keys } from "../../functions/store/keys.ts";
import { type DynamoDbProxy, startDynamoDbProxy } from "../../local/dynamodb-proxy.ts";
import { api, dynamodbEndpoint, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * Owners' API keys kept in the table (docs: keys), through the real stack and real HTTP: the
 * operator creates, lists and revokes them with ADMIN_KEY; owners use them on every /v1 route.
 * Time is a clock the test moves (the key cache and lastUsedAt follow it), never a sleep.
 * DynamoDB requests are counted by a proxy in front of DynamoDB Local.
 */
let proxy: DynamoDbProxy;
let stack: TestStack;
// a frozen clock that only the test moves
let nowMs = Date.parse("2026-06-01T12:00:00.000Z");
const clock = { now: () => new Date(nowMs) };
const advance = (seconds: number) => {
  nowMs += seconds * 1000;
};

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  stack = await startTestStack({ dynamodbEndpoint: proxy.endpoint, overrides: { clock } });
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.stop();
});

const admin = () => api(stack, stack.adminKey);
const uniqueOwner = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}`;

async function createKey(owner: string, name?: string) {
  const created = await admin().call("POST", "/v1/admin/keys", { owner, name });
  expect(created.status).toBe(201);
  return created.body as { id: string; key: string; owner: string; name: string | null };
}

describe("a key's life: create, use, list, revoke", () => {
  it("works on every /v1 function at once, is listed without the key, and is refused once revoked", async () => {
    const owner = uniqueOwner("carol");
    const created = await admin().call("POST", "/v1/admin/keys", { owner, name: "carol's laptop" });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^key_[0-9a-f]{24}$/),
      key: expect.stringMatching(/^pb_[A-Za-z0-9_-]{43}$/),
      owner,
      name: "carol's laptop",
      createdAt: clock.now().toISOString(),
    });
    const { key, id } = created.body;
    const carol = api(stack, key);

    // submit, read and webhooks each check it
    const submitted = await carol.imagine({ prompt: "a boat with a table key" });
    expect(submitted.status).toBe(202);
    expect((await carol.task(submitted.body.id)).status).toBe(200);
    const listed = await carol.list();
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((t: { id: string }) => t.id)).toEqual([submitted.body.id]);
    expect((await carol.call("GET", "/v1/webhook-secret")).status).toBe(200);
    // another owner does not see carol's task
    expect((await api(stack, OWNERS.alice.key).task(submitted.body.id)).status).toBe(404);

    const keys = await admin().call("GET", `/v1/admin/keys?owner=${owner}`);
    expect(keys.status).toBe(200);
    expect(keys.body.items).toEqual([
      {
        id,
        owner,
        name: "carol's laptop",
        createdAt: created.body.createdAt,
        lastUsedAt: expect.any(String),
      },
    ]);
    expect(JSON.stringify(keys.body)).not.toContain(key);
    const all = await admin().call("GET", "/v1/admin/keys");
    expect(all.body.items.map((k: { id: string }) => k.id)).toContain(id);
    expect(JSON.stringify(all.body)).not.toMatch(/pb_|"hash"/);

    expect((await admin().call("DELETE", `/v1/admin/keys/${id}`)).status).toBe(204);
    expect((await admin().call("GET", `/v1/admin/keys?owner=${owner}`)).body.items).toEqual([]);
    expect((await admin().call("DELETE", `/v1/admin/keys/${id}`)).status).toBe(404);

    // warm containers trust what they read for KEY_CACHE_SECONDS, then ask again
    advance(KEY_CACHE_SECONDS);
    for (const answer of [
      await carol.list(),
      await carol.imagine({ prompt: "a revoked boat" }),
      await carol.call("GET", "/v1/webhook-secret"),
    ]) {
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe("unauthorized");
    }
  });

  it("a bootstrap key of API_KEYS keeps working, and is never listed", async () => {
    expect((await api(stack, OWNERS.alice.key).list()).status).toBe(200);
    const all = await admin().call("GET", "/v1/admin/keys?owner=alice");
    expect(all.body.items).toEqual([]);
  });

  it("a key never created is refused", async () => {
    const answer = await api(stack, `pb_${"x".repeat(43)}`).list();
    expect(answer.status).toBe(401);
  });
});

describe("only ADMIN_KEY opens /v1/admin/*", () => {
  it.each([
    ["no key", null],
    ["a wrong key", "pba_not-the-admin-key-at-all"],
    ["an owner's bootstrap key", "alice"],
    ["an owner's table key", "table"],
  ])("%s is 401 on every admin route", async (_, which) => {
    let key: string | null = which;
    if (which === "alice") key = OWNERS.alice.key;
    if (which === "table") key = (await createKey(uniqueOwner("dave"))).key;
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    const existing = await createKey(uniqueOwner("erin"));
    for (const [method, path, body] of [
      ["POST", "/v1/admin/keys", JSON.stringify({ owner: "mallory" })],
      ["GET", "/v1/admin/keys", undefined],
      ["DELETE", `/v1/admin/keys/${existing.id}`, undefined],
    ] as const) {
      const response = await fetch(`${stack.url}${path}`, {
        method,
        headers: { ...headers, "content-type": "application/json" },
        body,
      });
      expect(response.status, `${method} ${path}`).toBe(401);
      const answer = (await response.json()) as { error: { code: string } };
      expect(answer.error.code).toBe("unauthorized");
    }
    // nothing was created or revoked
    const list = await admin().call("GET", "/v1/admin/keys?owner=mallory");
    expect(list.body.items).toEqual([]);
    const erin = await admin().call("GET", `/v1/admin/keys?owner=${existing.owner}`);
    expect(erin.body.items).toHaveLength(1);
  });
});

describe("bad input is a 400 or 404 with the contract's body", () => {
  it.each([
    ["no owner", {}],
    ["an empty owner", { owner: "" }],
    ["an owner with a space", { owner: "a b" }],
    ["an owner with #", { owner: "a#b" }],
    ["an owner too long", { owner: "o".repeat(65) }],
    ["an owner that is a number", { owner: 42 }],
    ["an empty name", { owner: "frank", name: "" }],
    ["a name too long", { owner: "frank", name: "n".repeat(101) }],
    ["a name with a control character", { owner: "frank", name: "a\u0007b" }],
    ["an unknown field", { owner: "frank", key: "pb_chosen-by-me" }],
    ["an array", [{ owner: "frank" }]],
  ])("POST /v1/admin/keys with %s: 400 validation_failed", async (_, body) => {
    const answer = await admin().call("POST", "/v1/admin/keys", body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
    expect(answer.body.error.details.length).toBeGreaterThan(0);
  });

  it("a body that is not JSON: 400 invalid_json; nothing was created", async () => {
    const answer = await admin().call("POST", "/v1/admin/keys", "{owner:");
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("invalid_json");
    expect((await admin().call("GET", "/v1/admin/keys?owner=frank")).body.items).toEqual([]);
  });

  it.each(["?owner=a%20b", "?owner=", "?other=1"])("GET /v1/admin/keys%s: 400", async (query) => {
    const answer = await admin().call("GET", `/v1/admin/keys${query}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
  });

  it.each([`key_${"0".repeat(24)}`, "key_nothex", "%00"])(
    "DELETE /v1/admin/keys/%s (unknown or malformed): 404 not_found",
    async (id) => {
      const answer = await admin().call("DELETE", `/v1/admin/keys/${id}`);
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe("not_found");
    },
  );
});

describe("races and request counts", () => {
  it("concurrent creates for one owner: every key distinct, listed and working", async () => {
    const owner = uniqueOwner("grace");
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) => createKey(owner, `key ${i}`)),
    );
    expect(new Set(created.map((k) => k.id)).size).toBe(12);
    expect(new Set(created.map((k) => k.key)).size).toBe(12);
    const listed = await admin().call("GET", `/v1/admin/keys?owner=${owner}`);
    expect(listed.body.items.map((k: { id: string }) => k.id).sort()).toEqual(
      created.map((k) => k.id).sort(),
    );
    const uses = await Promise.all(created.map((k) => api(stack, k.key).list()));
    expect(uses.map((u) => u.status)).toEqual(created.map(() => 200));
  });

  it("concurrent revokes of one key: one 204, the rest 404", async () => {
    const { id } = await createKey(uniqueOwner("heidi"));
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => admin().call("DELETE", `/v1/admin/keys/${id}`)),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([204, 404, 404, 404, 404, 404]);
  });

  it("many requests with a table key: one GetItem, and lastUsedAt written at most once a minute", async () => {
    const owner = uniqueOwner("ivan");
    const { key } = await createKey(owner);
    const ivan = api(stack, key);
    const lastUsed = async () =>
      (await admin().call("GET", `/v1/admin/keys?owner=${owner}`)).body.items[0].lastUsedAt;
    expect(await lastUsed()).toBeNull();

    proxy.reset();
    const first = await Promise.all(Array.from({ length: 25 }, () => ivan.list()));
    expect(first.every((r) => r.status === 200)).toBe(true);
    // the read function's container: one lookup however many miss at once, one lastUsedAt write
    expect(proxy.counts()).toEqual({ GetItem: 1, UpdateItem: 1, Query: 25 });
    const firstUse = await lastUsed();
    expect(firstUse).toBe(clock.now().toISOString());

    // within the cache lifetime: no request for the key at all
    advance(KEY_CACHE_SECONDS - 1);
    proxy.reset();
    await Promise.all(Array.from({ length: 10 }, () => ivan.list()));
    expect(proxy.counts()).toEqual({ Query: 10 });

    // cache expired, but lastUsedAt is not a minute old: a read, no write
    advance(2);
    proxy.reset();
    await Promise.all(Array.from({ length: 10 }, () => ivan.list()));
    expect(proxy.counts()).toEqual({ GetItem: 1, Query: 10 });
    expect(await lastUsed()).toBe(firstUse);

    // a minute on: one more write
    advance(LAST_USED_INTERVAL_SECONDS);
    proxy.reset();
    await Promise.all(Array.from({ length: 10 }, () => ivan.list()));
    expect(proxy.counts()).toEqual({ GetItem: 1, UpdateItem: 1, Query: 10 });
    const secondUse = await lastUsed();
    expect(secondUse).toBe(clock.now().toISOString());

    // another function's container reads the fresh lastUsedAt with the key: it writes nothing
    proxy.reset();
    const deliveries = await ivan.call("GET", "/v1/tasks/01ARZ3NDEKTSV4RRFFQ69G5FAV/deliveries");
    expect(deliveries.status).toBe(404);
    expect(proxy.counts().GetItem).toBeGreaterThanOrEqual(1);
    expect(proxy.counts().UpdateItem).toBeUndefined();
    expect(await lastUsed()).toBe(secondUse);
  });

  it("a lastUsedAt write racing a revoke never brings the key back; the revoked item expires by TTL", async () => {
    const client = createDocumentClient({ endpoint: dynamodbEndpoint() });
    const store = createApiKeyStore({ client, tableName: stack.tableName });
    const { id } = await createKey(uniqueOwner("judy"));
    const now = clock.now();
    expect(await store.revoke(id, now)).toBe(true);
    expect(await store.touch(id, now, new Date(now.getTime() - 60_000))).toBe(false);
    expect(await store.get(id)).toBeNull();
    expect(await store.revoke(id, now)).toBe(false);
    const { Item } = await client.send(
      new GetCommand({ TableName: stack.tableName, Key: keys.apiKey(id) }),
    );
    expect(Item).toMatchObject({ revokedAt: now.toISOString(), lastUsedAt: null });
    expect(Item?.ttl).toBeGreaterThan(now.getTime() / 1000);
    expect(Item?.gsi4pk).toBeUndefined();
  });
});

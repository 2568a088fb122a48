import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

let stack: TestStack;
let alice: ReturnType<typeof api>;
let bob: ReturnType<typeof api>;
const aliceIds: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({ simulator: { stepMs: 5000 } });
  alice = api(stack, OWNERS.alice.key);
  bob = api(stack, OWNERS.bob.key);
  for (let i = 0; i < 5; i++) aliceIds.push((await alice.imagine({ prompt: `boat ${i}` })).body.id);
  await alice.imagine({ prompt: "refused --sim-submit=refused" });
});
afterAll(() => stack.stop());

describe("reading tasks", () => {
  it("GET /health needs no key", async () => {
    const response = await fetch(`${stack.url}/health`);
    expect(response.status).toBe(200);
    // the one upstream, never seen failing (docs/upstreams.md "Several upstreams")
    expect(await response.json()).toEqual({
      status: "ok",
      upstreams: [
        {
          id: expect.stringMatching(/^u-[0-9a-f]{10}$/),
          position: 1,
          state: "up",
          since: null,
          reason: null,
          retryAt: null,
        },
      ],
    });
  });

  it("pages through the owner's tasks newest first with an opaque cursor", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = await alice.list(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((t: { id: string }) => t.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toHaveLength(6);
    expect(seen.slice(1)).toEqual([...aliceIds].reverse());
  });

  it("filters by status", async () => {
    const failed = await alice.list("?status=FAILURE");
    expect(failed.body.items).toHaveLength(1);
    expect(failed.body.items[0].status).toBe("FAILURE");
    const submitted = await alice.list("?status=SUBMITTED&limit=100");
    expect(submitted.body.items.map((t: { id: string }) => t.id)).toEqual([...aliceIds].reverse());
    expect(submitted.body.nextCursor).toBeNull();
  });

  it("keeps owners apart: another owner's task is 404 and absent from lists", async () => {
    expect((await bob.list()).body).toEqual({ items: [], nextCursor: null });
    const foreign = await bob.task(aliceIds[0] as string);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe("not_found");
    expect((await alice.task(aliceIds[0] as string)).status).toBe(200);
  });

  it.each([
    ["limit=0", "?limit=0"],
    ["limit=101", "?limit=101"],
    ["limit=abc", "?limit=abc"],
    ["limit=-1", "?limit=-1"],
    ["an unknown status", "?status=DONE"],
    ["a forged cursor", "?cursor=bm90LWEtY3Vyc29y"],
    ["a cursor of garbage", "?cursor=%00%01"],
  ])("rejects %s with 400", async (_name, query) => {
    const answer = await alice.list(query);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
  });

  it.each([
    ["an unknown id", "01JDB3K6Z5Q8N2X4V7W9Y1A3C5"],
    ["a malformed id", "nope"],
    ["a very long id", "x".repeat(3000)],
  ])("answers 404 for %s", async (_name, id) => {
    const answer = await alice.task(id);
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe("not_found");
  });

  it("answers unknown routes with the contract's 404 body", async () => {
    const answer = await alice.call("DELETE", "/v1/tasks");
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe("not_found");
  });
});

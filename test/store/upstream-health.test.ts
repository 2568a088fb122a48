import { beforeAll, describe, expect, it } from "vitest";
import { upstreamHealthOf } from "../../functions/core/upstream-health.ts";
import type { UpstreamHealthStore } from "../../functions/core/upstream-port.ts";
import { createDocumentClient } from "../../functions/deps.ts";
import { createUpstreamHealthStore } from "../../functions/store/upstream-health-store.ts";
import { freePort } from "../../local/dynamodb.ts";
import { manualClock } from "../clock.ts";
import { createTestStore } from "../helpers.ts";

/**
 * The upstreams' states as recorded in the table and as GET /health shows them
 * (docs/upstreams.md "Several upstreams"): in list order, a down one probing once its retryAt
 * has passed, a busy one up again, ids no longer configured left out.
 */
let health: UpstreamHealthStore;
const clock = manualClock(Date.parse("2026-12-02T01:00:00.000Z"));
const log = { debug() {}, info() {}, warn() {}, error() {} };
const at = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000).toISOString();

beforeAll(async () => {
  const { client, tableName } = await createTestStore();
  health = createUpstreamHealthStore({ client, tableName });
});

describe("upstream health", () => {
  it("shows every configured upstream in order, the recorded states read in one query", async () => {
    const since = at(0);
    await health.record({
      id: "u-aaaaaaaaaa",
      position: 1,
      state: "down",
      since,
      reason: "HTTP 503",
      retryAt: at(30),
    });
    await health.record({
      id: "u-bbbbbbbbbb",
      position: 2,
      state: "busy",
      since,
      reason: "队列已满，请稍后尝试",
      retryAt: at(10),
    });
    await health.record({
      id: "u-gone000000",
      position: 3,
      state: "down",
      since,
      reason: "HTTP 500",
      retryAt: at(30),
    });
    const deps = {
      upstreamIds: ["u-cccccccccc", "u-aaaaaaaaaa", "u-bbbbbbbbbb"],
      upstreamHealth: health,
      clock,
      log,
    };
    expect(await upstreamHealthOf(deps)).toEqual([
      { id: "u-cccccccccc", position: 1, state: "up", since: null, reason: null, retryAt: null },
      {
        id: "u-aaaaaaaaaa",
        position: 2,
        state: "down",
        since,
        reason: "HTTP 503",
        retryAt: at(30),
      },
      {
        id: "u-bbbbbbbbbb",
        position: 3,
        state: "busy",
        since,
        reason: "队列已满，请稍后尝试",
        retryAt: at(10),
      },
    ]);

    clock.advance(30_000);
    const later = await upstreamHealthOf(deps);
    expect(later.map((h) => h.state)).toEqual(["up", "probing", "up"]);

    // an instance saw it answer again: the last change recorded wins
    await health.record({
      id: "u-aaaaaaaaaa",
      position: 2,
      state: "up",
      since: at(0),
      reason: null,
      retryAt: null,
    });
    expect((await upstreamHealthOf(deps))[1]).toMatchObject({ state: "up", since: at(0) });
  });

  it("answers unknown states, rather than failing /health, when the table cannot be read", async () => {
    // a DynamoDB endpoint nothing listens on: the SDK's own error, translated
    const broken = createUpstreamHealthStore({
      client: createDocumentClient({
        endpoint: `http://127.0.0.1:${await freePort()}`,
        maxAttempts: 1,
      }),
      tableName: "nowhere",
    });
    const shown = await upstreamHealthOf({
      upstreamIds: ["u-aaaaaaaaaa"],
      upstreamHealth: broken,
      clock,
      log,
    });
    expect(shown).toEqual([
      {
        id: "u-aaaaaaaaaa",
        position: 1,
        state: "unknown",
        since: null,
        reason: null,
        retryAt: null,
      },
    ]);
  });
});

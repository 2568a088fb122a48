import { describe, expect, it } from "vitest";
import { updateFromUpstream } from "../../functions/core/from-upstream.ts";
import { createUpstreamClient } from "../../functions/upstream/client.ts";
import { UpstreamTask } from "../../functions/upstream/schemas.ts";
import { type SimProfile, startSimulator } from "../../local/simulator/index.ts";
import { serveOverHttp } from "../serve.ts";
import newapi from "./fixtures/newapi.json" with { type: "json" };
import novicezk from "./fixtures/novicezk.json" with { type: "json" };
import trueai from "./fixtures/trueai.json" with { type: "json" };

/**
 * Canned payloads built from each host's own DTOs (the files each fixture's `$source` names):
 * what we make of them, and whether the simulator's profiles answer in the same shape.
 */
const now = new Date("2026-12-01T00:00:00Z");

describe("each host's task JSON, as we read it", () => {
  it("trueai's TaskInfo: imageUrls objects, its mode and buttons", () => {
    const task = UpstreamTask.parse(trueai.task);
    expect(task.imageUrls).toEqual(["https://cdn.example.org/0_0.png"]);
    expect(updateFromUpstream(task, now)).toMatchObject({
      status: "SUCCESS",
      buttons: [expect.objectContaining({ label: "U1" })],
    });
  });

  it("novicezk's Task has no buttons: its grid gets the standard nine", () => {
    const update = updateFromUpstream(UpstreamTask.parse(novicezk.task), now);
    const hash = novicezk.task.properties.messageHash;
    expect(update?.buttons?.map((b) => b.customId)).toEqual([
      `MJ::JOB::upsample::1::${hash}`,
      `MJ::JOB::upsample::2::${hash}`,
      `MJ::JOB::upsample::3::${hash}`,
      `MJ::JOB::upsample::4::${hash}`,
      `MJ::JOB::reroll::0::${hash}::SOLO`,
      `MJ::JOB::variation::1::${hash}`,
      `MJ::JOB::variation::2::${hash}`,
      `MJ::JOB::variation::3::${hash}`,
      `MJ::JOB::variation::4::${hash}`,
    ]);
  });

  it("new-api's copy before its sync says nothing; after it, MODAL", () => {
    expect(updateFromUpstream(UpstreamTask.parse(newapi.unsyncedCopy), now)).toBeNull();
    expect(updateFromUpstream(UpstreamTask.parse(newapi.syncedModal), now)).toMatchObject({
      status: "MODAL",
    });
  });
});

describe("each host's submit answers, as the client maps them", () => {
  it.each<[string, unknown, number, string]>([
    ["trueai accepted", trueai.submit.accepted, 200, "accepted"],
    ["trueai modal (21)", trueai.submit.modal, 200, "modal"],
    ["trueai concurrency limit", trueai.submit.concurrencyLimit, 200, "busy"],
    ["trueai no account instance", trueai.submit.noAccount, 200, "busy"],
    ["trueai envelope with a limit", trueai.submit.envelope, 200, "busy"],
    ["novicezk accepted", novicezk.submit.accepted, 200, "accepted"],
    ["novicezk queued (22)", novicezk.submit.queued, 200, "accepted"],
    ["novicezk queue full (23)", novicezk.submit.queueFull, 200, "busy"],
    ["novicezk banned (24)", novicezk.submit.banned, 200, "rejected"],
    ["new-api remix behind code 1", newapi.submit.remixBehindCode1, 200, "accepted"],
    ["new-api unknown_action", newapi.submit.unknownAction, 400, "rejected"],
  ])("%s → %s", async (_name, body, status, kind) => {
    const server = await serveOverHttp(
      () =>
        new Response(JSON.stringify(body), {
          status,
          headers: { "content-type": "application/json" },
        }),
    );
    try {
      const client = createUpstreamClient({ baseUrl: server.url, apiKey: "k" });
      expect((await client.submit("imagine", { prompt: "p" })).kind).toBe(kind);
    } finally {
      await server.close();
    }
  });
});

describe("the simulator's profiles answer in each host's shape", () => {
  const KEY = "fixture-key";
  const auth: Record<SimProfile, Record<string, string>> = {
    cometapi: { authorization: `Bearer ${KEY}` },
    trueai: { authorization: KEY },
    novicezk: { "mj-api-secret": KEY },
  };

  it.each<[SimProfile, string, Record<string, unknown>]>([
    ["trueai", "/mj-relax/mj", trueai.task],
    ["novicezk", "/mj", novicezk.task],
    ["cometapi", "/mj", newapi.unsyncedCopy],
  ])("%s: a task's fields are among the host's own", async (profile, base, fixture) => {
    const sim = await startSimulator({ apiKey: KEY, profile, stepMs: 5, gatewaySyncMs: 60_000 });
    try {
      const headers = { "content-type": "application/json", ...auth[profile] };
      const submitted = await fetch(`${sim.url}${base}/submit/imagine`, {
        method: "POST",
        headers,
        body: JSON.stringify({ prompt: "a paper boat" }),
      });
      const { result } = (await submitted.json()) as { result: string };
      await sim.idle();
      const fetched = await fetch(`${sim.url}${base}/task/${result}/fetch`, { headers });
      const task = (await fetched.json()) as Record<string, unknown>;
      for (const key of Object.keys(task)) expect(Object.keys(fixture)).toContain(key);
      if (profile === "trueai") expect(task.mode).toBe("RELAX");
      if (profile === "novicezk") expect(task).not.toHaveProperty("buttons");
      if (profile === "cometapi") expect(task).toMatchObject({ status: "", buttons: null });
    } finally {
      await sim.stop();
    }
  });
});

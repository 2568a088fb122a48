import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../functions/config.ts";
import { createUpstreamClient, type UpstreamAuth } from "../../functions/upstream/client.ts";
import { type SimProfile, startSimulator } from "../../local/simulator/index.ts";

/**
 * MJ_API_AUTH: each host reads the key from its own header, and only from it.
 * - novicezk: novicezk/midjourney-proxy, src/main/java/com/github/novicezk/midjourney/support/ApiAuthorizeInterceptor.java
 *   (header `mj-api-secret` only; a mismatch is 401 with an empty body)
 * - trueai: trueai-org/midjourney-proxy, src/Midjourney.API/WorkContext.cs (the raw
 *   `Authorization` value is the token, `Bearer ` is not stripped; else `Mj-Api-Secret`)
 * - cometapi: QuantumNous/new-api, middleware/auth.go (an optional `Bearer ` is stripped; an empty
 *   Authorization falls back to `mj-api-secret`)
 */
const KEY = "upstream-secret-key";

const cases: [SimProfile, UpstreamAuth, "accepted" | "refused"][] = [
  ["cometapi", "bearer", "accepted"],
  ["cometapi", "authorization", "accepted"], // the "Bearer " prefix is optional there
  ["cometapi", "mj-api-secret", "accepted"], // new-api falls back to mj-api-secret
  ["trueai", "authorization", "accepted"],
  ["trueai", "bearer", "refused"],
  ["trueai", "mj-api-secret", "accepted"],
  ["novicezk", "mj-api-secret", "accepted"],
  ["novicezk", "bearer", "refused"],
  ["novicezk", "authorization", "refused"],
];

describe("MJ_API_AUTH sends the key the way each host reads it", () => {
  it.each(cases)("%s with %s: %s", async (profile, auth, expected) => {
    const sim = await startSimulator({ apiKey: KEY, profile, stepMs: 5 });
    try {
      const client = createUpstreamClient({ baseUrl: sim.url, apiKey: KEY, auth });
      const outcome = await client.submit("imagine", { prompt: "a paper boat" });
      if (expected === "accepted") {
        expect(outcome).toEqual({ kind: "accepted", upstreamTaskId: expect.any(String) });
        const polled = await client.fetchTask(
          (outcome as { upstreamTaskId: string }).upstreamTaskId,
        );
        expect(polled?.id).toBe((outcome as { upstreamTaskId: string }).upstreamTaskId);
      } else {
        expect(outcome).toEqual({
          kind: "unavailable",
          reason: expect.stringMatching(/refused our credentials/),
          nothingStarted: true,
        });
        expect(sim.stats().jobsCreated).toBe(0);
      }
    } finally {
      await sim.stop();
    }
  });

  it("novicezk refuses a wrong key with 401 and an empty body", async () => {
    const sim = await startSimulator({ apiKey: KEY, profile: "novicezk", stepMs: 5 });
    try {
      const res = await fetch(`${sim.url}/mj/submit/imagine`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ prompt: "x" }),
      });
      expect(res.status).toBe(401);
      expect(await res.text()).toBe("");
    } finally {
      await sim.stop();
    }
  });
});

describe("the MJ_API_AUTH setting", () => {
  it("defaults to bearer and takes the three styles", () => {
    expect(loadConfig({}, ["MJ_API_AUTH"]).MJ_API_AUTH).toBe("bearer");
    for (const style of ["bearer", "mj-api-secret", "authorization"]) {
      expect(loadConfig({ MJ_API_AUTH: style }, ["MJ_API_AUTH"]).MJ_API_AUTH).toBe(style);
    }
  });

  it("stops start-up with a line naming it when malformed", () => {
    expect(() => loadConfig({ MJ_API_AUTH: "basic" }, ["MJ_API_AUTH"])).toThrow(ConfigError);
    expect(() => loadConfig({ MJ_API_AUTH: "basic" }, ["MJ_API_AUTH"])).toThrow(/MJ_API_AUTH/);
  });
});

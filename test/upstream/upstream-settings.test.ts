import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, upstreamSettingsOf } from "../../functions/config.ts";

/** MJ_API_BASE_URL, MJ_API_KEY, MJ_API_AUTH and MJ_API_KIND as lists (docs/configuration.md). */
const KEYS = ["MJ_API_BASE_URL", "MJ_API_KEY", "MJ_API_AUTH", "MJ_API_KIND"] as const;
const settings = (env: Record<string, string>) => upstreamSettingsOf(loadConfig(env, KEYS));

describe("several upstreams in the settings", () => {
  it("pairs position n of each list, a single value serving all", () => {
    expect(
      settings({
        MJ_API_BASE_URL: "https://a.example, https://b.example",
        MJ_API_KEY: "key-a,key-b",
        MJ_API_AUTH: "authorization",
        MJ_API_KIND: "proxy,novicezk",
      }),
    ).toEqual([
      { baseUrl: "https://a.example", apiKey: "key-a", auth: "authorization", kind: "proxy" },
      { baseUrl: "https://b.example", apiKey: "key-b", auth: "authorization", kind: "novicezk" },
    ]);
  });

  it("keeps one upstream as it was, with the defaults", () => {
    expect(settings({ MJ_API_BASE_URL: "https://a.example", MJ_API_KEY: "k" })).toEqual([
      { baseUrl: "https://a.example", apiKey: "k", auth: "bearer", kind: "proxy" },
    ]);
  });

  it.each([
    [{ MJ_API_KEY: "a,b,c" }, /MJ_API_KEY is malformed: 3 values for 2 upstreams/],
    [{ MJ_API_AUTH: "bearer,bearer,bearer" }, /MJ_API_AUTH is malformed: 3 values for 2/],
  ])("refuses a list of another length (%o)", (patch, message) => {
    const env = {
      MJ_API_BASE_URL: "https://a.example,https://b.example",
      MJ_API_KEY: "k",
      ...patch,
    };
    expect(() => settings(env)).toThrow(ConfigError);
    expect(() => settings(env)).toThrow(message);
  });

  it.each([
    ["MJ_API_BASE_URL", "https://a.example,,https://b.example"],
    ["MJ_API_BASE_URL", "https://a.example,ftp://b.example"],
    ["MJ_API_AUTH", "bearer,basic"],
    ["MJ_API_KIND", "proxy,midjourney"],
    ["MJ_API_KEY", "a, ,b"],
  ])("refuses a malformed entry in %s (%s), naming the setting", (key, value) => {
    expect(() => loadConfig({ [key]: value }, [key as (typeof KEYS)[number]])).toThrow(
      new RegExp(`setting ${key} is malformed`),
    );
  });
});

import { describe, expect, it } from "vitest";
import { CALLBACK_SETTINGS, FUNCTION_SETTINGS } from "../functions/compose/settings.ts";
import {
  ConfigError,
  type ConfigKey,
  loadConfig,
  loadSettings,
  settingSchema,
} from "../functions/config.ts";

/** Every setting some function reads. */
const READ = [
  ...new Set(Object.values(FUNCTION_SETTINGS).flatMap((list) => Object.keys(list))),
] as ConfigKey[];

describe("loading settings (functions/config.ts)", () => {
  it.each(READ)("%s left unset reads as its schema says (its default, or absent)", (key) => {
    const schema = settingSchema(key).safeParse(undefined);
    if (schema.success) {
      expect(loadConfig({}, [key])[key]).toEqual(schema.data);
      expect(loadConfig({ [key]: "" }, [key])[key]).toEqual(schema.data);
    } else {
      expect(() => loadConfig({}, [key])).toThrow(`paperboat: setting ${key} is missing`);
    }
  });

  it("a given value is parsed in full, defaulted or not", () => {
    expect(loadConfig({ UPSTREAM_TIMEOUT_MS: "2500" }, ["UPSTREAM_TIMEOUT_MS"])).toEqual({
      UPSTREAM_TIMEOUT_MS: 2500,
    });
    expect(() => loadConfig({ UPSTREAM_TIMEOUT_MS: "soon" }, ["UPSTREAM_TIMEOUT_MS"])).toThrow(
      /^paperboat: setting UPSTREAM_TIMEOUT_MS is malformed: /,
    );
    expect(() => loadConfig({ DYNAMODB_ENDPOINT: "ftp://x" }, ["DYNAMODB_ENDPOINT"])).toThrow(
      ConfigError,
    );
    expect(() =>
      loadConfig({ ALLOW_PRIVATE_WEBHOOK_URLS: "maybe" }, ["ALLOW_PRIVATE_WEBHOOK_URLS"]),
    ).toThrow(/^paperboat: setting ALLOW_PRIVATE_WEBHOOK_URLS is malformed: /);
  });

  it("a function's list loads exactly its settings", () => {
    const config = loadSettings(
      { TABLE_NAME: "paperboat", CALLBACK_SECRET: "s".repeat(16), API_KEYS: "a:aaaaaaaa" },
      CALLBACK_SETTINGS,
    );
    expect(config).toEqual({
      TABLE_NAME: "paperboat",
      DYNAMODB_ENDPOINT: undefined,
      CALLBACK_SECRET: "s".repeat(16),
      LOG_LEVEL: undefined,
    });
    expect(Object.keys(config).sort()).toEqual(Object.keys(CALLBACK_SETTINGS).sort());
    expect(() => loadSettings({ TABLE_NAME: "paperboat" }, CALLBACK_SETTINGS)).toThrow(
      "paperboat: setting CALLBACK_SECRET is missing",
    );
  });
});

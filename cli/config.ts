import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import * as z from "../functions/contract/z.ts";
import { CliError, EXIT } from "./exit.ts";

/** The config file: `{"url": "...", "apiKey": "..."}`, both optional. */
export const ConfigFile = z.strictObject({
  url: z.optional(z.url({ protocol: /^https?$/ })),
  apiKey: z.optional(z.string().check(z.minLength(1))),
});
export type ConfigFile = z.infer<typeof ConfigFile>;

export const DEFAULT_URL = "http://127.0.0.1:3000";

type Source = "flag" | "env" | "file" | "default";

export interface ResolvedConfig {
  url: string;
  apiKey: string | undefined;
  file: string;
  sources: { url: Source; apiKey: Source | null };
}

/** `--config`, else `$XDG_CONFIG_HOME/paperboat/config.json`, else `~/.config/paperboat/config.json`. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return flag;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "paperboat", "config.json");
}

/** The file's settings; a missing file is an empty one, a broken one is a usage error. */
export function readConfigFile(file: string, required: boolean): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && !required) return {};
    throw new CliError(EXIT.usage, "config_unreadable", `Cannot read the config file ${file}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(EXIT.usage, "config_invalid", `The config file ${file} is not JSON.`);
  }
  const parsed = ConfigFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(
      EXIT.usage,
      "config_invalid",
      `The config file ${file} is not valid: ${issue?.path.join(".") || "(file)"}: ${issue?.message}.`,
    );
  }
  return parsed.data;
}

/** Writes the file (mode 0600: it holds a key), keeping what is not being changed. */
export function writeConfigFile(file: string, changes: ConfigFile): ConfigFile {
  const next = ConfigFile.parse({ ...readConfigFile(file, false), ...changes });
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  return next;
}

/** Flags beat the environment (PAPERBOAT_URL, PAPERBOAT_API_KEY), which beats the config file. */
export function resolveConfig(
  flags: { url?: string; apiKey?: string; config?: string },
  env: NodeJS.ProcessEnv,
): ResolvedConfig {
  const file = configPath(flags.config, env);
  const fromFile = readConfigFile(file, flags.config !== undefined);
  const pick = <T>(
    ...candidates: [Source, T | undefined][]
  ): { value: T | undefined; source: Source | null } => {
    for (const [source, value] of candidates) {
      if (value !== undefined && value !== "") return { value, source };
    }
    return { value: undefined, source: null };
  };
  const url = pick<string>(
    ["flag", flags.url],
    ["env", env.PAPERBOAT_URL],
    ["file", fromFile.url],
    ["default", DEFAULT_URL],
  );
  const apiKey = pick<string>(
    ["flag", flags.apiKey],
    ["env", env.PAPERBOAT_API_KEY],
    ["file", fromFile.apiKey],
  );
  const base = url.value ?? DEFAULT_URL;
  if (!z.url({ protocol: /^https?$/ }).safeParse(base).success) {
    throw new CliError(
      EXIT.usage,
      "invalid_url",
      `The server URL "${base}" (from ${url.source}) is not an http(s) URL.`,
    );
  }
  return {
    url: base.replace(/\/+$/, ""),
    apiKey: apiKey.value,
    file,
    sources: { url: url.source ?? "default", apiKey: apiKey.source },
  };
}

/** `pb_abc…xyz`: enough to recognise a key, not enough to use it. */
export function maskKey(key: string): string {
  return key.length <= 8 ? "•".repeat(key.length) : `${key.slice(0, 4)}…${key.slice(-4)}`;
}

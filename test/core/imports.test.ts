import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Core is the domain: it talks to ports it declares (functions/core/ports.ts,
 * functions/core/upstream-port.ts) and imports none of their implementations, nor Hono nor the
 * AWS SDK (docs/architecture.md). A core file that reaches into an adapter fails here.
 */
const CORE = join(import.meta.dirname, "../../functions/core");
const ADAPTERS = ["upstream", "store", "http", "images", "webhooks", "events", "queue", "gallery"];

function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(
    /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/g,
  )) {
    specifiers.push(match[1] as string);
  }
  for (const match of source.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) {
    specifiers.push(match[1] as string);
  }
  return specifiers;
}

const files = readdirSync(CORE).filter((name) => name.endsWith(".ts"));

describe("functions/core imports no adapter", () => {
  it("finds the core files and their imports", () => {
    expect(files).toContain("submit.ts");
    expect(importsOf(readFileSync(join(CORE, "submit.ts"), "utf8"))).toContain(
      "./upstream-port.ts",
    );
  });

  it.each(files)("%s", (name) => {
    const offending = importsOf(readFileSync(join(CORE, name), "utf8")).filter(
      (specifier) =>
        ADAPTERS.some((dir) => specifier.startsWith(`../${dir}/`)) ||
        /^\.\.\/[^/]+\.ts$/.test(specifier) ||
        specifier === "hono" ||
        specifier.startsWith("hono/") ||
        specifier.startsWith("@aws-sdk/"),
    );
    expect(offending).toEqual([]);
  });
});

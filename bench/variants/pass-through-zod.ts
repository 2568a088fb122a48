import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as zodMini from "zod/mini";

/**
 * Writes a stand-in for `zod/mini` (and its English locale) in which every export is a
 * pass-through: building a schema costs nothing and `parse` returns its input. Bundled in place
 * of zod (esbuild's `alias`), it gives a function whose validation costs nothing, the floor no
 * validation library can go under. Its names are zod/mini's own, read here, so the stand-in
 * keeps up with the contract. Bench only: such a bundle validates nothing.
 */
export async function writePassThroughZod(dir: string): Promise<Record<string, string>> {
  const file = join(dir, "pass-through-zod.mjs");
  const names = Object.keys(zodMini).filter((name) => name !== "default");
  const source = [
    "const passThrough = new Proxy(function () {}, {",
    '  get: (_, key) => key === "safeParse" ? (data) => ({ success: true, data })',
    '    : key === "parse" ? (data) => data : key === Symbol.toPrimitive ? () => "" : passThrough,',
    "  apply: () => passThrough,",
    "  construct: () => passThrough,",
    "});",
    "export default passThrough;",
    `export { ${names.map((name) => `passThrough as ${name}`).join(", ")} };`,
  ].join("\n");
  await mkdir(dir, { recursive: true });
  await writeFile(file, source);
  return { "zod/mini": file, "zod/v4/locales/en.js": file };
}

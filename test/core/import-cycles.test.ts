import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The import graph of functions/ (type imports included): modules that import each other are
 * loaded in an order that depends on which one a bundle reaches first, and cannot be split
 * apart into the per-function bundles (docs/architecture.md).
 */
const ROOT = join(import.meta.dirname, "..", "..");

function graphOf(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) {
        const source = readFileSync(path, "utf8");
        const imports = [...source.matchAll(/(?:from|import)\s+"(\.{1,2}\/[^"]+)"/g)].map((m) =>
          normalize(join(dirname(path), m[1] as string)),
        );
        graph.set(
          relative(ROOT, path),
          imports.map((p) => relative(ROOT, p)),
        );
      }
    }
  };
  walk(join(ROOT, dir));
  return graph;
}

function cyclesOf(graph: Map<string, string[]>): string[] {
  const cycles: string[] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (node: string) => {
    const at = stack.indexOf(node);
    if (at >= 0) {
      cycles.push([...stack.slice(at), node].join(" → "));
      return;
    }
    if (done.has(node)) return;
    stack.push(node);
    for (const next of graph.get(node) ?? []) visit(next);
    stack.pop();
    done.add(node);
  };
  for (const node of graph.keys()) visit(node);
  return cycles;
}

describe("the functions' import graph", () => {
  it("has no cycles (core/events.ts and core/task.ts included)", () => {
    const graph = graphOf("functions");
    expect(graph.get("functions/core/task.ts")).toBeDefined();
    expect(cyclesOf(graph)).toEqual([]);
  });

  it("finds a cycle when there is one", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["a.ts"]],
    ]);
    expect(cyclesOf(graph)).toEqual(["a.ts → b.ts → a.ts"]);
  });
});

import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { FUNCTION_SETTINGS } from "../../functions/compose/settings.ts";
import { parseHandler } from "./sst-bundle.ts";
import { evaluateSstConfig, ROOT, type SstEvaluation } from "./sst-stand-in.ts";

/**
 * What each deployed bundle carries (docs/architecture.md, docs/performance.md): every Lambda
 * entry imports its own composition module only, so no bundle pays at cold start for another
 * function's schemas, stores or clients. Bundled as SST bundles (esbuild from the handler
 * sst.config.ts names), the metafile listing every source file that ended up in it.
 */

let wiring: SstEvaluation;
beforeAll(async () => {
  wiring = await evaluateSstConfig("ci");
});

/** The source files (project paths) and packages in a handler's bundle. */
async function contentsOf(handler: string) {
  const { source } = parseHandler(handler);
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [source],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    mainFields: ["module", "main"],
    external: ["sharp"],
    metafile: true,
    write: false,
    logLevel: "silent",
  });
  const inputs = Object.keys(result.metafile.inputs);
  return {
    /** the bundle's code (unminified: our functions keep their names) */
    code: result.outputFiles[0]?.text ?? "",
    files: inputs.filter((p) => !p.includes("node_modules/")),
    packages: new Set(
      inputs.flatMap((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p)?.[1] ?? []),
    ),
  };
}

/** The composition modules each entry may reach besides its own (shared helpers, by design). */
const SHARED = ["settings", "keys", "upstream", "images", "schedule-young-polls", "task-views"];
const ALSO: Record<string, string[]> = {
  // the imagine queue's consumer is submit's code fed by SQS
  queue: ["submit"],
  // each reconciler run also copies finished tasks' images
  reconcile: ["copier"],
};

describe("each function's bundle", () => {
  it("reaches its own composition module, and no other function's", async () => {
    for (const fn of wiring.functions) {
      const entry = /^functions\/lambda\/([a-z-]+)\./.exec(fn.handler)?.[1];
      expect(entry, `${fn.name}: ${fn.handler} is not under functions/lambda/`).toBeDefined();
      const { files } = await contentsOf(fn.handler);
      const composed = files
        .flatMap((f) => /^functions\/compose\/([a-z-]+)\.ts$/.exec(f)?.[1] ?? [])
        .filter((m) => !SHARED.includes(m));
      expect(composed.sort(), fn.name).toEqual(
        [entry as string, ...(ALSO[entry as string] ?? [])].sort(),
      );
    }
  });

  it("carries the schemas of the settings its function reads, and no other setting's", async () => {
    const every = [...new Set(Object.values(FUNCTION_SETTINGS).flatMap((l) => Object.keys(l)))];
    for (const fn of wiring.functions) {
      const entry = /^functions\/lambda\/([a-z-]+)\./.exec(fn.handler)?.[1] ?? "";
      const name = entry.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      const reads = FUNCTION_SETTINGS[name as keyof typeof FUNCTION_SETTINGS];
      expect(reads, `${fn.name}: no FUNCTION_SETTINGS.${name}`).toBeDefined();
      const { code } = await contentsOf(fn.handler);
      // each setting is one declaration of functions/config.ts (`var TABLE_NAME = ...`)
      const carried = every.filter((key) => new RegExp(`\\bvar ${key}\\d* = `).test(code));
      expect(carried.sort(), fn.name).toEqual(Object.keys(reads).sort());
    }
  });

  it("keeps the callback to the webhook's path: no route schemas, no other store, no upstream client", async () => {
    const { files, packages } = await contentsOf(wiring.fn("Callback").handler);
    // its one write (store/task-advance.ts), not the task store's reads, lists and creations
    expect(files).toContain("functions/store/task-advance.ts");
    for (const absent of [
      "functions/store/task-store.ts",
      "functions/http/schemas.ts",
      "functions/store/idempotency-store.ts",
      "functions/store/api-key-store.ts",
      "functions/compose/upstream.ts",
    ]) {
      expect(files, absent).not.toContain(absent);
    }
    expect([...packages]).not.toContain("@aws-sdk/client-s3");
  });

  it("serves the gallery's page from the docs function: no API function's bundle carries it", async () => {
    for (const fn of wiring.functions) {
      const { files } = await contentsOf(fn.handler);
      expect(files.includes("functions/gallery/assets.ts"), fn.name).toBe(fn.name === "Docs");
    }
  });

  it.each([
    ["Webhooks", "createTaskReader"],
    ["Read", "createTaskQueries"],
    ["Stream", "createTaskQueries"],
  ])("gives %s the task store's reads it makes (%s), not the whole store", async (name, reads) => {
    const { code } = await contentsOf(wiring.fn(name).handler);
    expect(code).toContain(`function ${reads}(`);
    expect(code).not.toContain("function createTaskStore(");
    expect(code).not.toContain("function buildAdvance(");
  });
  /**
   * Each part of store/task-store.ts, by its factory's name and by a string only its code has: a
   * function that does not call a part must not carry it (each KB is module loading at init).
   */
  const PARTS: Record<string, string[]> = {
    createTaskStore: ["function createTaskStore("],
    createTaskQueries: ["function createTaskQueries(", "begins_with(gsi5sk"],
    createTaskCreator: ["function createTaskCreator("],
    createTaskAdvancer: ["function createTaskAdvancer("],
    createTaskApplier: ["function createTaskApplier("],
    createTaskSweeps: ["function createTaskSweeps(", "gsi3pk = :release"],
    createImageCopyStore: ["function createImageCopyStore(", "gsi6pk = :copy"],
    createSubmitWrites: ["function createSubmitWrites(", "attribute_not_exists(#upstream)"],
  };
  it.each([
    [
      "functions/lambda/submit.handler",
      ["createTaskCreator", "createTaskAdvancer", "createSubmitWrites"],
    ],
    [
      "functions/lambda/queue.handler",
      ["createTaskCreator", "createTaskAdvancer", "createSubmitWrites"],
    ],
    [
      "functions/lambda/reconcile.handler",
      ["createTaskApplier", "createTaskAdvancer", "createTaskSweeps", "createImageCopyStore"],
    ],
    ["functions/lambda/young-polls.handler", ["createTaskApplier"]],
    // the dispatcher queries tasks itself (store/delivery-store.ts), with readTaskItem only
    ["functions/lambda/dispatch.handler", []],
  ])("gives %s the parts of the task store it calls (%j), and no other", async (handler, parts) => {
    const { code } = await contentsOf(handler);
    for (const [part, markers] of Object.entries(PARTS)) {
      for (const marker of markers) {
        expect(code.includes(marker), `${part}: ${marker}`).toBe(parts.includes(part));
      }
    }
  });
});

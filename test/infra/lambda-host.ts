import { type ChildProcess, fork } from "node:child_process";
import { createCipheriv, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Bundle } from "./sst-bundle.ts";
import { ROOT } from "./sst-stand-in.ts";

const RUNNER = join(ROOT, "test", "infra", "lambda-runner.mjs");

export interface LambdaOptions {
  /** the function's name in AWS (AWS_LAMBDA_FUNCTION_NAME) */
  name: string;
  bundle: Bundle;
  /**
   * linked resources' properties by link name, as SST writes them into resource.enc;
   * null: not deployed by SST at all (no SST_* variables, settings from `environment` only)
   */
  links: Record<string, Record<string, unknown>> | null;
  /** the function's `environment` */
  environment: Record<string, string>;
  /** variables that exist only off AWS (DYNAMODB_ENDPOINT) */
  extraEnvironment?: Record<string, string>;
  app: { name: string; stage: string };
  memoryMb: number;
  timeoutSeconds: number;
}

export interface LambdaHost {
  invoke(event: unknown): Promise<unknown>;
  /** what the function wrote to stdout/stderr (its logs) */
  output(): string;
  stop(): Promise<void>;
}

type Message =
  | { type: "ready" }
  | { type: "init-error"; error: { message: string; stack?: string } }
  | { type: "result"; id: number; result: unknown }
  | { type: "error"; id: number; error: { name: string; message: string; stack?: string } };

/** Thrown when the function fails its cold start (an error at module load). */
export class InitError extends Error {
  override name = "InitError";
}

/**
 * Writes the links the way a deployed SST function receives them: JSON encrypted with
 * AES-256-GCM under a random key (zero nonce, tag appended) in `resource.enc` next to the
 * bundle, the key in SST_KEY. `sst/resource` reads exactly this.
 */
async function writeResourceFile(
  dir: string,
  links: Record<string, Record<string, unknown>>,
): Promise<string> {
  const key = randomBytes(32);
  const cipher = createCipheriv("aes-256-gcm", key, Buffer.alloc(12, 0));
  const encrypted = Buffer.concat([
    cipher.update(JSON.stringify(links)),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  await writeFile(join(dir, "resource.enc"), encrypted);
  return key.toString("base64");
}

/**
 * Starts one bundled function in a fresh Node process (the runtime's cold start) with the
 * environment Lambda and SST give it, and nothing of this process's environment.
 */
export async function startLambda(options: LambdaOptions): Promise<LambdaHost> {
  const sst = options.links && {
    SST_RESOURCE_App: JSON.stringify(options.app),
    SST_KEY: await writeResourceFile(options.bundle.dir, options.links),
    SST_KEY_FILE: "resource.enc",
  };
  const region = "us-east-1";
  const env: Record<string, string> = {
    ...options.environment,
    ...sst,
    AWS_LAMBDA_FUNCTION_NAME: options.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    LAMBDA_TASK_ROOT: options.bundle.dir,
    TZ: ":UTC",
    ...options.extraEnvironment,
  };
  const child: ChildProcess = fork(
    RUNNER,
    [options.bundle.file, options.bundle.exportName, String(options.timeoutSeconds * 1000)],
    {
      cwd: options.bundle.dir,
      env,
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    },
  );
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);

  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));

  await new Promise<void>((ok, fail) => {
    const onMessage = (message: Message) => {
      if (message.type === "ready") {
        child.off("message", onMessage);
        ok();
      } else if (message.type === "init-error") {
        fail(new InitError(message.error.message));
      }
    };
    child.on("message", onMessage);
    child.once("exit", (code) =>
      fail(new InitError(`${options.name} exited during init (${code}): ${output.trim()}`)),
    );
  });

  child.on("message", (message: Message) => {
    if (message.type !== "result" && message.type !== "error") return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.type === "result") waiter?.ok(message.result);
    else
      waiter?.fail(Object.assign(new Error(message.error.message), { name: message.error.name }));
  });
  child.once("exit", () => {
    for (const waiter of pending.values()) waiter.fail(new Error(`${options.name} exited`));
    pending.clear();
  });

  return {
    invoke(event) {
      const id = nextId++;
      return new Promise((ok, fail) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          fail(
            new Error(`${options.name}: Task timed out after ${options.timeoutSeconds} seconds`),
          );
        }, options.timeoutSeconds * 1000);
        pending.set(id, {
          ok: (value) => {
            clearTimeout(timer);
            ok(value);
          },
          fail: (error) => {
            clearTimeout(timer);
            fail(error);
          },
        });
        child.send({ id, event });
      });
    },
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

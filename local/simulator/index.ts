import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { createSimulatorApp } from "./app.ts";
import type { CancelBehaviour } from "./cancel.ts";
import { createEngine, type LogFn, type SimStats } from "./engine.ts";
import { DEFAULT_FAULTS, type FaultConfig, mergeFaults } from "./faults.ts";
import type { SimProfile } from "./profiles.ts";
import type { SimTask } from "./task.ts";

export { createSimulatorApp, type SimulatorAppOptions } from "./app.ts";
export type { CancelBehaviour } from "./cancel.ts";
export { createEngine, type Engine, HOLD_MS, type LogFn, type SimStats } from "./engine.ts";
export {
  DEFAULT_FAULTS,
  type FaultConfig,
  type SubmitFaultKind,
  type UnknownTaskFetch,
} from "./faults.ts";
export { PROFILE_AUTH, SIM_PROFILES, type SimProfile } from "./profiles.ts";
export type { SimAction, SimButton, SimStatus, SimTask, SimTaskProperties } from "./task.ts";

export interface SimulatorOptions {
  /** the credential, sent the way the profile's host reads it (profiles.ts) */
  apiKey: string;
  /** which real host to behave as: cometapi (default), trueai or novicezk */
  profile?: SimProfile;
  /** cometapi: the gateway's sync period (fetch shows `status: ""` until then); default 0 */
  gatewaySyncMs?: number;
  /** default "127.0.0.1" */
  host?: string;
  /** default 0: a free port */
  port?: number;
  /** base URL put into imageUrl/videoUrl; default the listening URL */
  publicUrl?: string;
  /** time between lifecycle steps; default 1000 */
  stepMs?: number;
  /** the IN_PROGRESS percentages, one step each; default [0, 15, 31, 46, 62, 78, 93] */
  progressSteps?: number[];
  /** the run's faults; the rest default to none (see DEFAULT_FAULTS) */
  faults?: Partial<FaultConfig>;
  /** seeds every fault die; default random (reported by `seed` and the start log line) */
  seed?: number;
  /** default: silent */
  log?: LogFn;
  /**
   * Keep the jobs in this folder (`jobs.json`) and, started again on it, answer for them and
   * finish the unfinished ones (npm start: DATA_DIR/simulator); absent: in memory only.
   */
  dataDir?: string;
  /**
   * How the cancel route answers: trueai's, or none (new-api's web page, novicezk's 404);
   * default: trueai's for the trueai profile, else new-api's.
   */
  cancel?: CancelBehaviour;
}

export interface Simulator {
  profile: SimProfile;
  /** the base URL, e.g. "http://127.0.0.1:43123"; the task API is under /mj/... */
  url: string;
  /** the seed in use, to replay a run */
  seed: number;
  /** Stops timers and the server; pending webhooks are abandoned, held requests released. */
  stop(): Promise<void>;
  setFaults(f: Partial<FaultConfig>): void;
  /** every task ever created, in the upstream JSON shape */
  tasks(): SimTask[];
  stats(): SimStats;
  /** Resolves when every task is terminal (or MODAL) and every webhook was sent or dropped. */
  idle(): Promise<void>;
}

export const DEFAULT_PROGRESS_STEPS = [0, 15, 31, 46, 62, 78, 93];

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Closes the server after the requests it is answering: the held ones engine.stop() just
 * released still get their 504. Idle connections close at once; a request that still has not
 * answered after a moment (a client stuck sending its body) is cut.
 */
function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), 1000);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Starts an offline Midjourney task API (midjourney-proxy / CometAPI protocol) on a real port. */
export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const host = opts.host ?? "127.0.0.1";
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const log = opts.log ?? (() => {});
  const profile = opts.profile ?? "cometapi";
  const engine = createEngine({
    profile,
    gatewaySyncMs: opts.gatewaySyncMs,
    stepMs: opts.stepMs ?? 1000,
    progressSteps: opts.progressSteps ?? DEFAULT_PROGRESS_STEPS,
    // an unknown id answers as the host does: novicezk 200 with an empty body, trueai 204
    faults: mergeFaults(
      {
        ...DEFAULT_FAULTS,
        unknownTaskFetch: { cometapi: "400", trueai: "204", novicezk: "empty200" }[
          opts.profile ?? "cometapi"
        ] as FaultConfig["unknownTaskFetch"],
      },
      opts.faults ?? {},
    ),
    seed,
    log,
    dataDir: opts.dataDir,
  });
  // the trueai profile cancels as trueai does; the others answer as their hosts (app.ts default)
  const cancel = opts.cancel ?? (opts.profile === "trueai" ? "trueai" : undefined);
  const app = createSimulatorApp(engine, { apiKey: opts.apiKey, cancel });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const address = await listen(server, opts.port ?? 0, host);
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  engine.setBaseUrl(opts.publicUrl ?? url);
  engine.resume();
  log("simulator started", { url, seed });
  return {
    profile,
    url,
    seed,
    async stop() {
      await engine.stop();
      await close(server);
    },
    setFaults: (f) => {
      engine.setFaults(f);
    },
    tasks: engine.tasks,
    stats: engine.stats,
    idle: engine.idle,
  };
}

/**
 * Runs the simulator as its own process:
 *   npx tsx local/simulator/main.ts --api-key dev --port 8787 [--profile trueai] [--step-ms 1000] [--seed 42]
 *     [--faults '{"dropWebhooks":0.2}'] [--public-url http://host:8787] [--verbose]
 * Control it over HTTP: GET /_sim/tasks, GET /_sim/stats, PUT /_sim/faults.
 */
import { parseArgs } from "node:util";
import * as z from "zod";
import { type FaultConfig, PartialFaultConfig } from "./faults.ts";
import { SIM_PROFILES, startSimulator } from "./index.ts";

const { values } = parseArgs({
  options: {
    "api-key": { type: "string" },
    profile: { type: "string", default: "cometapi" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8787" },
    "public-url": { type: "string" },
    "step-ms": { type: "string", default: "1000" },
    seed: { type: "string" },
    faults: { type: "string", default: "{}" },
    verbose: { type: "boolean", default: false },
  },
});

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const apiKey = values["api-key"] ?? fail("--api-key is required");
const number = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : fail(`--${name} must be a non-negative integer`);
};

function parseFaults(raw: string): Partial<FaultConfig> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    fail("--faults must be JSON");
  }
  const faults = PartialFaultConfig.safeParse(json);
  if (!faults.success) fail(`--faults: ${z.prettifyError(faults.error)}`);
  return faults.data;
}

const profile = SIM_PROFILES.find((p) => p === values.profile);
if (!profile) fail(`--profile must be one of ${SIM_PROFILES.join(", ")}`);

const sim = await startSimulator({
  apiKey,
  profile,
  host: values.host,
  port: number("port", values.port),
  publicUrl: values["public-url"],
  stepMs: number("step-ms", values["step-ms"]),
  seed: number("seed", values.seed),
  faults: parseFaults(values.faults),
  log: values.verbose
    ? (msg, fields) =>
        console.log(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }))
    : undefined,
});
console.log(JSON.stringify({ msg: "simulator listening", url: sim.url, seed: sim.seed }));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void sim.stop().then(() => process.exit(0));
  });
}

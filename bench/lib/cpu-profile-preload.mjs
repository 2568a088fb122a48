// Preloaded (NODE_OPTIONS=--import) into a cold-start run by bench/cold-start.ts: samples the
// CPU from the first moment user code runs until the host stops the process (SIGTERM), then
// writes the V8 CPU profile to BENCH_PROFILE_OUT and exits.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const session = new Session();
session.connect();
const post = (method, params = {}) =>
  new Promise((ok, fail) => session.post(method, params, (e, r) => (e ? fail(e) : ok(r))));
await post("Profiler.enable");
await post("Profiler.setSamplingInterval", { interval: 50 });
await post("Profiler.start");
process.once("SIGTERM", async () => {
  const { profile } = await post("Profiler.stop");
  writeFileSync(process.env.BENCH_PROFILE_OUT ?? "profile.cpuprofile", JSON.stringify(profile));
  process.exit(0);
});

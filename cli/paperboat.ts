import { run } from "./main.ts";

/** The process around the CLI: its streams, Ctrl-C (stop waiting; a second one kills), its exit code. */
const interrupt = new AbortController();
process.once("SIGINT", () => interrupt.abort());
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  // `paperboat tasks | head`: the reader left, nothing more to say
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await run(
  process.argv,
  process.env,
  { out: process.stdout, err: process.stderr },
  interrupt.signal,
);

import type { Logger } from "./core/ports.ts";

type Sink = (line: string) => void;

/**
 * Structured JSON logs: a constant message plus fields. Callers pass ids and statuses only;
 * secrets, API keys, state tokens, auth headers and webhook bodies are never passed here.
 */
export function createLogger(
  options: { sink?: Sink; base?: Record<string, unknown> } = {},
): Logger {
  const sink: Sink = options.sink ?? ((line) => process.stdout.write(`${line}\n`));
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    sink(
      JSON.stringify({
        level,
        message,
        time: new Date().toISOString(),
        ...options.base,
        ...fields,
      }),
    );
  return { info: write("info"), warn: write("warn"), error: write("error") };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

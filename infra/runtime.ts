/**
 * Lambda settings every paperboat function shares, chosen on purpose rather than left to SST's
 * defaults (nodejs24.x, x86_64, 1024 MB, 20 s, text logs kept a month):
 *
 * - runtime nodejs22.x: Node 20 reached its end of life in April 2026 and Lambda deprecates
 *   nodejs20.x (new functions on it are refused after the deprecation window), and the AWS SDK's
 *   releases from 2027 need Node 22. The bundle still targets node20, the oldest Node the code
 *   supports (package.json engines), which the local stack and CI run: the same code runs on both.
 * - arm64 (Graviton): about 20% cheaper per GB-second than x86_64, and nothing here is native.
 * - 512 MB: the functions are I/O-bound (one or two DynamoDB calls, at most one upstream call),
 *   but Lambda's CPU share grows with memory and a cold start parses 300-420 KB of code
 *   (bench/bundle-sizes.md); 512 MB keeps cold starts short at half the default's price.
 *   Per-function timeouts live next to each function (infra/api.ts, infra/jobs.ts).
 * - JSON log format: the code logs structured JSON lines to stdout, which Lambda passes on as
 *   they are (it structures only console.* output), so functions/log.ts puts level, time, the
 *   request id (awsRequestId) and the task id on each line itself; CloudWatch Logs Insights
 *   filters on them.
 * - log retention: a week on throw-away stages, three months on protected ones (sst.config.ts).
 * - esbuild: ESM, minified (SST's defaults, spelled out because test/infra bundles the same way),
 *   and `splitting`: what only a dynamic import loads goes in chunks of its own. The AWS SDK
 *   imports its other credential providers (SSO, profiles, web identity, instance metadata, with
 *   the STS and SSO clients behind them) that way; on Lambda, whose credentials are in the
 *   environment, a cold start then never reads those ~155 KB, 4-6 ms of every function's init
 *   (bench/RESULTS.md).
 */
export const LOG_RETENTION = $app.protect ? "3 months" : "1 week";

export const FUNCTION_DEFAULTS = {
  runtime: "nodejs22.x",
  architecture: "arm64",
  memory: "512 MB",
  logging: { format: "json", retention: LOG_RETENTION },
  nodejs: { format: "esm", minify: true, splitting: true, esbuild: { target: "node20" } },
} as const satisfies Partial<sst.aws.FunctionArgs>;

/**
 * What every function logs (functions/log.ts): `info` is each task change, warning and error;
 * `debug` adds nothing yet; `warn` or `error` keep only trouble. One line to change per stage.
 */
export const LOG_ENVIRONMENT = { LOG_LEVEL: "info" } as const;

/** The upstream call's own budget; the function timeouts below leave room for it. */
export const UPSTREAM_TIMEOUT_MS = 10_000;

/** `functions/lambda/submit.ts` + `handler` → SST's handler string `functions/lambda/submit.handler`. */
export function handlerOf(entry: { handlerFile: string; export: string }): string {
  return `${entry.handlerFile.replace(/\.ts$/, "")}.${entry.export}`;
}

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
 *   but Lambda's CPU share grows with memory and a cold start parses 280-380 KB of code
 *   (bench/bundle-sizes.md); 512 MB keeps cold starts short at half the default's price.
 *   Per-function timeouts live next to each function (infra/api.ts, infra/jobs.ts).
 * - JSON log format: the code logs structured JSON lines to stdout, which Lambda passes on as
 *   they are (it structures only console.* output), so functions/log.ts puts level, time, the
 *   request id (awsRequestId) and the task id on each line itself; CloudWatch Logs Insights
 *   filters on them.
 * - log retention: a week on throw-away stages, three months on protected ones (sst.config.ts).
 * - esbuild: ESM, minified (SST's defaults, spelled out because test/infra bundles the same way),
 *   one file per function, without the AWS SDK packages a function on Lambda never loads
 *   (SDK_PACKAGES_LAMBDA_NEVER_LOADS below).
 */
export const LOG_RETENTION = $app.protect ? "3 months" : "1 week";

/**
 * The AWS SDK's credential providers other than the environment's, and its event-stream codec:
 * the SDK imports each of them dynamically, only when it needs it. Lambda gives every function its
 * role's credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), which the SDK tries first, and no call of ours streams events, so a deployed
 * function never imports these. Bundled, they cost every cold start ~155 KB of code to read
 * (SSO, shared profiles, processes, web identity, container and instance metadata, and the STS
 * and SSO clients behind them), 13-16 ms of init (bench/RESULTS.md, its ablations); left out
 * (external, and not installed), they cost nothing. Without credentials in its environment a function would fail
 * its first AWS call naming the missing package; `sst dev` links the project's node_modules next
 * to its build, so there they load as usual. test/infra/bundle-smoke.test.ts checks that each
 * bundle imports them only dynamically and runs without them.
 */
export const SDK_PACKAGES_LAMBDA_NEVER_LOADS = [
  "@aws-sdk/credential-provider-http",
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-web-identity",
  "@smithy/credential-provider-imds",
  "@smithy/core/event-streams",
];

export const FUNCTION_DEFAULTS = {
  runtime: "nodejs22.x",
  architecture: "arm64",
  memory: "512 MB",
  logging: { format: "json", retention: LOG_RETENTION },
  nodejs: {
    format: "esm",
    minify: true,
    esbuild: { target: "node20", external: [...SDK_PACKAGES_LAMBDA_NEVER_LOADS] },
  },
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

import { defineConfig } from "vitest/config";

/**
 * Test files that need no DynamoDB Local (so no Java): pure functions, parsers, signing, the
 * upstream client, the simulator, the local SQS and EventBridge stand-ins, the docs' links.
 * `npm run test:unit` runs only these; `npm test` runs both projects. test/infra/ stays in
 * integration although it needs no Java: it bundles every function with esbuild, the slow part.
 */
const UNIT = [
  "test/client/sse.test.ts",
  "test/core/**/*.test.ts",
  "test/contract/**/*.test.ts",
  "test/docs.test.ts",
  "test/events/**/*.test.ts",
  "test/images/**/*.test.ts",
  "test/queue/local-sqs.test.ts",
  "test/simulator/**/*.test.ts",
  "test/upstream/**/*.test.ts",
  "test/webhooks/**/*.test.ts",
];

export default defineConfig({
  // `import ... from "paperboat"` in tests is the source (client/index.ts), not the build in dist/.
  // Vitest hands these to Node too, which is why Vite's "module" is not among them: it would send
  // Node to the AWS SDK's dist-es files, which only bundlers can load.
  ssr: { resolve: { conditions: ["paperboat-source", "node"] } },
  test: {
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 30_000,
    // the SDK's notice that its 2027 releases need Node 22: known, pinned, see docs/development.md
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    hookTimeout: 60_000,
    // two cores: DynamoDB Local (Java) needs one of them
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: "unit", include: UNIT } },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: UNIT,
          // one DynamoDB Local for the project's run, started only when its files run
          globalSetup: ["test/global-setup.ts"],
        },
      },
    ],
  },
});

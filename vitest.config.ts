import { defineConfig } from "vitest/config";

export default defineConfig({
  // `import ... from "paperboat"` in tests is the source (client/index.ts), not the build in dist/.
  // Vitest hands these to Node too, which is why Vite's "module" is not among them: it would send
  // Node to the AWS SDK's dist-es files, which only bundlers can load.
  ssr: { resolve: { conditions: ["paperboat-source", "node"] } },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 30_000,
    // the SDK's notice that its 2027 releases need Node 22: known, pinned, see docs/development.md
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    hookTimeout: 60_000,
    // two cores: DynamoDB Local (Java) needs one of them
    maxWorkers: 2,
  },
});

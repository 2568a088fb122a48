#!/usr/bin/env node
// `npx paperboat`. In the repository the CLI's TypeScript runs through tsx (as `npm start` runs
// the stack), so an edit shows at once; an installed package has only the build, dist/cli.js.
import { existsSync } from "node:fs";

const source = new URL("../cli/paperboat.ts", import.meta.url);
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  await import("../dist/cli.js");
}

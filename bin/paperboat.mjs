#!/usr/bin/env node
// `npx paperboat`: the CLI is TypeScript, run through tsx as `npm start` runs the stack.
import { register } from "tsx/esm/api";

register();
await import("../cli/paperboat.ts");

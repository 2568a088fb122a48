import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OPENAPI_FILE, renderOpenApiDocument } from "../functions/http/openapi.ts";

/**
 * `npm run openapi`: regenerates functions/http/openapi.json from the zod schemas.
 * `npm run openapi -- --check` only says whether the file is up to date (exit 1 if not).
 */
const file = join(import.meta.dirname, "..", OPENAPI_FILE);
const next = renderOpenApiDocument();
let current = "";
try {
  current = readFileSync(file, "utf8");
} catch {}
if (process.argv.includes("--check")) {
  if (current !== next) {
    process.stderr.write(`${OPENAPI_FILE} is out of date: run \`npm run openapi\`\n`);
    process.exit(1);
  }
  process.stdout.write(`${OPENAPI_FILE} is up to date\n`);
} else if (current === next) {
  process.stdout.write(`${OPENAPI_FILE} is up to date\n`);
} else {
  writeFileSync(file, next);
  process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
}

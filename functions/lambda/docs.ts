import { join } from "node:path";
import { handle } from "hono/aws-lambda";
import { composeDocsApp } from "../compose/docs.ts";
import { DOCS_SETTINGS } from "../compose/settings.ts";
import { loadSettings } from "../config.ts";
import { packagedAssetsDir } from "../http/docs-app.ts";
import { readSettings } from "../platform.ts";
import { DOCS_ASSET_DIR } from "../routes.ts";
import { perInvocation } from "./invocation.ts";

/**
 * Lambda entry of the docs function: the Swagger UI files come with the package (infra/api.ts
 * copies them to DOCS_ASSET_DIR), or from node_modules where there is one (`sst dev`).
 */
const taskRoot = process.env.LAMBDA_TASK_ROOT;
export const handler = perInvocation(
  handle(
    composeDocsApp(
      [taskRoot && join(taskRoot, DOCS_ASSET_DIR), packagedAssetsDir()].filter(
        (dir): dir is string => Boolean(dir),
      ),
      {},
      loadSettings(readSettings(), DOCS_SETTINGS),
    ),
  ),
);

import { createDirectoryAssets, createDocsApp } from "../http/docs-app.ts";
import openApiDocument from "../http/openapi.json" with { type: "json" };
import { type LogLevel, loggerFor } from "../log.ts";
import type { Overrides } from "./settings.ts";

/**
 * The docs function's app: the generated OpenAPI document (functions/http/openapi.json) and the
 * Swagger UI files, looked for in `assetDirs` in order. Apart from compose.ts so that its bundle
 * holds no AWS SDK, and the other bundles no document.
 */
export function composeDocsApp(
  assetDirs: readonly string[],
  overrides: Overrides = {},
  config: { LOG_LEVEL?: LogLevel } = {},
) {
  return createDocsApp({
    document: openApiDocument,
    assets: createDirectoryAssets(assetDirs),
    log: loggerFor(config, overrides, "docs"),
  });
}

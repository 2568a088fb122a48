import type { Overrides } from "./compose.ts";
import { createDirectoryAssets, createDocsApp } from "./http/docs-app.ts";
import openApiDocument from "./http/openapi.json" with { type: "json" };
import { createLogger } from "./log.ts";

/**
 * The docs function's app: the generated OpenAPI document (functions/http/openapi.json) and the
 * Swagger UI files, looked for in `assetDirs` in order. Apart from compose.ts so that its bundle
 * holds no AWS SDK, and the other bundles no document.
 */
export function composeDocsApp(assetDirs: readonly string[], overrides: Overrides = {}) {
  return createDocsApp({
    document: openApiDocument,
    assets: createDirectoryAssets(assetDirs),
    log: overrides.log ?? createLogger({ base: { fn: "docs" } }),
  });
}

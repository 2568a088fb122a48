import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { NotFoundError } from "../core/errors.ts";
import type { Logger } from "../core/ports.ts";
import type { DOCS_ASSET_FILES } from "../routes.ts";
import { createBaseApp } from "./base.ts";
import { mountGallery } from "./gallery.ts";

export type DocsAsset = (typeof DOCS_ASSET_FILES)[number];

/** The content type of each file the reference page loads. */
export const DOCS_CONTENT_TYPES: Record<DocsAsset, string> = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

/** Where the docs function finds the reference's files. */
export interface DocsAssets {
  read(file: DocsAsset): Promise<Uint8Array>;
}

/**
 * The swagger-ui-dist files from the first of `dirs` that has them: on Lambda the copy made at
 * deploy (infra/api.ts `copyFiles`), locally the npm package itself.
 */
export function createDirectoryAssets(dirs: readonly string[]): DocsAssets {
  const cache = new Map<DocsAsset, Promise<Uint8Array>>();
  return {
    read(file) {
      let cached = cache.get(file);
      if (!cached) {
        const dir = dirs.find((d) => existsSync(join(d, file)));
        cached = dir
          ? readFile(join(dir, file))
          : Promise.reject(new Error(`${file} not found in ${dirs.join(", ")}`));
        cache.set(file, cached);
      }
      return cached;
    },
  };
}

export interface DocsAppDeps {
  /** functions/http/openapi.json */
  document: unknown;
  assets: DocsAssets;
  log: Logger;
}

const STYLE = `
body { margin: 0; }
.swagger-ui .topbar { display: none; }
/* the intro's code spans wrap rather than push the page sideways on a phone (390 px) */
.swagger-ui .info .markdown code, .swagger-ui .info .renderedMarkdown code {
  white-space: normal; overflow-wrap: anywhere;
}
.swagger-ui .info li { margin: 0.3em 0; }
@media (max-width: 600px) {
  .swagger-ui .wrapper { padding: 0 12px; }
  .swagger-ui .info { margin: 20px 0; }
  .swagger-ui .info .title { font-size: 26px; line-height: 1.3; }
  .swagger-ui .info .title small { margin-left: 6px; }
  .swagger-ui .info p, .swagger-ui .info li { font-size: 15px; line-height: 1.5; }
  .swagger-ui .scheme-container { padding: 12px 0; }
}
`;
const SCRIPT = `
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  defaultModelsExpandDepth: 0,
});
`;

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/**
 * The page's Content-Security-Policy, as strict as the gallery's where Swagger UI allows: code
 * only from this origin plus the page's one inline script (by its hash); requests only to this
 * origin; no framing, no <base>, no form posts. Swagger UI injects styles and renders
 * descriptions as HTML, so inline styles are allowed and Trusted Types are not required.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  `script-src 'self' ${sha256(SCRIPT)}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** On every answer of the docs function, as on the gallery's. */
const COMMON_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/**
 * The page at `/docs`. Every URL in it is relative (`docs/…`, `openapi.json`) so it works behind
 * a path prefix too, and nothing is fetched from elsewhere: no CDN, and Swagger UI's online
 * validator badge is off (`validatorUrl: null`).
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>paperboat API reference</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="icon" type="image/png" sizes="32x32" href="docs/favicon-32x32.png">
<link rel="icon" type="image/png" sizes="16x16" href="docs/favicon-16x16.png">
<style>${STYLE}</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script>${SCRIPT}</script>
</body>
</html>
`;

/** The docs function: the OpenAPI document, the interactive reference and the gallery page, no auth. */
export function createDocsApp(deps: DocsAppDeps) {
  const app = createBaseApp(deps.log);
  const document = JSON.stringify(deps.document);
  app.use(async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(COMMON_HEADERS)) c.res.headers.set(name, value);
  });

  app.get("/openapi.json", (c) =>
    c.body(document, 200, {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-cache",
    }),
  );

  app.get("/docs", (c) =>
    c.html(PAGE, 200, {
      "content-security-policy": DOCS_CSP,
      "cross-origin-opener-policy": "same-origin",
    }),
  );

  app.get("/docs/:file", async (c) => {
    const file = c.req.param("file");
    if (!Object.hasOwn(DOCS_CONTENT_TYPES, file)) throw new NotFoundError(`No such file: ${file}.`);
    const bytes = await deps.assets.read(file as DocsAsset);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": DOCS_CONTENT_TYPES[file as DocsAsset],
      "cache-control": "public, max-age=3600",
    });
  });

  // the gallery page (functions/gallery): no key here, the page asks for one
  mountGallery(app);

  return app;
}

/** The swagger-ui-dist package's own directory, where node_modules has it (not in a Lambda bundle). */
export function packagedAssetsDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist"));
  } catch {
    return null;
  }
}

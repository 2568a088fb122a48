import { readFile } from "node:fs/promises";
import { Hono } from "hono";
import { handle } from "hono/aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GALLERY } from "../../functions/gallery/assets.ts";
import { buildGalleryAssets } from "../../functions/gallery/build.ts";
import { GALLERY_CSP, GALLERY_PATHS, mountGallery } from "../../functions/http/gallery.ts";
import { ROUTES } from "../../functions/routes.ts";
import { apiGatewayV2Event, lambdaContext } from "../lambda/events.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/** The gallery page as HTTP: its routes, headers and assets (the browser test drives the page). */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

const source = (file: string) =>
  readFile(new URL(`../../functions/gallery/${file}`, import.meta.url), "utf8");

describe("the gallery page", () => {
  it("is built from its sources: assets.ts is not stale (npm run build:gallery)", async () => {
    expect(GALLERY).toEqual(await buildGalleryAssets());
  });

  it("is served by the docs function on GET /, /gallery.js and /gallery.css", () => {
    for (const path of GALLERY_PATHS) {
      expect(ROUTES).toContainEqual({ method: "GET", path, fn: "docs" });
    }
  });

  it("GET / needs no key and answers the page with a strict Content-Security-Policy", async () => {
    const response = await fetch(`${stack.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await response.text()).toBe(GALLERY.html);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toBe(GALLERY_CSP);
    const directives = Object.fromEntries(
      csp.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]),
    );
    expect(directives).toMatchObject({
      "default-src": "'none'",
      "script-src": "'self'",
      "style-src": "'self'",
      "connect-src": "'self'",
      "img-src": "'self' http: https: data:",
      "form-action": "'none'",
      "frame-ancestors": "'none'",
      "require-trusted-types-for": "'script'",
      "trusted-types": "'none'",
    });
    expect(csp).not.toContain("unsafe-");
  });

  it("serves the script and the style under their content hash, cached for good", async () => {
    for (const [path, body, hash, type] of [
      ["/gallery.js", GALLERY.js, GALLERY.jsHash, "text/javascript; charset=utf-8"],
      ["/gallery.css", GALLERY.css, GALLERY.cssHash, "text/css; charset=utf-8"],
    ] as const) {
      expect(GALLERY.html).toContain(`${path.slice(1)}?v=${hash}`);
      const hashed = await fetch(`${stack.url}${path}?v=${hash}`);
      expect(hashed.status).toBe(200);
      expect(hashed.headers.get("content-type")).toBe(type);
      expect(hashed.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(hashed.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await hashed.text()).toBe(body);
      // an old or missing hash: the current file, revalidated every time
      const plain = await fetch(`${stack.url}${path}?v=old`);
      expect(plain.headers.get("cache-control")).toBe("no-cache");
      expect(await plain.text()).toBe(body);
    }
  });

  it("leaves the API as it was: /v1 still needs a key, other paths are JSON 404s", async () => {
    const list = await fetch(`${stack.url}/v1/tasks`);
    expect(list.status).toBe(401);
    expect(((await list.json()) as any).error.code).toBe("unauthorized");
    const unknown = await fetch(`${stack.url}/gallery.png`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe("not_found");
    const post = await fetch(`${stack.url}/`, { method: "POST" });
    expect(post.status).toBe(404);
  });

  it("has no inline script, style or event handler, and its script never writes HTML", async () => {
    const html = await source("index.html");
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    // the key field has no name: even a form submitted without the script sends nothing
    expect(html).toMatch(/<input\s+id="api-key"/);
    expect(html).not.toMatch(/id="api-key"[^>]*\sname=/);
    const js = await source("gallery.js");
    const code = js.replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, "");
    for (const sink of [
      "innerHTML",
      "outerHTML",
      "insertAdjacentHTML",
      "document.write",
      "eval(",
      "new Function",
      "setHTMLUnsafe",
      "createContextualFragment",
    ]) {
      expect(code, sink).not.toContain(sink);
    }
  });

  it("answers through Lambda's API Gateway adapter as text with its headers", async () => {
    const app = new Hono();
    mountGallery(app);
    const handler = handle(app) as (event: unknown, context: unknown) => Promise<any>;
    const page = await handler(
      apiGatewayV2Event({ method: "GET", path: "/" }),
      lambdaContext("docs"),
    );
    expect(page.statusCode).toBe(200);
    expect(page.isBase64Encoded).toBe(false);
    expect(page.body).toBe(GALLERY.html);
    expect(page.headers["content-security-policy"]).toBe(GALLERY_CSP);
    const script = await handler(
      apiGatewayV2Event({ method: "GET", path: "/gallery.js", query: `v=${GALLERY.jsHash}` }),
      lambdaContext("docs"),
    );
    expect(script.statusCode).toBe(200);
    expect(script.isBase64Encoded).toBe(false);
    expect(script.body).toBe(GALLERY.js);
  });

  it("stays small: the docs function carries the whole page in under 40 KB", () => {
    const bytes = Buffer.byteLength(GALLERY.html + GALLERY.css + GALLERY.js);
    expect(bytes).toBeLessThan(40_000);
  });
});

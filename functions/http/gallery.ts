import type { Context, Env, Hono } from "hono";
import { GALLERY } from "../gallery/assets.ts";

/**
 * The page's Content-Security-Policy. Scripts and styles only from this origin (no inline code);
 * API calls only to this origin, so a key in the page can go nowhere else; images and videos
 * from any http(s) host, since upstream image hosts vary (data: for the inline favicon);
 * Trusted Types with no policy, so the page cannot put a string into innerHTML even by mistake;
 * no framing, no <base>, no form posts.
 */
export const GALLERY_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' http: https: data:",
  "media-src http: https:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

const COMMON_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** The page's paths: the page itself, its script and its style (all GET, no API key). */
export const GALLERY_PATHS = ["/", "/gallery.js", "/gallery.css"] as const;

/**
 * Serves the gallery (functions/gallery) from the docs app. No key is needed for the page: it
 * asks for one and keeps it in the browser. The page is revalidated on every load; the script
 * and style are immutable under their content hash (`?v=`), and uncached without it.
 */
export function mountGallery<E extends Env>(app: Hono<E>) {
  const asset = (body: string, type: string, version: string) => (c: Context<E>) =>
    c.body(body, 200, {
      ...COMMON_HEADERS,
      "content-type": type,
      "cache-control":
        c.req.query("v") === version ? "public, max-age=31536000, immutable" : "no-cache",
    });

  app.get("/", (c) =>
    c.body(GALLERY.html, 200, {
      ...COMMON_HEADERS,
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": GALLERY_CSP,
      "cache-control": "no-cache",
      "x-frame-options": "DENY",
      "cross-origin-opener-policy": "same-origin",
    }),
  );
  app.get("/gallery.js", asset(GALLERY.js, "text/javascript; charset=utf-8", GALLERY.jsHash));
  app.get("/gallery.css", asset(GALLERY.css, "text/css; charset=utf-8", GALLERY.cssHash));
}

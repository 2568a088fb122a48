import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The README is a first screen, and the documentation lives in docs/, in the project's own words:
 * every relative link resolves (to a file, and to a heading when it names one), no link leads to
 * another project's site, and no source comment cites a document outside this repository.
 */
const ROOT = resolve(import.meta.dirname, "..");
const README = join(ROOT, "README.md");
const DOCS = join(ROOT, "docs");

/** docs/**\/*.md, without docs/_pending (notes waiting to be folded in). */
function docPages(dir = DOCS): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "_pending" ? [] : docPages(path);
    return name.endsWith(".md") ? [path] : [];
  });
}
const PAGES = [README, ...docPages()];
const rel = (path: string) => relative(ROOT, path);

/** The text outside fenced code blocks and inline code spans. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .trim()
    .replace(/\s/g, "-");
}

function anchorsOf(path: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const headings = prose(readFileSync(path, "utf8")).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm);
  for (const [, text] of headings) {
    const base = slug(text ?? "");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

function linksOf(path: string): string[] {
  const text = prose(readFileSync(path, "utf8"));
  const inline = [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)];
  const auto = [...text.matchAll(/<((?:https?|mailto):[^>\s]+)>/g)];
  return [...inline, ...auto].map((m) => m[1] as string);
}

describe("the README", () => {
  const text = readFileSync(README, "utf8");

  it("is a first screen: at most 10 KB", () => {
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(10 * 1024);
  });

  it("keeps the quick-start and deploy commands", () => {
    expect(text).toContain("npm ci && npm start");
    expect(text).toContain("npm ci && npm test");
    expect(text).toContain("npx sst deploy --stage");
  });

  it("shows the gallery and links every page of docs/", () => {
    expect(linksOf(README)).toContain("docs/gallery.png");
    const linked = new Set(linksOf(README).map((link) => link.split("#")[0]));
    for (const page of docPages()) {
      if (page === join(DOCS, "README.md")) continue;
      expect(linked, `README links ${rel(page)}`).toContain(rel(page));
    }
  });
});

describe("links in README.md and docs/", () => {
  it.each(PAGES.map((page) => [rel(page), page]))(
    "%s: every relative link resolves",
    (_name, page) => {
      const broken: string[] = [];
      for (const link of linksOf(page)) {
        if (/^[a-z]+:/i.test(link)) continue;
        const [file = "", anchor] = link.split("#");
        const target = file === "" ? page : resolve(dirname(page), decodeURIComponent(file));
        if (!target.startsWith(ROOT) || !existsSync(target)) {
          broken.push(`${link} (no such file)`);
        } else if (anchor && target.endsWith(".md") && !anchorsOf(target).has(anchor)) {
          broken.push(`${link} (no such heading)`);
        }
      }
      expect(broken).toEqual([]);
    },
  );

  it.each(PAGES.map((page) => [rel(page), page]))(
    "%s: no link leads outside this machine or this repository",
    (_name, page) => {
      const outside = linksOf(page).filter(
        (link) => /^[a-z]+:/i.test(link) && !/^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(link),
      );
      expect(outside).toEqual([]);
    },
  );
});

describe("source comments", () => {
  /**
   * Documents that are not in this repository, as comments used to cite them, and README
   * sections that moved to docs/ (the README is a first screen now).
   */
  const OUTSIDE = new RegExp(
    [
      "\\.\\./shared/",
      "shared/API\\.md",
      "shared/re[f]erence",
      "\\bre[f]erence §",
      'README [(]?"',
      "README[']s",
    ].join("|"),
  );
  const SOURCES = ["functions", "local", "client", "cli", "bench", "test", "infra", "scripts"];

  function files(dir: string): string[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name === "node_modules" ? [] : files(path);
      return /\.(ts|mts|mjs|js|md|html|css)$/.test(name) ? [path] : [];
    });
  }

  it("cite docs/ in this repository, never a document outside it", () => {
    const citing = SOURCES.flatMap((dir) => files(join(ROOT, dir)))
      .concat(join(ROOT, "sst.config.ts"))
      .filter((path) => OUTSIDE.test(readFileSync(path, "utf8")))
      .map(rel);
    expect(citing).toEqual([]);
  });
});

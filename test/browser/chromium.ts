import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium } from "playwright-core";
import { inject } from "vitest";

/**
 * The browser tests' Chromium. It comes with `npm ci`: `@sparticuz/chromium` ships a Chromium
 * build inside its npm package, unpacked once into the temp folder by the global setup (one
 * process, so parallel test files never unpack it at the same time). `CHROMIUM_PATH` names
 * another binary instead (Debian's `/usr/bin/chromium`, say). Nothing is downloaded.
 */
export async function resolveChromium(): Promise<string> {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    if (!existsSync(given)) throw new Error(`CHROMIUM_PATH names no file: ${given}`);
    return given;
  }
  const { default: packaged } = await import("@sparticuz/chromium");
  return packaged.executablePath();
}

/**
 * Flags for a headless Chromium on a closed network, run as root: no sandbox (root), no GPU,
 * no background traffic to hosts that cannot be reached, /tmp instead of a small /dev/shm.
 */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** The path the global setup resolved, or its failure as one clear line. */
function executablePath(): string {
  const found = inject("chromium");
  if ("error" in found) throw new Error(`Chromium cannot start: ${found.error}`);
  return found.path;
}

async function launchFailed<T>(launch: () => Promise<T>): Promise<T> {
  try {
    return await launch();
  } catch (error) {
    const first = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    throw new Error(`Chromium cannot start (${executablePath()}): ${first}`);
  }
}

/** A headless browser for a test file; close it in afterAll. */
export function launchBrowser(): Promise<Browser> {
  return launchFailed(() =>
    chromium.launch({ executablePath: executablePath(), headless: true, args: FLAGS }),
  );
}

/**
 * A browser with a profile of its own (storage survives closing pages, as a user's would);
 * `close()` also removes the profile folder.
 */
export async function launchProfile(viewport: {
  width: number;
  height: number;
}): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profileDir = await mkdtemp(join(tmpdir(), "paperboat-chromium-"));
  const context = await launchFailed(() =>
    chromium.launchPersistentContext(profileDir, {
      executablePath: executablePath(),
      headless: true,
      args: FLAGS,
      viewport,
    }),
  );
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}

import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PROGRESS_STEPS } from "../../local/simulator/index.ts";
import { OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";
import { launchProfile } from "./chromium.ts";

/**
 * The gallery's live progress in headless Chromium against the local stack: a running task's
 * card follows GET /v1/tasks/{id}/events and shows each progress step as it is recorded. The
 * simulator moves every 400 ms, faster than the page's 1.5 s polls, so only the stream can show
 * them all.
 */
const WAIT = 20_000;
let stack: TestStack;
let context: BrowserContext;
let closeBrowser: (() => Promise<void>) | undefined;

beforeAll(async () => {
  stack = await startTestStack({ simulator: { stepMs: 400 }, events: { intervalMs: 100 } });
  ({ context, close: closeBrowser } = await launchProfile({ width: 1280, height: 900 }));
});
afterAll(async () => {
  await closeBrowser?.();
  await stack?.stop();
});

describe("the gallery's live progress", () => {
  it("shows every progress step of a running task, from its stream", async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    const streamed: string[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/events")) streamed.push(request.url());
    });
    try {
      await page.goto(`${stack.url}/`);
      await page.getByLabel("API key").fill(OWNERS.alice.key);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.locator("#workspace").waitFor({ state: "visible", timeout: WAIT });
      // every text the grid shows, in order (each setText puts a new text node in)
      await page.evaluate(`(() => {
        const seen = [];
        window.seenTexts = seen;
        new MutationObserver((records) => {
          for (const record of records) {
            for (const node of record.addedNodes) {
              if (node.nodeType === Node.TEXT_NODE) seen.push(node.textContent ?? "");
            }
          }
        }).observe(document.querySelector("#grid"), { childList: true, subtree: true });
      })()`);

      const prompt = "a paper boat, step by step";
      await page.getByRole("textbox", { name: "Prompt", exact: true }).fill(prompt);
      await page.getByRole("button", { name: "Imagine", exact: true }).click();
      await page
        .locator(`#grid li[data-status="SUCCESS"]`)
        .filter({ hasText: prompt })
        .waitFor({ timeout: WAIT });

      const texts = (await page.evaluate("window.seenTexts")) as string[];
      const steps = [...new Set(texts.filter((t) => /^In progress \d+ %$/.test(t)))];
      expect(steps).toEqual(DEFAULT_PROGRESS_STEPS.map((p) => `In progress ${p} %`));
      expect(texts).toContain("Succeeded");
      expect(streamed.length).toBeGreaterThanOrEqual(1);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";
import { launchBrowser } from "./chromium.ts";

/**
 * The API reference at /docs in headless Chromium (test/browser/chromium.ts): Swagger UI
 * renders every operation of the document from files we serve, asks nothing of any other host,
 * and "Try it out" reaches the API with a key given through "Authorize".
 */
const ARTIFACTS = join(import.meta.dirname, "../../.test-artifacts");

let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  stack = await startTestStack();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("the API reference in a browser", () => {
  it("shows every operation, loads nothing from elsewhere, and tries a route with a key", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const elsewhere: string[] = [];
    const errors: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(`${stack.url}/`) && !request.url().startsWith("data:")) {
        elsewhere.push(request.url());
      }
    });
    page.on("pageerror", (error) => errors.push(error.message));
    // the page's CSP (same rules as the gallery's) blocks nothing Swagger UI needs
    const blocked: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    const answer = await page.goto(`${stack.url}/docs`);
    const headers = answer?.headers() ?? {};
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["content-security-policy"]).toContain("default-src 'none'");
    expect(headers["x-frame-options"]).toBe("DENY");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    await page.waitForSelector(".opblock", { timeout: 20_000 });

    const spec = (await (await fetch(`${stack.url}/openapi.json`)).json()) as {
      paths: Record<string, object>;
      webhooks?: Record<string, { post?: object }>;
    };
    // every route, and the webhook we send (the document's `webhooks` section)
    const operations = [
      ...Object.values(spec.paths),
      ...Object.values(spec.webhooks ?? {}),
    ].flatMap((item) => Object.keys(item as object));
    expect(spec.webhooks?.taskEvent?.post).toBeDefined();
    expect(await page.locator(".opblock").count()).toBe(operations.length);
    await page.screenshot({ path: join(ARTIFACTS, "docs.png") });

    await page.getByRole("button", { name: "Authorize" }).first().click();
    // the first scheme is the owners' key (the second is the operator's ADMIN_KEY)
    await page.locator(".auth-container input").first().fill(OWNERS.alice.key);
    await page.locator(".auth-btn-wrapper .authorize").first().click();
    await page.locator(".btn-done").first().click();

    await page.locator("#operations-tasks-listTasks .opblock-summary").click();
    await page.getByRole("button", { name: "Try it out" }).click();
    await page.getByRole("button", { name: "Execute" }).click();
    const status = page.locator(".live-responses-table .response .response-col_status").first();
    await status.waitFor({ timeout: 10_000 });
    expect((await status.textContent())?.trim()).toBe("200");
    expect(await page.locator(".live-responses-table .microlight").first().textContent()).toContain(
      '"items"',
    );

    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    await page.close();
  });

  it("on a phone (390 px): the intro fits the width, and imagine's Try it out works as it comes", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${stack.url}/docs`);
    await page.waitForSelector(".swagger-ui .info .renderedMarkdown p", { timeout: 20_000 });
    // nothing in the intro is wider than the screen: no sideways scrolling to read it
    const overflowing = await page.evaluate(() => {
      // browser code: tsconfig has no DOM types
      const { document, window } = globalThis as any;
      return [...document.querySelectorAll(".swagger-ui .info *")]
        .filter((element: any) => element.getBoundingClientRect().right > window.innerWidth + 1)
        .map((element: any) => String(element.outerHTML).slice(0, 80));
    });
    expect(overflowing).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "docs-390.png") });

    await page.getByRole("button", { name: "Authorize" }).first().click();
    // the first scheme is the owners' key (the second is the operator's ADMIN_KEY)
    await page.locator(".auth-container input").first().fill(OWNERS.alice.key);
    await page.locator(".auth-btn-wrapper .authorize").first().click();
    await page.locator(".btn-done").first().click();
    // the request body Swagger UI fills in is the document's example, sent untouched
    await page.locator("#operations-jobs-imagine .opblock-summary").click();
    await page.getByRole("button", { name: "Try it out" }).click();
    await page.getByRole("button", { name: "Execute" }).click();
    const status = page.locator(".live-responses-table .response .response-col_status").first();
    await status.waitFor({ timeout: 10_000 });
    expect((await status.textContent())?.trim()).toBe("202");
    await page.close();
  });
});

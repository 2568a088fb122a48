import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upstreamIds } from "../../functions/upstream/failover.ts";
import { freePort } from "../../local/dynamodb.ts";
import { api, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";
import { launchBrowser } from "./chromium.ts";

/**
 * The gallery's Upstreams panel (functions/gallery) in a real browser: a stack whose first
 * upstream refuses every connection (down) ahead of the simulator (up), as GET /health says.
 */
let stack: TestStack;
let browser: Browser;
let downUrl: string;

beforeAll(async () => {
  downUrl = `http://127.0.0.1:${await freePort()}`;
  stack = await startTestStack({
    upstreamsBefore: [downUrl],
    overrides: { breaker: { failureThreshold: 1, cooldownMs: 600_000 } },
  });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("the gallery's upstreams", () => {
  it("shows the refusing upstream down, with why, and the other up", async () => {
    // one job meets the refused connection and goes on to the simulator
    const submitted = await api(stack, OWNERS.alice.key).imagine({ prompt: "a boat" });
    expect(submitted.status).toBe(202);
    const [downId, upId] = upstreamIds([downUrl, stack.upstreamUrl]);

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    await page.goto(`${stack.url}/`);
    await page.getByLabel("API key").fill(OWNERS.alice.key);
    await page.getByRole("button", { name: "Sign in" }).click();
    const lines = page.locator("#upstreams li");
    await expect.poll(() => lines.count(), { timeout: 20_000 }).toBe(2);
    expect(await lines.nth(0).textContent()).toMatch(
      new RegExp(`^down 1\\. ${downId} \\(the upstream refused the connection\\), tried again at `),
    );
    expect(await lines.nth(1).textContent()).toBe(`up 2. ${upId}`);
    expect(await page.getByRole("heading", { name: "Upstreams" }).isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });
});

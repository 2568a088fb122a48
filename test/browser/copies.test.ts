import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../local/stack.ts";
import { api, OWNERS } from "../helpers.ts";
import { createRestartableStack, taskWhen } from "../restart-stack.ts";
import { launchProfile } from "./chromium.ts";

/**
 * Issue 15: after `npm start` is stopped and started again, the upstream's links of the first
 * run are dead (the simulator listens on a new port), and the gallery still shows every
 * finished image, because its thumbnails and images are our durable copies.
 */
const ARTIFACTS = join(import.meta.dirname, "../../.test-artifacts");
const WAIT = 20_000;
const PROMPTS = ["a boat at dawn", "a boat at noon", "a boat at dusk"];

const restartable = await createRestartableStack({ stepMs: 30 });
let stack: Stack;
let context: BrowserContext;
let closeBrowser: (() => Promise<void>) | undefined;
const ids: string[] = [];

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  const first = await restartable.start();
  const alice = api(first, OWNERS.alice.key);
  for (const prompt of PROMPTS) ids.push((await alice.imagine({ prompt })).body.id);
  const parent = await taskWhen(first, ids[0] as string, (t) => t.status === "SUCCESS");
  // an upscale too: a single image rather than a grid
  const u1 = parent.buttons.find((b: { label: string }) => b.label === "U1");
  const upscale = await alice.call("POST", `/v1/tasks/${parent.id}/actions`, {
    customId: u1.customId,
  });
  ids.push(upscale.body.id);
  for (const id of ids) await taskWhen(first, id, (t) => t.status === "SUCCESS");
  expect(await first.copyImagesOnce()).toMatchObject({ copied: ids.length, failed: 0 });

  stack = await restartable.start();
  ({ context, close: closeBrowser } = await launchProfile({ width: 1280, height: 900 }));
}, 180_000);

afterAll(async () => {
  await closeBrowser?.();
  await restartable.remove();
});

async function signedIn(): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${stack.url}/`);
  await page.getByLabel("API key").fill(OWNERS.alice.key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#workspace").waitFor({ state: "visible", timeout: WAIT });
  return page;
}

/** Per card of a finished task: whether its image has been decoded, and its placeholder's text. */
function finishedCards(page: Page) {
  return page.evaluate(`[...document.querySelectorAll('#grid li[data-status="SUCCESS"]')].map((li) => {
    const img = li.querySelector(".thumb img");
    return {
      id: li.dataset.id,
      loaded: Boolean(img && img.complete && img.naturalWidth > 0 && !img.hidden),
      src: img ? img.getAttribute("src") : null,
      placeholder: li.querySelector(".placeholder")?.textContent ?? "",
    };
  })`) as Promise<{ id: string; loaded: boolean; src: string | null; placeholder: string }[]>;
}

describe("the gallery after a restart, in Chromium", { timeout: 90_000 }, () => {
  it("the upstream's links of the first run are dead", async () => {
    const task = (await api(stack, OWNERS.alice.key).task(ids[0] as string)).body;
    const answer = await fetch(task.upstreamImageUrl).catch(() => null);
    expect(answer?.ok ?? false).toBe(false);
  });

  it("shows every finished image from the copies, none 'Image unavailable'", async () => {
    const page = await signedIn();
    try {
      await expect
        .poll(async () => (await finishedCards(page)).filter((c) => c.loaded).length, {
          timeout: WAIT,
        })
        .toBe(ids.length);
      const cards = await finishedCards(page);
      expect(cards.map((c) => c.id).sort()).toEqual([...ids].sort());
      for (const card of cards) {
        expect(card.src).toMatch(
          new RegExp(`^${stack.url}/images/${card.id}/thumbnail\\.webp\\?expires=\\d+&sig=`),
        );
      }
      expect(await page.getByText("Image unavailable").count()).toBe(0);
      await page.screenshot({ path: join(ARTIFACTS, "gallery-after-restart.png") });

      // the open task shows its full-size result from the copy too
      await page
        .locator("#grid li")
        .filter({ hasText: PROMPTS[1] as string })
        .getByRole("button")
        .click();
      const main = page.locator("#dialog-media img.main-media");
      await main.waitFor({ state: "visible", timeout: WAIT });
      await expect
        .poll(() => main.evaluate((img: any) => img.complete && img.naturalWidth), {
          timeout: WAIT,
        })
        .toBe(512);
      expect(await main.getAttribute("src")).toMatch(`${stack.url}/images/${ids[1]}/grid.png?`);
      expect(await page.getByText("Image unavailable").count()).toBe(0);
    } finally {
      await page.close();
    }
  });
});

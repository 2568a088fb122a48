import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";
import { launchProfile } from "./chromium.ts";

/**
 * The gallery page (functions/gallery) in a real browser against the real local stack: headless
 * Chromium (test/browser/chromium.ts), driven by playwright-core (no browser download). A user signs in, submits a
 * prompt, sees the grid image, clicks U1 and sees the upscale; the bad inputs get their sentence.
 * Screenshots land in .test-artifacts/ (git-ignored; CI keeps them as artifacts).
 */
const ARTIFACTS = join(import.meta.dirname, "../../.test-artifacts");
const WAIT = 20_000;
/** axe-core, the accessibility rules engine, run inside the page (WCAG 2.1 A and AA). */
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let stack: TestStack;
let context: BrowserContext;
let closeBrowser: (() => Promise<void>) | undefined;
let stackStopped = false;
/** Uncaught errors and CSP/Trusted Types violations of every page: none is expected. */
const pageProblems: string[] = [];

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  stack = await startTestStack({ simulator: { stepMs: 30 } });
  ({ context, close: closeBrowser } = await launchProfile({ width: 1280, height: 900 }));
});

afterAll(async () => {
  await closeBrowser?.();
  if (!stackStopped) await stack?.stop();
});

/** Pages of the running test, closed after it even when it fails (they poll the server). */
const openPages: Page[] = [];
afterEach(async () => {
  for (const page of openPages.splice(0)) await page.close().catch(() => {});
});

async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await context.newPage();
  openPages.push(page);
  await page.setViewportSize(viewport);
  page.on("pageerror", (error) => pageProblems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    const text = message.text();
    if (/Content Security Policy|TrustedHTML|Trusted Type/i.test(text)) {
      pageProblems.push(`console: ${text}`);
    }
  });
  await page.goto(`${stack.url}/`);
  return page;
}

async function signIn(page: Page, key: string, remember = false) {
  await page.getByLabel("API key").fill(key);
  if (remember) await page.getByLabel("Remember the key on this device").check();
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** The grid's card of the task whose prompt is `prompt`. */
function card(page: Page, prompt: string): Locator {
  return page.locator("#grid li").filter({ hasText: prompt });
}

/** Waits until the image in `locator` has really been decoded (naturalWidth > 0). */
async function imageShown(locator: Locator) {
  await locator.waitFor({ state: "visible", timeout: WAIT });
  await expect
    .poll(() => locator.evaluate((img: any) => img.complete && img.naturalWidth > 0), {
      timeout: WAIT,
    })
    .toBe(true);
}

async function imagine(page: Page, prompt: string) {
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill(prompt);
  await page.getByRole("button", { name: "Imagine", exact: true }).click();
}

/** The WCAG 2.1 A/AA violations axe finds on the page as it is now (contrast included). */
async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const { axe, document } = globalThis as any;
    const result = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return result.violations.flatMap((v: any) =>
      v.nodes.map((n: any) => `${v.id}: ${n.target.join(" ")} (${n.failureSummary})`),
    );
  });
}

/** An expression evaluated in the page (tsconfig has no DOM types: this is browser code). */
function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

const storedKey = (page: Page, storage: "sessionStorage" | "localStorage") =>
  inPage<string | null>(page, `${storage}.getItem("paperboat.apiKey")`);

async function noHorizontalScroll(page: Page) {
  const overflow = await inPage<number>(
    page,
    "document.documentElement.scrollWidth - document.documentElement.clientWidth",
  );
  expect(overflow).toBeLessThanOrEqual(0);
}

// a real browser against the whole stack: give each test room on a busy two-core CI machine
describe("the gallery in Chromium", { timeout: 60_000 }, () => {
  it("says the contract's sentence for a wrong key, and stores nothing", async () => {
    const page = await newPage();
    await expect.poll(() => page.getByLabel("API key").isVisible()).toBe(true);
    await signIn(page, "not-a-key-of-this-server");
    await expect
      .poll(() => page.locator("#sign-in-error").textContent(), { timeout: WAIT })
      .toBe("The API key is not valid.");
    expect(await page.getByRole("alert").filter({ hasText: "not valid" }).count()).toBe(1);
    expect(await page.locator("#workspace").isHidden()).toBe(true);
    const stored = [await storedKey(page, "sessionStorage"), await storedKey(page, "localStorage")];
    expect(stored).toEqual([null, null]);
    await page.screenshot({ path: join(ARTIFACTS, "gallery-wrong-key.png") });
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.close();
  });

  it("shows the owner's jobs of the last 7 days, and counts a new one", async () => {
    const page = await newPage();
    await signIn(page, OWNERS.bob.key);
    await page.locator("#workspace").waitFor({ state: "visible", timeout: WAIT });
    const jobsSoFar = async () => {
      const usage = await api(stack, OWNERS.bob.key).call("GET", "/v1/usage");
      return Object.values(usage.body.totals.jobs as Record<string, number>).reduce(
        (a, b) => a + b,
        0,
      );
    };
    const summary = () => page.locator("#usage-summary").textContent();
    const before = await jobsSoFar();
    await expect
      .poll(summary, { timeout: WAIT })
      .toMatch(before === 0 ? /^No jobs/ : new RegExp(`^${before} jobs? \\(`));
    expect(await page.locator("#usage-days li").count()).toBe(7);

    const prompt = "a boat counted in the usage";
    await imagine(page, prompt);
    await page.locator(`#grid li[data-status="SUCCESS"]`).filter({ hasText: prompt }).waitFor({
      timeout: WAIT,
    });
    expect(await jobsSoFar()).toBe(before + 1);
    await expect
      .poll(summary, { timeout: WAIT })
      .toMatch(new RegExp(`^${before + 1} jobs? \\(.*imagine`));
    // today is the last line: its bar is not empty
    const today = page.locator("#usage-days li").last().locator("meter");
    expect(Number(await today.getAttribute("value"))).toBeGreaterThanOrEqual(1);
    expect(await today.getAttribute("aria-label")).toMatch(/job/);
  });

  it("signs in, imagines, shows the grid image, runs U1 and shows the upscale", async () => {
    const page = await newPage();
    await signIn(page, OWNERS.alice.key);
    await page.locator("#workspace").waitFor({ state: "visible", timeout: WAIT });
    // the key is in this tab's session storage only, never in the URL
    expect(await storedKey(page, "sessionStorage")).toBe(OWNERS.alice.key);
    expect(await storedKey(page, "localStorage")).toBeNull();
    expect(page.url()).toBe(`${stack.url}/`);

    const prompt = "a paper boat floating on calm water at sunrise";
    await imagine(page, prompt);
    const grid = card(page, prompt);
    await grid.waitFor({ timeout: WAIT });
    await page.locator(`#grid li[data-status="SUCCESS"]`).filter({ hasText: prompt }).waitFor({
      timeout: WAIT,
    });
    await imageShown(grid.locator("img"));
    const rootId = (await grid.getAttribute("data-id")) as string;
    const root = await api(stack, OWNERS.alice.key).task(rootId);
    expect(root.body).toMatchObject({ status: "SUCCESS", prompt });

    // the task's dialog: the big image and its nine buttons
    await grid.getByRole("button").click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor({ timeout: WAIT });
    await imageShown(dialog.locator("#dialog-media img"));
    const buttons = dialog.locator("#dialog-buttons button");
    await expect.poll(() => buttons.count(), { timeout: WAIT }).toBe(9);
    expect(await dialog.getByRole("button", { name: "Reroll" }).count()).toBe(1);

    await dialog.getByRole("button", { name: "U1", exact: true }).click();
    // the child appears in the tree under the grid, and finishes with its own image
    const child = dialog.locator(`#tree li[data-action="UPSCALE"]`);
    await child.waitFor({ timeout: WAIT });
    await dialog
      .locator(`#tree li[data-action="UPSCALE"][data-status="SUCCESS"]`)
      .waitFor({ timeout: WAIT });
    await imageShown(child.locator("img").first());
    const children = (await api(stack, OWNERS.alice.key).task(rootId)).body.children;
    expect(children).toHaveLength(1);

    // open the upscale from the tree: its image and its own buttons
    await child.getByRole("button").first().click();
    await expect
      .poll(() => dialog.locator("#dialog-title").textContent(), { timeout: WAIT })
      .toMatch(/^Upscale · /);
    await imageShown(dialog.locator("#dialog-media img"));
    await dialog.getByRole("button", { name: "Upscale (Subtle)" }).waitFor({ timeout: WAIT });
    expect(await child.getByRole("button").first().getAttribute("aria-current")).toBe("true");
    await page.screenshot({ path: join(ARTIFACTS, "gallery.png") });
    expect(await accessibilityViolations(page)).toEqual([]);

    // Escape closes the dialog; the grid now shows the upscale as a task of its own
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    const upscaleCard = page.locator(`#grid li[data-id="${children[0]}"]`);
    await imageShown(upscaleCard.locator("img"));
    await page.screenshot({ path: join(ARTIFACTS, "gallery-grid.png"), fullPage: true });
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.close();
  });

  it("completes a task waiting in MODAL through its form (Custom Zoom)", async () => {
    // an upscale made through the API, as another client would
    const alice = api(stack, OWNERS.alice.key);
    const done = (id: string) =>
      eventually(
        () => alice.task(id),
        (r) => r.body.status === "SUCCESS",
        WAIT,
      );
    const grid = (await alice.imagine({ prompt: "a boat to zoom out from" })).body;
    const u2 = (await done(grid.id)).body.buttons.find((b: any) => b.label === "U2");
    const upscale = (
      await alice.call("POST", `/v1/tasks/${grid.id}/actions`, { customId: u2.customId })
    ).body;
    await done(upscale.id);

    const page = await newPage();
    await signIn(page, OWNERS.alice.key);
    await page.locator(`#grid li[data-id="${upscale.id}"]`).getByRole("button").click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Custom Zoom" }).click();
    const waiting = dialog.locator(`#tree li[data-action="CUSTOM_ZOOM"][data-status="MODAL"]`);
    await waiting.waitFor({ timeout: WAIT });
    await waiting.getByRole("button").first().click();
    const form = dialog.locator("#modal-form");
    await form.waitFor({ timeout: WAIT });
    const prompt = dialog.getByRole("textbox", { name: "Prompt" });
    expect(await prompt.inputValue()).toContain("a boat to zoom out from");
    // without --zoom: the contract's validation message
    await prompt.fill("a boat to zoom out from");
    await dialog.getByRole("button", { name: "Submit" }).click();
    await expect
      .poll(() => dialog.locator("#dialog-error").textContent(), { timeout: WAIT })
      .toMatch(/zoom/i);
    await page.screenshot({ path: join(ARTIFACTS, "gallery-modal.png") });
    await prompt.fill("a boat to zoom out from --zoom 1.5");
    await dialog.getByRole("button", { name: "Submit" }).click();
    await dialog
      .locator(`#tree li[data-action="CUSTOM_ZOOM"][data-status="SUCCESS"]`)
      .waitFor({ timeout: WAIT });
    await imageShown(dialog.locator("#dialog-media img"));
    expect(await form.isHidden()).toBe(true);
  });

  it("shows a failed task's failReason and an upstream refusal, and filters by status", async () => {
    const page = await newPage();
    await signIn(page, OWNERS.alice.key);
    await page.locator("#workspace").waitFor({ timeout: WAIT });

    await imagine(page, "a storm that sinks the boat --sim-fail");
    const failed = page
      .locator(`#grid li[data-status="FAILURE"]`)
      .filter({ hasText: "a storm that sinks the boat" });
    await failed.waitFor({ timeout: WAIT });
    const id = (await failed.getAttribute("data-id")) as string;
    const task = (await api(stack, OWNERS.alice.key).task(id)).body;
    expect(task.failReason).toBeTruthy();
    expect(await failed.textContent()).toContain(`Failed: ${task.failReason}`);
    await failed.getByRole("button").click();
    await expect
      .poll(() => page.locator("#dialog-fail").textContent(), { timeout: WAIT })
      .toBe(`This task failed: ${task.failReason}`);
    await page.keyboard.press("Escape");

    // refused at submit: the contract's 422 message, and the recorded FAILURE task in the grid
    await imagine(page, "a banned boat --sim-banned");
    await expect
      .poll(() => page.locator("#imagine-error").textContent(), { timeout: WAIT })
      .toMatch(/^The upstream refused the job: /);
    await card(page, "a banned boat").waitFor({ timeout: WAIT });

    // an empty prompt: the contract's validation message with its field
    await imagine(page, "   ");
    await expect
      .poll(() => page.locator("#imagine-error").textContent(), { timeout: WAIT })
      .toBe("The request does not fit the schema. (prompt: prompt must not be empty)");

    const statuses = () =>
      page.locator("#grid li").evaluateAll((items) => items.map((li) => li.dataset.status));
    await page.getByLabel("Status").selectOption("FAILURE");
    await expect
      .poll(async () => new Set(await statuses()), { timeout: WAIT })
      .toEqual(new Set(["FAILURE"]));
    expect((await statuses()).length).toBeGreaterThanOrEqual(2);
    await page.getByLabel("Status").selectOption("SUCCESS");
    await expect
      .poll(async () => new Set(await statuses()), { timeout: WAIT })
      .toEqual(new Set(["SUCCESS"]));
    await page.getByLabel("Status").selectOption("CANCEL");
    await expect
      .poll(() => page.locator("#list-status").textContent(), { timeout: WAIT })
      .toBe("No tasks with status “Cancelled”.");
    await page.getByLabel("Status").selectOption("");
    await expect
      .poll(async () => new Set(await statuses()), { timeout: WAIT })
      .toEqual(new Set(["FAILURE", "SUCCESS"]));
    await page.screenshot({ path: join(ARTIFACTS, "gallery-failures.png"), fullPage: true });
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.close();
  });

  it("cancels an unfinished task with its Cancel button, and shows why", async () => {
    const alice = api(stack, OWNERS.alice.key);
    const done = (id: string) =>
      eventually(
        () => alice.task(id),
        (r) => r.body.status === "SUCCESS",
        WAIT,
      );
    const click = async (task: any, label: string) =>
      (
        await alice.call("POST", `/v1/tasks/${task.id}/actions`, {
          customId: task.buttons.find((b: any) => b.label === label).customId,
        })
      ).body;
    const grid = (await done((await alice.imagine({ prompt: "a boat to give up on" })).body.id))
      .body;
    const upscale = (await done((await click(grid, "U1")).id)).body;
    const waiting = await click(upscale, "Custom Zoom");
    expect(waiting.status).toBe("MODAL");

    const page = await newPage();
    await signIn(page, OWNERS.alice.key);
    await page.locator(`#grid li[data-id="${waiting.id}"]`).getByRole("button").click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Cancel task" }).click();
    await expect
      .poll(() => dialog.locator("#dialog-fail").textContent(), { timeout: WAIT })
      .toBe("This task was cancelled: cancelled by its owner while it waited for its modal");
    expect(await dialog.getByRole("button", { name: "Cancel task" }).isHidden()).toBe(true);
    expect((await alice.task(waiting.id)).body.status).toBe("CANCEL");
  });

  it("shows task data as text: a prompt full of HTML runs nothing", async () => {
    const page = await newPage();
    await signIn(page, OWNERS.alice.key);
    await page.locator("#workspace").waitFor({ timeout: WAIT });
    const prompt = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> boat`;
    await imagine(page, prompt);
    const item = card(page, "boat").filter({ hasText: "<img src=x" });
    await item.waitFor({ timeout: WAIT });
    expect(await item.locator(".prompt").textContent()).toBe(prompt);
    await item.getByRole("button").click();
    await expect.poll(() => page.locator("#dialog-prompt").textContent()).toBe(prompt);
    expect(await inPage(page, "window.__pwned")).toBeUndefined();
    expect(await page.locator('img[src="x"], script:not([src])').count()).toBe(0);
    await page.keyboard.press("Escape");
    await page.close();
  });

  it("works by keyboard alone: sign in, submit, open a task, close it", async () => {
    const page = await newPage();
    await page.keyboard.press("Tab"); // the skip link first
    expect(await inPage(page, "document.activeElement?.textContent")).toBe("Skip to content");
    await page.getByLabel("API key").focus();
    await page.keyboard.type(OWNERS.alice.key);
    await page.keyboard.press("Enter");
    await page.locator("#workspace").waitFor({ timeout: WAIT });
    // after signing in, focus is in the prompt; Ctrl+Enter submits
    await expect.poll(() => inPage(page, "document.activeElement?.id")).toBe("prompt");
    await page.keyboard.type("a boat steered by keyboard");
    await page.keyboard.press("Control+Enter");
    const item = card(page, "a boat steered by keyboard");
    await page
      .locator(`#grid li[data-status="SUCCESS"]`)
      .filter({ hasText: "a boat steered by keyboard" })
      .waitFor({ timeout: WAIT });
    await item.getByRole("button").focus();
    await page.keyboard.press("Enter");
    await page.getByRole("dialog").waitFor({ timeout: WAIT });
    // focus moved into the dialog; Escape closes it and gives focus back to the card
    expect(await inPage(page, 'document.activeElement?.closest("dialog") !== null')).toBe(true);
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "hidden" });
    await expect
      .poll(() => inPage(page, 'document.activeElement?.closest("li")?.dataset.id'))
      .toBe(await item.getAttribute("data-id"));
    // status changes are announced in the polite live region
    expect(await page.locator("#announcer").getAttribute("aria-live")).toBe("polite");
    await page.close();
  });

  it("fits a phone: no sideways scrolling at 390 and 360 px, and a remembered key", async () => {
    const page = await newPage({ width: 390, height: 844 });
    await signIn(page, OWNERS.alice.key, true);
    await page.locator("#workspace").waitFor({ timeout: WAIT });
    expect(await storedKey(page, "localStorage")).toBe(OWNERS.alice.key);
    const first = page.locator(`#grid li[data-status="SUCCESS"]`).first();
    await imageShown(first.locator("img"));
    await noHorizontalScroll(page);
    // two columns of thumbnails side by side
    const boxes = await page
      .locator("#grid li")
      .evaluateAll((items) => items.slice(0, 2).map((li) => li.getBoundingClientRect().top));
    expect(boxes[0]).toBe(boxes[1]);
    await page.screenshot({ path: join(ARTIFACTS, "gallery-phone.png") });

    await first.getByRole("button").click();
    const dialog = page.getByRole("dialog");
    await imageShown(dialog.locator("#dialog-media img"));
    await noHorizontalScroll(page);
    await page.screenshot({ path: join(ARTIFACTS, "gallery-phone-task.png") });
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.keyboard.press("Escape");

    await page.setViewportSize({ width: 360, height: 740 });
    await noHorizontalScroll(page);
    // the dark scheme keeps its contrast too
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: join(ARTIFACTS, "gallery-phone-dark.png") });
    expect(await accessibilityViolations(page)).toEqual([]);

    // the remembered key signs a new tab in by itself
    const again = await newPage({ width: 360, height: 740 });
    await again.locator("#workspace").waitFor({ timeout: WAIT });
    await again.close();
    await page.getByRole("button", { name: "Sign out" }).click();
    expect(await storedKey(page, "localStorage")).toBeNull();
    await page.close();
  });

  it("says so when the server cannot be reached", async () => {
    const page = await newPage();
    await signIn(page, OWNERS.alice.key);
    await page.locator("#workspace").waitFor({ timeout: WAIT });
    await stack.stop();
    stackStopped = true;
    await imagine(page, "a boat nobody will paint");
    const sentence = `Cannot reach the paperboat server at ${stack.url}/. Check that it is running (npm start) and that this computer is online, then try again.`;
    await expect
      .poll(() => page.locator("#imagine-error").textContent(), { timeout: WAIT })
      .toBe(sentence);
    await expect
      .poll(() => page.locator("#banner").textContent(), { timeout: WAIT })
      .toMatch(/^Lost the connection: cannot reach the paperboat server/);
    await page.screenshot({ path: join(ARTIFACTS, "gallery-unreachable.png") });
    await page.close();
  });

  it("logged no script error and no CSP or Trusted Types violation", () => {
    expect(pageProblems).toEqual([]);
  });
});

import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStateToken } from "../../functions/core/state-token.ts";
import { api, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * Requests built to hurt, over HTTP against the whole local stack: signatures with junk
 * appended, bodies nested deep enough to blow a parser's stack, a forged Host header, and the
 * API reference's page headers.
 */

const CALLBACK_SECRET = "a-callback-secret-for-the-hostile-tests";
let stack: TestStack;
let alice: ReturnType<typeof api>;

beforeAll(async () => {
  stack = await startTestStack({ callbackSecret: CALLBACK_SECRET });
  alice = api(stack, OWNERS.alice.key);
});
afterAll(() => stack?.stop());

/** A finished task of alice's with durable copies. */
async function copiedTask() {
  const submitted = await alice.imagine({ prompt: "a paper boat" });
  expect(submitted.status).toBe(202);
  await stack.simulator?.idle();
  await stack.copyImagesOnce();
  const task = (await alice.task(submitted.body.id)).body;
  expect(task.imagesStatus).toBe("done");
  return task as { id: string; images: { name: string; url: string }[] };
}

describe("signatures compare in canonical form", () => {
  it.each(["!!", "=", "%00", "A"])(
    "a state token with %s appended is a 401, and changes nothing",
    async (junk) => {
      const submitted = await alice.imagine({ prompt: "junk state --sim-drop-hooks" });
      const token = createStateToken(CALLBACK_SECRET, submitted.body.id);
      const response = await fetch(`${stack.url}/hooks/midjourney`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          id: "forged",
          status: "FAILURE",
          failReason: "forged",
          state: `${token}${decodeURIComponent(junk)}`,
        }),
      });
      expect(response.status).toBe(401);
      expect((await alice.task(submitted.body.id)).body.status).not.toBe("FAILURE");
    },
  );

  it("a state token whose last character differs only in its spare bits is a 401", async () => {
    const submitted = await alice.imagine({ prompt: "spare bits --sim-drop-hooks" });
    const token = createStateToken(CALLBACK_SECRET, submitted.body.id);
    // 32 bytes are 43 base64url characters: the last one carries 2 spare bits
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(token.at(-1) ?? "A");
    const twin = `${token.slice(0, -1)}${alphabet[last ^ 1]}`;
    const response = await fetch(`${stack.url}/hooks/midjourney`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "forged", status: "FAILURE", state: twin }),
    });
    expect(response.status).toBe(401);
  });

  it("an image link whose signature has junk appended is a 404", async () => {
    const task = await copiedTask();
    const link = new URL(task.images[0]?.url ?? "");
    expect((await fetch(link)).status).toBe(200);
    for (const junk of ["!!", "=", "."]) {
      const bad = new URL(link);
      bad.searchParams.set("sig", `${link.searchParams.get("sig")}${junk}`);
      expect((await fetch(bad)).status).toBe(404);
    }
  });
});

describe("deeply nested JSON", () => {
  /** Balanced, so it parses: what used to blow the stack was serializing it afterwards. */
  const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;

  it.each([
    ["POST", "/v1/imagine", `{"prompt":"x","metadata":{"a":${deep(10_000)}}}`],
    ["POST", "/v1/describe", `{"base64":"x","metadata":{"a":${deep(10_000)}}}`],
    [
      "POST",
      "/hooks/midjourney",
      `{"id":"1","status":"SUCCESS","properties":{"a":${deep(10_000)}}}`,
    ],
    ["POST", "/v1/webhook-secret/rotate", `{"gracePeriodSeconds":${deep(400)}}`],
  ])("%s %s answers 400 invalid_json, not 500", async (method, path, body) => {
    const answer = await alice.call(method, path, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("invalid_json");
  });

  it("a body nested 64 deep is parsed as usual", async () => {
    const metadata = JSON.parse(`${'{"a":'.repeat(63)}1${"}".repeat(63)}`);
    const answer = await alice.imagine({ prompt: "deep but fine", metadata });
    expect(answer.status).toBe(202);
  });
});

describe("signed links", () => {
  it("are built on PUBLIC_URL, never on the request's Host header", async () => {
    const task = await copiedTask();
    const url = new URL(`${stack.url}/v1/tasks/${task.id}`);
    const body = await new Promise<string>((ok, fail) => {
      const req = request(
        url,
        { headers: { host: "evil.example:4444", authorization: `Bearer ${OWNERS.alice.key}` } },
        (res) => {
          let text = "";
          res.on("data", (chunk) => {
            text += chunk;
          });
          res.on("end", () => ok(text));
        },
      );
      req.on("error", fail);
      req.end();
    });
    const read = JSON.parse(body) as { images: { url: string }[] };
    expect(read.images.length).toBeGreaterThan(0);
    for (const image of read.images)
      expect(image.url.startsWith(`${stack.url}/images/`)).toBe(true);
  });
});

describe("the API reference's page", () => {
  it("has the gallery's CSP, frame and nosniff headers", async () => {
    const page = await fetch(`${stack.url}/docs`);
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy") ?? "";
    for (const rule of ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"]) {
      expect(csp).toContain(rule);
    }
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    for (const path of ["/docs/swagger-ui.css", "/openapi.json"]) {
      expect((await fetch(`${stack.url}${path}`)).headers.get("x-content-type-options")).toBe(
        "nosniff",
      );
    }
  });
});

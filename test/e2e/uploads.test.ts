import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

const PNG_1x1 =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const bytesOf = (uri: string) => Buffer.from(uri.slice(uri.indexOf(",") + 1), "base64");

let stack: TestStack;
let alice: ReturnType<typeof api>;
beforeAll(async () => {
  stack = await startTestStack();
  alice = api(stack, OWNERS.alice.key);
});
afterAll(() => stack.stop());

describe("POST /v1/uploads", () => {
  it("keeps the image and answers a link that opens without a key, until the owner's retention", async () => {
    const answer = await alice.call("POST", "/v1/uploads", { image: PNG_1x1 });
    expect(answer.status).toBe(201);
    expect(answer.body.url.startsWith(`${stack.url}/uploads/`)).toBe(true);
    const days = (Date.parse(answer.body.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);
    const file = await fetch(answer.body.url);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await file.arrayBuffer()).equals(bytesOf(PNG_1x1))).toBe(true);
  });

  it("an upload used in a later imagine prompt reaches the upstream, which can fetch its bytes", async () => {
    const { body: upload } = await alice.call("POST", "/v1/uploads", { image: PNG_1x1 });
    const answer = await alice.imagine({ prompt: `a paper boat --sref ${upload.url}` });
    expect(answer.status).toBe(202);
    const done = await eventually(
      () => alice.task(answer.body.id),
      (r) => r.body?.status === "SUCCESS",
    );
    const job = stack.simulator?.tasks().find((t) => t.id === done.body.upstreamTaskId);
    expect(job?.prompt).toContain(upload.url);
    // what the upstream would do with it: a plain GET, no API key
    const url = /--sref (\S+)/.exec(job?.prompt ?? "")?.[1] ?? "";
    const file = await fetch(url);
    expect(Buffer.from(await file.arrayBuffer()).equals(bytesOf(PNG_1x1))).toBe(true);
  });

  it.each([
    ["no image", {}],
    ["an https URL (uploads take the bytes)", { image: "https://example.org/a.png" }],
    [
      "a data URI whose bytes are not an image",
      { image: "data:image/png;base64,aGVsbG8gd29ybGQ=" },
    ],
    [
      "a RIFF file that is not WebP",
      { image: `data:image/webp;base64,${Buffer.from("RIFF\0\0\0\0WAVEfmt ").toString("base64")}` },
    ],
    ["an unknown field", { image: PNG_1x1, name: "boat.png" }],
  ])("refuses %s with 400", async (_name, body) => {
    const answer = await alice.call("POST", "/v1/uploads", body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("validation_failed");
  });

  it("refuses an image over the limit with 413 payload_too_large", async () => {
    const big = `data:image/png;base64,${Buffer.concat([bytesOf(PNG_1x1), Buffer.alloc(4 * 1024 * 1024)]).toString("base64")}`;
    const answer = await alice.call("POST", "/v1/uploads", { image: big });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe("payload_too_large");
  });

  it("needs the owner's key", async () => {
    const answer = await api(stack, "not-a-key").call("POST", "/v1/uploads", { image: PNG_1x1 });
    expect(answer.status).toBe(401);
  });

  it("a link that was never answered, or whose expiry was edited, is 404", async () => {
    const { body: upload } = await alice.call("POST", "/v1/uploads", { image: PNG_1x1 });
    const name = upload.url.split("/").pop() as string;
    const [expires, random, ext] = name.split(".");
    const edited = `${Number(expires) + 86_400}.${random}.${ext}`;
    const guessed = `${expires}.${"A".repeat(22)}.${ext}`;
    for (const file of [edited, guessed, "..%2Fetc%2Fpasswd", `1.${random}.${ext}`]) {
      expect((await fetch(`${stack.url}/uploads/${file}`)).status).toBe(404);
    }
  });
});

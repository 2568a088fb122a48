import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageCopyError } from "../../functions/core/images.ts";
import {
  createImageSource,
  type ImageSourceOptions,
  type Resolver,
  sniffContentType,
} from "../../functions/images/source.ts";

/**
 * The image downloader's guards over real HTTP on loopback. Hosts under `.test` resolve
 * through a resolver the test gives; a source refused by the address guard is never connected
 * to (the servers count every request), so nothing here sends traffic beyond 127.0.0.0/8.
 */

const PNG_BYTES = PNG.sync.write(new PNG({ width: 2, height: 2 }));

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(host: string, handler: Handler) {
  const requests: { path: string; host: string | undefined }[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ path: req.url ?? "", host: req.headers.host });
    handler(req, res);
  });
  await new Promise<void>((ok) => server.listen(0, host, ok));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${host}:${port}`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

let main: Awaited<ReturnType<typeof listen>>;
let other: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  main = await listen("127.0.0.1", (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/ok.png") {
      res.writeHead(200, { "content-type": "image/png" }).end(PNG_BYTES);
    } else if (url.pathname === "/octets") {
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(PNG_BYTES);
    } else if (url.pathname === "/redirect") {
      res.writeHead(302, { location: url.searchParams.get("to") ?? "/ok.png" }).end();
    } else if (url.pathname === "/loop") {
      res.writeHead(301, { location: "/loop" }).end();
    } else {
      res.writeHead(404).end();
    }
  });
  // a second loopback address: the "private" one when a test narrows the policy to it
  other = await listen("127.0.0.2", (_req, res) => {
    res.writeHead(200, { "content-type": "image/png" }).end(PNG_BYTES);
  });
});
afterAll(async () => {
  await main?.close();
  await other?.close();
});

const guarded = (extra: Partial<ImageSourceOptions> = {}) =>
  createImageSource({ maxBytes: 1024 * 1024, timeoutMs: 2000, allowPrivate: false, ...extra });

const table = (entries: Record<string, string[]>): Resolver => {
  return async (hostname) => {
    const addresses = entries[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {});
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
};

async function failure(promise: Promise<unknown>): Promise<ImageCopyError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageCopyError);
  return error as ImageCopyError;
}

describe("with private sources allowed (the local stack)", () => {
  it("downloads an image from loopback and names its type from its bytes", async () => {
    const file = await guarded({ allowPrivate: true }).fetch(`${main.url}/ok.png`, "image");
    expect(file.contentType).toBe("image/png");
    expect(Buffer.from(file.bytes).equals(PNG_BYTES)).toBe(true);
  });

  it("accepts a file declared application/octet-stream when its bytes are an image", async () => {
    const file = await guarded({ allowPrivate: true }).fetch(`${main.url}/octets`, "image");
    expect(file.contentType).toBe("image/png");
  });

  it("follows a redirect, and refuses an image where a video is expected", async () => {
    const source = guarded({ allowPrivate: true });
    expect((await source.fetch(`${main.url}/redirect`, "image")).contentType).toBe("image/png");
    const error = await failure(source.fetch(`${main.url}/ok.png`, "video"));
    expect(error.reason).toBe("not_an_image: the source sent image/png, not a video");
  });

  it("stops a redirect loop", async () => {
    const error = await failure(guarded({ allowPrivate: true }).fetch(`${main.url}/loop`, "image"));
    expect(error.reason).toBe("too_many_redirects: more than 3 redirects");
  });
});

describe("the address guard (AWS: ALLOW_PRIVATE_IMAGE_SOURCES off)", () => {
  it.each([
    ["a loopback literal", () => `${main.url}/ok.png`, /resolves to 127\.0\.0\.1/],
    ["localhost", () => `http://localhost:${main.port}/ok.png`, /^blocked_address: localhost/],
    ["IPv6 loopback", () => `http://[::1]:${main.port}/ok.png`, /resolves to ::1/],
    ["a decimal IPv4", () => `http://2130706433:${main.port}/ok.png`, /127\.0\.0\.1/],
    ["a hex IPv4", () => `http://0x7f.1:${main.port}/ok.png`, /127\.0\.0\.1/],
    ["an IPv4-mapped IPv6", () => `http://[::ffff:127.0.0.1]:${main.port}/`, /::ffff:7f00:1/],
  ])("refuses %s without connecting", async (_what, url, reason) => {
    const before = main.requests.length;
    const error = await failure(guarded().fetch(url(), "image"));
    expect(error.code).toBe("blocked_address");
    expect(error.reason).toMatch(reason);
    expect(main.requests.length).toBe(before);
  });

  it.each([
    ["the metadata endpoint", ["169.254.169.254"]],
    ["a private network", ["10.0.0.7"]],
    ["any private address among public ones", ["93.184.216.34", "192.168.0.10"]],
    ["an IPv4-mapped loopback", ["::ffff:127.0.0.1"]],
    ["a unique-local IPv6", ["fd00:ec2::254"]],
  ])("refuses a host that resolves to %s, checking every address", async (_what, addresses) => {
    const resolve = table({ "cdn.example.test": addresses });
    const error = await failure(
      guarded({ resolve }).fetch("http://cdn.example.test/grid.png", "image"),
    );
    expect(error.code).toBe("blocked_address");
    expect(error.reason).toContain("cdn.example.test resolves to");
  });

  it("checks every redirect hop again: a public first hop cannot lead to a private address", async () => {
    // 127.0.0.2 plays the private address, 127.0.0.1 the public one
    const source = guarded({ isBlocked: (a) => a === "127.0.0.2" });
    const before = main.requests.length;
    const error = await failure(
      source.fetch(`${main.url}/redirect?to=${encodeURIComponent(`${other.url}/x.png`)}`, "image"),
    );
    expect(error.reason).toMatch(/^blocked_address: 127\.0\.0\.2 resolves to 127\.0\.0\.2/);
    expect(main.requests.length).toBe(before + 1);
    expect(other.requests).toEqual([]);
  });

  it("connects to the address it checked, keeping the host name for the request", async () => {
    // the name resolves once, to an allowed address; the connection is pinned to it
    const resolve = table({ "images.example.test": ["127.0.0.1"] });
    const source = guarded({ resolve, isBlocked: (a) => a === "127.0.0.2" });
    const file = await source.fetch(`http://images.example.test:${main.port}/ok.png`, "image");
    expect(file.contentType).toBe("image/png");
    expect(main.requests.at(-1)).toEqual({
      path: "/ok.png",
      host: `images.example.test:${main.port}`,
    });
  });

  it("answers an unknown host as unreachable", async () => {
    const error = await failure(
      guarded({ resolve: table({}) }).fetch("http://nowhere.test/x.png", "image"),
    );
    expect(error.reason).toMatch(/^unreachable: cannot resolve nowhere\.test/);
  });
});

describe("URLs that are never fetched", () => {
  it.each([
    ["file:///etc/passwd", /^bad_url: file: URLs are not fetched/],
    ["ftp://example.org/a.png", /^bad_url: ftp: URLs are not fetched/],
    ["http://user:secret@127.0.0.1/a.png", /^bad_url: URLs with credentials are not fetched/],
    ["not a url", /^bad_url: not a URL/],
  ])("%s", async (url, reason) => {
    const error = await failure(guarded({ allowPrivate: true }).fetch(url, "image"));
    expect(error.reason).toMatch(reason);
  });
});

describe("sniffContentType", () => {
  it.each([
    [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "image/png"],
    [[0xff, 0xd8, 0xff, 0xe0], "image/jpeg"],
    [[...Buffer.from("GIF89a")], "image/gif"],
    [[...Buffer.from("RIFF"), 0, 0, 0, 0, ...Buffer.from("WEBPVP8 ")], "image/webp"],
    [[0, 0, 0, 24, ...Buffer.from("ftypisom")], "video/mp4"],
    [[0x1a, 0x45, 0xdf, 0xa3], "video/webm"],
    [[...Buffer.from("<html>")], null],
    [[], null],
  ])("%j → %s", (bytes, type) => {
    expect(sniffContentType(new Uint8Array(bytes))).toBe(type);
  });
});

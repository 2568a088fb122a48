import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPrivateAddress } from "../../functions/images/address-policy.ts";
import type { Resolver } from "../../functions/images/source.ts";
import {
  createWebhookSender,
  parseRetryAfter,
  type WebhookSenderOptions,
} from "../../functions/webhooks/sender.ts";
import { webhookHeaders } from "../../functions/webhooks/signing.ts";

/**
 * One delivery attempt over real HTTP(S) on loopback. Hosts under `.test` resolve through a
 * resolver the test gives; every server records each request it gets, so a receiver the
 * guards refuse is shown never to be contacted. The https servers use a self-signed
 * certificate for hook.example.test and *.example.test (valid 2000-2100), trusted through the
 * sender's `ca` option, so certificate checks stay on.
 */

const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgB3x7hnC99xYlhhgx
ifexzu3SbH/06MqHmWFOvLQgE2GhRANCAARfDeQ4RXmlXK2n3BsKUf9KEw0uPmzE
JWR1D52hNi01hKYHWPEeV0nlGUTbuxnKk86E90Rg8JTK9/nsjyvsM5jh
-----END PRIVATE KEY-----
`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBrjCCAVOgAwIBAgIBATAKBggqhkjOPQQDAjAcMRowGAYDVQQDDBFob29rLmV4
YW1wbGUudGVzdDAgFw0wMDAxMDEwMDAwMDBaGA8yMTAwMDEwMTAwMDAwMFowHDEa
MBgGA1UEAwwRaG9vay5leGFtcGxlLnRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMB
BwNCAARfDeQ4RXmlXK2n3BsKUf9KEw0uPmzEJWR1D52hNi01hKYHWPEeV0nlGUTb
uxnKk86E90Rg8JTK9/nsjyvsM5jho4GDMIGAMCwGA1UdEQQlMCOCEWhvb2suZXhh
bXBsZS50ZXN0gg4qLmV4YW1wbGUudGVzdDAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB
/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQU7VSshg8op4Iy
9hTix26sb/xXDokwCgYIKoZIzj0EAwIDSQAwRgIhAPPtbTz/2TNTiorwzil8iUpM
A5Pkm6ZLS66HJen+THKkAiEAktrTrocE1s10sewqkIFH3I2DrTWZUrS/MZiQttjT
4MQ=
-----END CERTIFICATE-----
`;

interface Received {
  method: string | undefined;
  path: string;
  host: string | undefined;
  servername: string | undefined;
  headers: IncomingMessage["headers"];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(host: string, tls: boolean, handler: Handler) {
  const requests: Received[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      requests.push({
        method: req.method,
        path: req.url ?? "",
        host: req.headers.host,
        servername: (req.socket as Partial<TLSSocket>).servername || undefined,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      handler(req, res);
    });
  };
  const server: Server = tls
    ? createTlsServer({ key: TEST_KEY, cert: TEST_CERT }, onRequest)
    : createServer(onRequest);
  await new Promise<void>((ok) => server.listen(0, host, ok));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${tls ? "https" : "http"}://${host}:${port}`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

const ENDLESS_CHUNK = Buffer.alloc(16 * 1024, "x");
/** Dripping answers whose connection the sender closed. */
let dripsCut = 0;

const routes: Record<string, Handler> = {
  "/ok": (_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("thanks"),
  "/empty": (_req, res) => res.writeHead(204).end(),
  "/fail": (_req, res) => res.writeHead(500).end("internal error"),
  "/gone": (_req, res) => res.writeHead(410).end("unsubscribed"),
  "/busy": (_req, res) => res.writeHead(429, { "retry-after": "120" }).end(),
  "/busy-until": (_req, res) => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    res.writeHead(429, { "retry-after": at }).end();
  },
  "/slow": () => {
    // never answers
  },
  "/endless": (_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    const timer = setInterval(() => res.write(ENDLESS_CHUNK), 5);
    res.on("close", () => clearInterval(timer));
  },
  "/drip": (req, res) => {
    // the status and headers at once, then one byte every 50 ms, never ending
    const status = Number(new URL(req.url ?? "/", "http://x").searchParams.get("status") ?? 200);
    res.writeHead(status, { "content-type": "text/plain" });
    const timer = setInterval(() => res.write("."), 50);
    res.on("close", () => {
      clearInterval(timer);
      dripsCut++;
    });
  },
  "/huge": (_req, res) => res.writeHead(200).end(Buffer.alloc(8 * 1024 * 1024, "y")),
  "/accents": (_req, res) => res.writeHead(200).end(`a${"é".repeat(600)}`),
};

let plain: Awaited<ReturnType<typeof listen>>;
let target: Awaited<ReturnType<typeof listen>>;
let secure: Awaited<ReturnType<typeof listen>>;
let secureOther: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  const handler: Handler = (req, res) => {
    const route = routes[new URL(req.url ?? "/", "http://x").pathname];
    if (route) route(req, res);
    else if (req.url?.startsWith("/redirect")) {
      res.writeHead(302, { location: `${target.url}/ok` }).end();
    } else res.writeHead(404).end();
  };
  plain = await listen("127.0.0.1", false, handler);
  target = await listen("127.0.0.1", false, handler);
  secure = await listen("127.0.0.1", true, handler);
  // a second loopback address: the "private" one when a test narrows the policy to it
  secureOther = await listen("127.0.0.2", true, handler);
});
afterAll(async () => {
  await Promise.all([plain, target, secure, secureOther].map((s) => s?.close()));
});

const local = (extra: Partial<WebhookSenderOptions> = {}) =>
  createWebhookSender({ allowPrivate: true, timeoutMs: 5000, ...extra });

/** The AWS policy, except that 127.0.0.1 counts as a public address (it stands in for one). */
const aws = (resolve: Resolver, extra: Partial<WebhookSenderOptions> = {}) =>
  createWebhookSender({
    allowPrivate: false,
    timeoutMs: 5000,
    ca: TEST_CERT,
    resolve,
    isBlocked: (a) => a !== "127.0.0.1" && isPrivateAddress(a),
    ...extra,
  });

const table = (entries: Record<string, string[]>): Resolver => {
  return async (hostname) => {
    const addresses = entries[hostname];
    if (!addresses) throw new Error(`getaddrinfo ENOTFOUND ${hostname}`);
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
};

const BODY = JSON.stringify({ type: "task.succeeded", data: { taskId: "t_1" } });

function post(url: string, body = BODY) {
  return { url, body, headers: { "content-type": "application/json" } };
}

describe("the receiver's answer", () => {
  it("2xx is a delivery, with the start of the body kept", async () => {
    const result = await local().send(post(`${plain.url}/ok`));
    expect(result).toMatchObject({
      ok: true,
      statusCode: 200,
      responseBody: "thanks",
      error: null,
      retryAfterSeconds: null,
      gone: false,
    });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(plain.requests.at(-1)).toMatchObject({ method: "POST", path: "/ok", body: BODY });
  });

  it("an empty body is null", async () => {
    expect(await local().send(post(`${plain.url}/empty`))).toMatchObject({
      ok: true,
      statusCode: 204,
      responseBody: null,
    });
  });

  it("500 is a failed attempt", async () => {
    expect(await local().send(post(`${plain.url}/fail`))).toMatchObject({
      ok: false,
      statusCode: 500,
      responseBody: "internal error",
      error: "http_status: the receiver answered 500",
      gone: false,
    });
  });

  it("410 means the receiver is gone", async () => {
    expect(await local().send(post(`${plain.url}/gone`))).toMatchObject({
      ok: false,
      statusCode: 410,
      gone: true,
      responseBody: "unsubscribed",
    });
  });

  it("429 with Retry-After in seconds", async () => {
    expect(await local().send(post(`${plain.url}/busy`))).toMatchObject({
      ok: false,
      statusCode: 429,
      retryAfterSeconds: 120,
    });
  });

  it("429 with Retry-After as an HTTP date", async () => {
    const result = await local().send(post(`${plain.url}/busy-until`));
    expect(result.statusCode).toBe(429);
    // the date has whole seconds: 119 or 120 seconds ahead, a little less on a slow run
    expect(result.retryAfterSeconds).toBeGreaterThanOrEqual(110);
    expect(result.retryAfterSeconds).toBeLessThanOrEqual(120);
  });

  it("a redirect is a failed attempt, and is not followed", async () => {
    const before = target.requests.length;
    expect(await local().send(post(`${plain.url}/redirect`))).toMatchObject({
      ok: false,
      statusCode: 302,
      error: "redirect: the receiver answered 302 (redirects are not followed)",
    });
    expect(target.requests.length).toBe(before);
  });

  it("keeps only the first 1024 bytes of an endless body, and returns without waiting", async () => {
    const result = await local({ timeoutMs: 5000 }).send(post(`${plain.url}/endless`));
    expect(result).toMatchObject({ ok: true, statusCode: 200, error: null });
    expect(result.responseBody).toBe("x".repeat(1024));
    expect(result.latencyMs).toBeLessThan(5000);
  });

  it("cuts off a body that drips after its status: the status is the answer", async () => {
    const before = dripsCut;
    // the whole-attempt deadline is a minute: only the body's own limit can end this
    const result = await local({ timeoutMs: 60_000, bodyTimeoutMs: 300 }).send(
      post(`${plain.url}/drip`),
    );
    expect(result).toMatchObject({ ok: true, statusCode: 200, error: null });
    // what dripped in before the cut, far short of the 1 KB cap
    expect(result.responseBody).toMatch(/^\.+$/);
    expect(result.responseBody?.length ?? 0).toBeLessThan(1024);
    // and the sender closed the connection rather than waiting for the end (the receiver sees
    // the close a moment later)
    while (dripsCut === before) await new Promise((r) => setTimeout(r, 10));
    expect(dripsCut).toBe(before + 1);
  });

  it("records the status of a dripping 500, cut off the same way", async () => {
    const result = await local({ timeoutMs: 60_000, bodyTimeoutMs: 100 }).send(
      post(`${plain.url}/drip?status=500`),
    );
    expect(result).toMatchObject({ ok: false, statusCode: 500 });
  });

  it("keeps only the first bytes of a huge body", async () => {
    const result = await local().send(post(`${plain.url}/huge`));
    expect(result.responseBody).toBe("y".repeat(1024));
  });

  it.each([
    [1024, 1 + 2 * 511],
    [10, 1 + 2 * 4],
  ])("cuts UTF-8 at %i bytes on a character boundary", async (maxResponseBytes, bytes) => {
    const result = await local({ maxResponseBytes }).send(post(`${plain.url}/accents`));
    expect(Buffer.byteLength(result.responseBody ?? "")).toBe(bytes);
    expect(result.responseBody).toBe(`a${"é".repeat((bytes - 1) / 2)}`);
  });
});

describe("no answer", () => {
  it("a receiver slower than the deadline is a timeout", async () => {
    const result = await local({ timeoutMs: 300 }).send(post(`${plain.url}/slow`));
    expect(result).toMatchObject({
      ok: false,
      statusCode: null,
      responseBody: null,
      error: "timeout: no answer within 300 ms",
    });
    expect(result.latencyMs).toBeLessThan(3000);
  });

  it("a DNS lookup that never answers is a timeout too", async () => {
    const resolve: Resolver = () => new Promise(() => {});
    const result = await aws(resolve, { timeoutMs: 300 }).send(post("https://hook.example.test/"));
    expect(result.error).toBe("timeout: no answer within 300 ms");
  });

  it("a refused connection is unreachable", async () => {
    const closed = await listen("127.0.0.1", false, () => {});
    await closed.close();
    const result = await local().send(post(`${closed.url}/ok`));
    expect(result).toMatchObject({ ok: false, statusCode: null, gone: false });
    expect(result.error).toMatch(/^unreachable: ECONNREFUSED/);
  });

  it("a host that does not resolve is unreachable", async () => {
    const result = await aws(table({})).send(post("https://nowhere.example.test/"));
    expect(result.error).toMatch(/^unreachable: cannot resolve nowhere\.example\.test/);
  });
});

describe("the address guard (AWS)", () => {
  it.each([
    ["a private network", ["10.0.0.1"]],
    ["the metadata endpoint", ["169.254.169.254"]],
    ["an IPv4-mapped loopback", ["::ffff:127.0.0.1"]],
    ["the IPv6 metadata endpoint", ["fd00:ec2::254"]],
    ["a private address among public ones", ["127.0.0.1", "10.0.0.1"]],
  ])("refuses a host that resolves to %s without connecting", async (_what, addresses) => {
    const before = secure.requests.length;
    const resolve = table({ "hook.example.test": addresses });
    const result = await aws(resolve).send(post(`https://hook.example.test:${secure.port}/ok`));
    expect(result).toMatchObject({ ok: false, statusCode: null });
    expect(result.error).toMatch(/^blocked_address: hook\.example\.test resolves to /);
    expect(secure.requests.length).toBe(before);
  });

  it.each([
    ["http to a loopback address", () => `${plain.url}/ok`, /^bad_url: .*must use https/],
    ["http to a public name", () => "http://hook.example.test/ok", /^bad_url: .*must use https/],
    ["localhost", () => `https://localhost:${secure.port}/ok`, /^bad_url: .*localhost/],
    ["a loopback literal", () => `https://127.0.0.1:${secure.port}/ok`, /^bad_url: .*127\.0\.0\.1/],
  ])("refuses %s by URL, before resolving", async (_what, url, error) => {
    let calls = 0;
    const resolve: Resolver = async () => {
      calls++;
      return [{ address: "127.0.0.1", family: 4 }];
    };
    const before = plain.requests.length + secure.requests.length;
    const result = await aws(resolve).send(post(url()));
    expect(result.error).toMatch(error);
    expect(calls).toBe(0);
    expect(plain.requests.length + secure.requests.length).toBe(before);
  });

  it("connects to the address it checked, even if DNS answers differently a moment later", async () => {
    // the first answer is the "public" 127.0.0.1, every later one the "private" 127.0.0.2
    const answers: string[] = [];
    const resolve: Resolver = async () => {
      const address = answers.length === 0 ? "127.0.0.1" : "127.0.0.2";
      answers.push(address);
      return [{ address, family: 4 }];
    };
    const sender = aws(resolve, { isBlocked: (a) => a === "127.0.0.2" });
    const url = `https://hook.example.test:${secure.port}/ok`;
    const first = await sender.send(post(url));
    expect(first).toMatchObject({ ok: true, statusCode: 200 });
    expect(answers).toEqual(["127.0.0.1"]);
    expect(secure.requests.at(-1)).toMatchObject({ host: `hook.example.test:${secure.port}` });
    expect(secureOther.requests).toEqual([]);
    // the next attempt checks again, and refuses the new answer
    const second = await sender.send(post(url));
    expect(second.error).toMatch(/^blocked_address: hook\.example\.test resolves to 127\.0\.0\.2/);
    expect(answers).toEqual(["127.0.0.1", "127.0.0.2"]);
    expect(secureOther.requests).toEqual([]);
  });

  it("allows private receivers on the local stack", async () => {
    const resolve = table({ "hook.example.test": ["127.0.0.2"] });
    const result = await local({ resolve, ca: TEST_CERT }).send(
      post(`https://hook.example.test:${secureOther.port}/ok`),
    );
    expect(result).toMatchObject({ ok: true, statusCode: 200 });
  });
});

describe("https", () => {
  const resolve = table({ "hook.example.test": ["127.0.0.1"], "hook.other.test": ["127.0.0.1"] });

  it("names the URL's host in SNI and Host", async () => {
    const result = await aws(resolve).send(post(`https://hook.example.test:${secure.port}/ok`));
    expect(result.ok).toBe(true);
    expect(secure.requests.at(-1)).toMatchObject({
      servername: "hook.example.test",
      host: `hook.example.test:${secure.port}`,
    });
  });

  it("refuses a certificate for another name", async () => {
    const result = await aws(resolve).send(post(`https://hook.other.test:${secure.port}/ok`));
    expect(result).toMatchObject({ ok: false, statusCode: null });
    expect(result.error).toMatch(/^tls: ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it("refuses a certificate no trusted authority signed", async () => {
    const result = await aws(resolve, { ca: undefined }).send(
      post(`https://hook.example.test:${secure.port}/ok`),
    );
    expect(result).toMatchObject({ ok: false, statusCode: null });
    expect(result.error).toMatch(/^tls: DEPTH_ZERO_SELF_SIGNED_CERT/);
  });
});

describe("a signed delivery", () => {
  it("arrives with the exact body and headers, and its signature verifies", async () => {
    const secret = `whsec_${randomBytes(32).toString("base64")}`;
    const body = JSON.stringify({ type: "task.succeeded", data: { prompt: "é ✓ \u2028" } });
    const timestampSeconds = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders({ msgId: "msg_1", timestampSeconds, body, secrets: [secret] });
    const resolve = table({ "hook.example.test": ["127.0.0.1"] });
    const url = `https://hook.example.test:${secure.port}/ok?token=abc`;
    expect((await aws(resolve).send({ url, headers, body })).ok).toBe(true);

    const received = secure.requests.at(-1);
    expect(received).toMatchObject({ method: "POST", path: "/ok?token=abc", body });
    expect(received?.headers).toMatchObject({
      "webhook-id": "msg_1",
      "webhook-timestamp": String(timestampSeconds),
      "webhook-signature": headers["webhook-signature"],
      "content-type": "application/json",
      "user-agent": "paperboat-webhooks",
      "content-length": String(Buffer.byteLength(body)),
    });
    const verified = new Webhook(secret).verify(
      received?.body ?? "",
      received?.headers as Record<string, string>,
    );
    expect(verified).toEqual(JSON.parse(body));
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:26:00 GMT");
  it.each([
    ["120", 120],
    [" 0 ", 0],
    ["Wed, 21 Oct 2015 07:28:00 GMT", 120],
    ["Wed, 21 Oct 2015 07:26:00 GMT", 0],
    ["Wed, 21 Oct 2015 07:00:00 GMT", 0],
    ["-5", null],
    ["1.5", null],
    ["soon", null],
    ["", null],
    [undefined, null],
  ])("%j → %s", (value, seconds) => {
    expect(parseRetryAfter(value, now)).toBe(seconds);
  });
});

import { describe, expect, it } from "vitest";
import {
  checkWebhookHost,
  checkWebhookUrl,
  type Resolver,
} from "../../functions/webhooks/url-policy.ts";

const AWS = { allowPrivate: false };
const LOCAL = { allowPrivate: true };

const table = (entries: Record<string, string[]>): Resolver => {
  return async (hostname) => {
    const addresses = entries[hostname];
    if (!addresses) throw new Error(`getaddrinfo ENOTFOUND ${hostname}`);
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
};

describe("checkWebhookUrl on AWS", () => {
  it.each([
    "https://hooks.example.com/paperboat",
    "https://hooks.example.com:8443/p?token=abc#x",
    "https://93.184.216.34/hook",
    "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
  ])("accepts %s", (url) => {
    expect(checkWebhookUrl(url, AWS)).toBeNull();
  });

  it.each([
    ["not a url", /not a URL/],
    [`https://example.com/${"a".repeat(2000)}`, /longer than 2000 characters/],
    ["http://hooks.example.com/", /must use https/],
    ["http://127.0.0.1:3000/", /must use https/],
    ["ftp://hooks.example.com/", /must use https/],
    ["javascript:alert(1)", /must use https/],
    ["https://user:pass@hooks.example.com/", /credentials/],
    ["https://token@hooks.example.com/", /credentials/],
    ["https://localhost/", /localhost/],
    ["https://localhost./", /localhost/],
    ["https://api.localhost/", /localhost/],
    ["https://127.0.0.1/", /127\.0\.0\.1 is a private, loopback or link-local address/],
    ["https://2130706433/", /127\.0\.0\.1/],
    ["https://0x7f.1/", /127\.0\.0\.1/],
    ["https://10.1.2.3/", /10\.1\.2\.3/],
    ["https://169.254.169.254/latest/meta-data/", /169\.254\.169\.254/],
    ["https://[::1]/", /::1/],
    ["https://[::ffff:127.0.0.1]/", /::ffff:7f00:1/],
    ["https://[fd00:ec2::254]/", /fd00:ec2::254/],
    ["https://[fe80::1]/", /fe80::1/],
    // IPv6 only in global unicast: the IPv4-translated and local-use NAT64 forms too
    ["https://[::ffff:0:7f00:1]/", /::ffff:0:7f00:1/],
    ["https://[64:ff9b:1::a9fe:a9fe]/", /64:ff9b:1::a9fe:a9fe/],
    ["https://[64:ff9b::808:808]/", /64:ff9b::808:808/],
    ["https://[2002:a00:1::1]/", /2002:a00:1::1/],
  ])("refuses %s", (url, reason) => {
    expect(checkWebhookUrl(url, AWS)).toMatch(reason);
  });
});

describe("checkWebhookUrl on the local stack", () => {
  it.each([
    "http://localhost:3000/hook",
    "http://127.0.0.1:3000/hook",
    "http://127.1.2.3/hook",
    "http://[::1]:3000/hook",
    "https://localhost/hook",
    "https://10.0.0.5/hook",
    "https://hooks.example.com/hook",
  ])("accepts %s", (url) => {
    expect(checkWebhookUrl(url, LOCAL)).toBeNull();
  });

  it.each([
    ["http://hooks.example.com/", /must use https/],
    ["http://10.0.0.5/", /must use https/],
    ["http://api.localhost/", /must use https/],
    ["http://user:pw@127.0.0.1/", /credentials/],
  ])("still refuses %s", (url, reason) => {
    expect(checkWebhookUrl(url, LOCAL)).toMatch(reason);
  });
});

describe("checkWebhookHost", () => {
  it("accepts a host whose addresses are all public", async () => {
    const resolve = table({ "hooks.example.test": ["93.184.216.34", "2606:2800:220:1::1"] });
    expect(await checkWebhookHost("https://hooks.example.test/", { ...AWS, resolve })).toBeNull();
  });

  it.each([
    ["the metadata endpoint", ["169.254.169.254"]],
    ["a private network", ["10.0.0.1"]],
    ["one private address among public ones", ["93.184.216.34", "192.168.1.10"]],
    ["an IPv4-mapped loopback", ["::ffff:127.0.0.1"]],
    ["the IPv6 metadata endpoint", ["fd00:ec2::254"]],
    ["an IPv4-translated address", ["::ffff:0:a9fe:a9fe"]],
    ["a local-use NAT64 address", ["64:ff9b:1::a00:1"]],
  ])("refuses a host that resolves to %s", async (_what, addresses) => {
    const resolve = table({ "hooks.example.test": addresses });
    expect(await checkWebhookHost("https://hooks.example.test/x", { ...AWS, resolve })).toMatch(
      /^hooks\.example\.test resolves to .*, a private, loopback or link-local address$/,
    );
  });

  it("accepts a host that does not resolve: every delivery checks again", async () => {
    const resolve = table({});
    expect(await checkWebhookHost("https://nowhere.test/", { ...AWS, resolve })).toBeNull();
  });

  it("accepts a host whose resolution does not answer in time", async () => {
    const resolve: Resolver = () => new Promise(() => {});
    const options = { ...AWS, resolve, timeoutMs: 50 };
    expect(await checkWebhookHost("https://slow.test/", options)).toBeNull();
  });

  it("uses the narrowed policy it is given", async () => {
    const resolve = table({ "hooks.example.test": ["93.184.216.34"] });
    const isBlocked = (a: string) => a === "93.184.216.34";
    expect(
      await checkWebhookHost("https://hooks.example.test/", { ...AWS, resolve, isBlocked }),
    ).toMatch(/resolves to 93\.184\.216\.34/);
  });

  it("refuses what checkWebhookUrl refuses, without resolving", async () => {
    let calls = 0;
    const resolve: Resolver = async () => {
      calls++;
      return [{ address: "93.184.216.34", family: 4 }];
    };
    expect(await checkWebhookHost("http://hooks.example.test/", { ...AWS, resolve })).toMatch(
      /must use https/,
    );
    expect(calls).toBe(0);
  });

  it("resolves nothing on the local stack", async () => {
    let calls = 0;
    const resolve: Resolver = async () => {
      calls++;
      return [{ address: "10.0.0.1", family: 4 }];
    };
    expect(await checkWebhookHost("https://hooks.example.test/", { ...LOCAL, resolve })).toBeNull();
    expect(calls).toBe(0);
  });
});

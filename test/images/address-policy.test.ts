import { describe, expect, it } from "vitest";
import { isPrivateAddress } from "../../functions/images/address-policy.ts";

/** The addresses an image source may not resolve to on AWS (the SSRF guard's policy). */
describe("isPrivateAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.1.2.3", "RFC 1918"],
    ["172.16.0.1", "RFC 1918"],
    ["172.31.255.255", "RFC 1918"],
    ["192.168.1.1", "RFC 1918"],
    ["169.254.169.254", "link-local: the EC2/Lambda metadata endpoint"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["0.0.0.0", "this network"],
    ["198.18.0.1", "benchmarking"],
    ["192.0.2.10", "documentation"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["::1", "IPv6 loopback"],
    ["::", "IPv6 unspecified"],
    ["fd00:ec2::254", "unique-local: the metadata endpoint over IPv6"],
    ["fc00::1", "unique-local"],
    ["fe80::1", "IPv6 link-local"],
    ["fe80::1%eth0", "IPv6 link-local with a zone"],
    ["ff02::1", "IPv6 multicast"],
    ["::ffff:127.0.0.1", "IPv4-mapped loopback"],
    ["::ffff:7f00:1", "IPv4-mapped loopback, hex form"],
    ["::ffff:169.254.169.254", "IPv4-mapped metadata endpoint"],
    ["::ffff:10.0.0.1", "IPv4-mapped private"],
    ["64:ff9b::a9fe:a9fe", "NAT64 of 169.254.169.254"],
    ["2002:7f00:1::", "6to4 (can wrap any IPv4)"],
    ["2001:0:4136:e378::", "Teredo"],
    ["2001:db8::1", "IPv6 documentation"],
    ["localhost", "not an IP address: never connected to"],
    ["", "empty"],
  ])("refuses %s (%s)", (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each([
    ["93.184.216.34"],
    ["8.8.8.8"],
    ["172.32.0.1"],
    ["100.128.0.1"],
    ["162.159.128.233"],
    ["2606:4700:4700::1111"],
    ["2a00:1450:4001:82b::200e"],
    ["::ffff:8.8.8.8"],
    ["64:ff9b::808:808"],
  ])("allows the public address %s", (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });
});

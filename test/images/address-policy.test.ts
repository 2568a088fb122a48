import { describe, expect, it } from "vitest";
import { isPrivateAddress } from "../../functions/images/address-policy.ts";

/**
 * The addresses an image source or a webhook receiver may not resolve to on AWS (the SSRF
 * guard's policy): IPv4 as listed, IPv6 only global unicast without its special ranges.
 */
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
    // every form that wraps an IPv4 address is refused, whatever the address inside
    ["::ffff:8.8.8.8", "IPv4-mapped, even of a public address"],
    ["::ffff:0:7f00:1", "IPv4-translated (::ffff:0:0/96) loopback"],
    ["::ffff:0:808:808", "IPv4-translated (::ffff:0:0/96)"],
    ["::ffff:0:0", "IPv4-translated, all zeros"],
    ["64:ff9b::808:808", "NAT64 well-known prefix, even of a public address"],
    ["64:ff9b:1::a9fe:a9fe", "local-use NAT64 (64:ff9b:1::/48) of the metadata endpoint"],
    ["64:ff9b:1:ffff::1", "local-use NAT64, any form"],
    ["::7f00:1", "IPv4-compatible (::/96) loopback"],
    ["::808:808", "IPv4-compatible (::/96)"],
    ["2002:808:808::1", "6to4 of a public address"],
    ["2001::1", "Teredo"],
    ["2001:2::1", "benchmarking (IETF protocol assignments)"],
    ["3fff::1", "IPv6 documentation (3fff::/20)"],
    ["5f00::1", "segment-routing SIDs"],
    ["100::1", "discard-only"],
    ["4000::1", "outside global unicast"],
    ["fec0::1", "site-local"],
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
    ["2001:4860:4860::8888"],
    ["2400:cb00::1"],
    ["2c0f:fb50::1"],
  ])("allows the public address %s", (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });
});

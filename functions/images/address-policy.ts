import { BlockList, isIP } from "node:net";

/**
 * Addresses an image source or a webhook receiver may never resolve to on AWS: anything that
 * is not the public internet. For IPv4: loopback, private (RFC 1918), carrier-grade NAT,
 * link-local (which holds the instance metadata endpoint 169.254.169.254), "this network",
 * benchmarking, documentation, multicast and reserved ranges.
 */
const BLOCKED_V4 = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  BLOCKED_V4.addSubnet(network, prefix, "ipv4");
}

/**
 * IPv6 is allowed only in global unicast (2000::/3). That alone refuses loopback, unspecified,
 * unique-local (fd00:ec2::254 is the metadata endpoint over IPv6), link-local, multicast, and
 * every form that wraps an IPv4 address: mapped (::ffff:0:0/96), translated (::ffff:0:0:0/96),
 * compatible (::/96) and NAT64 (64:ff9b::/96, 64:ff9b:1::/48).
 */
const GLOBAL_V6 = new BlockList();
GLOBAL_V6.addSubnet("2000::", 3, "ipv6");

/**
 * Within global unicast, the special ranges: IETF protocol assignments (2001::/23, Teredo's
 * 2001::/32 among them), documentation (2001:db8::/32, 3fff::/20), 6to4 (2002::/16, which can
 * wrap any IPv4 address) and segment-routing identifiers (5f00::/16).
 */
const SPECIAL_V6 = new BlockList();
for (const [network, prefix] of [
  ["2001::", 23],
  ["2001:db8::", 32],
  ["2002::", 16],
  ["3fff::", 20],
  ["5f00::", 16],
] as const) {
  SPECIAL_V6.addSubnet(network, prefix, "ipv6");
}

/** Whether `address` (an IP literal) is one an image source or webhook may not use on AWS. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED_V4.check(address, "ipv4");
  if (family === 6) {
    const bare = address.replace(/%.*$/, "");
    if (isIP(bare) !== 6) return true;
    return !GLOBAL_V6.check(bare, "ipv6") || SPECIAL_V6.check(bare, "ipv6");
  }
  // not an IP address at all: never connect to it
  return true;
}

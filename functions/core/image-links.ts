import { createHmac, timingSafeEqual } from "node:crypto";

function mac(secret: string, key: string, expires: number): Buffer {
  return createHmac("sha256", secret).update(`paperboat:image:v1\n${key}\n${expires}`).digest();
}

/**
 * The signature of a link to `key` valid until `expires` (epoch seconds), base64url
 * HMAC-SHA256. Whoever holds such a link can read that one image until then, nothing else.
 */
export function signImageLink(secret: string, key: string, expires: number): string {
  return mac(secret, key, expires).toString("base64url");
}

/** Whether `sig` signs `key` until `expires`, and that moment is still ahead (constant time). */
export function verifyImageLink(
  secret: string,
  key: string,
  query: { expires?: string; sig?: string },
  now: Date,
): boolean {
  if (!query.expires || !query.sig || !/^\d{1,12}$/.test(query.expires)) return false;
  const expires = Number(query.expires);
  if (expires * 1000 <= now.getTime()) return false;
  // compared in canonical form, as text: decoding would ignore appended junk and spare bits
  const expected = Buffer.from(mac(secret, key, expires).toString("base64url"));
  const given = Buffer.from(query.sig);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

import { createHmac } from "node:crypto";

/**
 * Standard Webhooks signing (docs/webhooks.md): a receiver checks
 * `webhook-signature` against `${webhook-id}.${webhook-timestamp}.${body}` with the secret we
 * gave it, so it can tell our deliveries from forgeries and replays.
 */

const SECRET_PREFIX = "whsec_";

/** The HMAC key inside a `whsec_<base64>` secret. */
function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, "base64");
  if (key.byteLength === 0) throw new Error("a webhook secret must hold a base64 key");
  return key;
}

/** `v1,<base64 HMAC-SHA256>` of one message under one secret. */
export function signPayload(
  secret: string,
  msgId: string,
  timestampSeconds: number,
  body: string,
): string {
  if (!Number.isSafeInteger(timestampSeconds)) {
    throw new RangeError("a webhook timestamp is a whole number of seconds");
  }
  const signed = `${msgId}.${timestampSeconds}.${body}`;
  return `v1,${createHmac("sha256", secretKey(secret)).update(signed).digest("base64")}`;
}

/**
 * The `webhook-signature` value: one signature per secret, space-separated. During a rotation
 * both the new and the old secret sign (new first), so receivers holding either keep verifying.
 */
export function signatureHeader(
  secrets: readonly string[],
  msgId: string,
  timestampSeconds: number,
  body: string,
): string {
  if (secrets.length === 0) throw new Error("a webhook needs at least one secret");
  return secrets.map((s) => signPayload(s, msgId, timestampSeconds, body)).join(" ");
}

/** Every header of a delivery; the body must be sent byte for byte as signed. */
export function webhookHeaders(message: {
  msgId: string;
  timestampSeconds: number;
  body: string;
  secrets: readonly string[];
}): Record<string, string> {
  const { msgId, timestampSeconds, body, secrets } = message;
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": signatureHeader(secrets, msgId, timestampSeconds, body),
    "content-type": "application/json",
    "user-agent": "paperboat-webhooks",
  };
}

/**
 * An owner's signing secret, derived from the master secret instead of stored, so a dump of the
 * table leaks none. Bumping `version` rotates it; the owner and version are newline-separated
 * and the version is a number, so no two (owner, version) pairs sign with the same key.
 */
export function deriveWebhookSecret(master: string, owner: string, version: number): string {
  if (master.length === 0) throw new Error("the webhook master secret is empty");
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new RangeError("a webhook secret version is a whole number");
  }
  const key = createHmac("sha256", master)
    .update(`paperboat webhook secret\n${owner}\n${version}`)
    .digest("base64");
  return `${SECRET_PREFIX}${key}`;
}

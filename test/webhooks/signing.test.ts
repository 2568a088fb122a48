import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  deriveWebhookSecret,
  signatureHeader,
  signPayload,
  webhookHeaders,
} from "../../functions/webhooks/signing.ts";

/**
 * Signatures are checked with the reference `standardwebhooks` library, as a receiver would;
 * it refuses timestamps more than 5 minutes off, so messages are stamped with the current time.
 */

const newSecret = () => `whsec_${randomBytes(24).toString("base64")}`;
const now = () => Math.floor(Date.now() / 1000);
const BODY = JSON.stringify({ type: "task.succeeded", data: { taskId: "t_1", note: "é ✓" } });

function message(secrets: string[], body = BODY) {
  return { msgId: "msg_01J9", timestampSeconds: now(), body, secrets };
}

describe("webhookHeaders", () => {
  it("carries the Standard Webhooks headers, the content type and our user agent", () => {
    const msg = message([newSecret()]);
    const headers = webhookHeaders(msg);
    expect(headers).toEqual({
      "webhook-id": "msg_01J9",
      "webhook-timestamp": String(msg.timestampSeconds),
      "webhook-signature": expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
      "content-type": "application/json",
      "user-agent": "paperboat-webhooks",
    });
  });

  it("verifies with the reference library", () => {
    const secret = newSecret();
    const headers = webhookHeaders(message([secret]));
    expect(new Webhook(secret).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it("during a rotation, verifies with the new secret and with the old one", () => {
    const [fresh, old] = [newSecret(), newSecret()];
    const headers = webhookHeaders(message([fresh, old]));
    const signatures = headers["webhook-signature"]?.split(" ") ?? [];
    expect(signatures).toHaveLength(2);
    expect(new Webhook(fresh).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    expect(new Webhook(old).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it("puts the new secret's signature first", () => {
    const [fresh, old] = [newSecret(), newSecret()];
    const msg = message([fresh, old]);
    expect(signatureHeader([fresh, old], msg.msgId, msg.timestampSeconds, BODY)).toBe(
      `${signPayload(fresh, msg.msgId, msg.timestampSeconds, BODY)} ${signPayload(old, msg.msgId, msg.timestampSeconds, BODY)}`,
    );
  });

  it("does not verify with another secret", () => {
    const headers = webhookHeaders(message([newSecret()]));
    expect(() => new Webhook(newSecret()).verify(BODY, headers)).toThrow(/No matching signature/);
  });

  it("does not verify a tampered body, id or timestamp", () => {
    const secret = newSecret();
    const msg = message([secret]);
    const headers = webhookHeaders(msg);
    const tampered = BODY.replace("t_1", "t_2");
    expect(() => new Webhook(secret).verify(tampered, headers)).toThrow(/No matching signature/);
    const otherId = { ...headers, "webhook-id": "msg_other" };
    expect(() => new Webhook(secret).verify(BODY, otherId)).toThrow(/No matching signature/);
    const otherTime = { ...headers, "webhook-timestamp": String(msg.timestampSeconds - 1) };
    expect(() => new Webhook(secret).verify(BODY, otherTime)).toThrow(/No matching signature/);
  });

  it("matches the reference library's own signature", () => {
    const secret = newSecret();
    const at = now();
    expect(signPayload(secret, "msg_1", at, BODY)).toBe(
      new Webhook(secret).sign("msg_1", new Date(at * 1000), BODY),
    );
  });

  it("refuses to sign without a secret or with a fractional timestamp", () => {
    expect(() => signatureHeader([], "msg_1", now(), BODY)).toThrow(/at least one secret/);
    expect(() => signPayload(newSecret(), "msg_1", 1.5, BODY)).toThrow(RangeError);
  });
});

describe("deriveWebhookSecret", () => {
  const master = randomBytes(32).toString("hex");

  it("is whsec_ and the base64 of 32 bytes", () => {
    const secret = deriveWebhookSecret(master, "alice", 1);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice("whsec_".length), "base64")).toHaveLength(32);
  });

  it("is the same every time for the same owner and version", () => {
    expect(deriveWebhookSecret(master, "alice", 1)).toBe(deriveWebhookSecret(master, "alice", 1));
  });

  it("differs per owner, per version and per master secret", () => {
    const secrets = [
      deriveWebhookSecret(master, "alice", 1),
      deriveWebhookSecret(master, "alice", 2),
      deriveWebhookSecret(master, "bob", 1),
      deriveWebhookSecret(master, "alice\n1", 1),
      deriveWebhookSecret(`${master}x`, "alice", 1),
    ];
    expect(new Set(secrets).size).toBe(secrets.length);
  });

  it("signs deliveries a receiver holding it can verify", () => {
    const secret = deriveWebhookSecret(master, "alice", 3);
    const headers = webhookHeaders(message([secret]));
    expect(new Webhook(secret).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it("refuses an empty master secret and a bad version", () => {
    expect(() => deriveWebhookSecret("", "alice", 1)).toThrow(/master secret/);
    expect(() => deriveWebhookSecret(master, "alice", -1)).toThrow(RangeError);
    expect(() => deriveWebhookSecret(master, "alice", 1.5)).toThrow(RangeError);
  });
});

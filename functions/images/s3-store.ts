import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, HttpRequest, Provider, SourceData } from "@smithy/types";
import { linkWindow } from "../core/images.ts";
import type { Clock, ImageStore, StoredObject } from "../core/ports.ts";

export interface S3ImageStoreOptions {
  /** IMAGE_BUCKET: the linked bucket's name. */
  bucket: string;
  /** IMAGE_S3_ENDPOINT: an S3-compatible server instead of AWS (tests); path-style, local keys. */
  endpoint?: string;
  /** The bucket's region; on Lambda, the function's (AWS_REGION). */
  region?: string;
  /** How long a presigned URL stays valid, at most (IMAGE_URL_TTL_SECONDS). */
  urlTtlSeconds: number;
  clock: Clock;
  /** The credentials to sign with; by default the SDK's chain (on Lambda: the function's role). */
  credentials?: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
}

/** SHA-256 and its HMAC from node:crypto, in the shape the SigV4 signer asks for. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret ? createHmac("sha256", bytesOf(secret)) : createHash("sha256");
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function bytesOf(data: SourceData): Uint8Array | string {
  if (typeof data === "string") return data;
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** A key's path segments escaped as S3 expects them (RFC 3986, the slashes kept). */
const escapeKey = (key: string) =>
  key
    .split("/")
    .map((part) =>
      encodeURIComponent(part).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join("/");

/**
 * The S3 REST calls the image store makes (PutObject, GetObject, a presigned GetObject link),
 * signed with SigV4 by the signer and credential chain the DynamoDB client already bundles,
 * sent with fetch: no S3 client in the bundle (its size is in bench/RESULTS.md). Against an
 * endpoint (an S3-compatible server in tests) path-style with the local key pair, as the
 * DynamoDB client does for DynamoDB Local; on AWS the bucket's virtual-hosted address.
 */
export function createS3Requests(options: {
  bucket: string;
  endpoint?: string;
  region?: string;
  credentials?: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
}) {
  const region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
  const base = new URL(
    options.endpoint
      ? `${options.endpoint.replace(/\/+$/, "")}/${options.bucket}/`
      : `https://${options.bucket}.s3.${region}.amazonaws.com/`,
  );
  const signer = new SignatureV4({
    service: "s3",
    region,
    sha256: Sha256,
    // S3 signs the path as sent (escaped once), unlike other services
    uriEscapePath: false,
    credentials:
      options.credentials ??
      (options.endpoint ? { accessKeyId: "local", secretAccessKey: "local" } : defaultProvider()),
  });
  /** The request for one key, with the headers that must be signed. */
  const requestFor = (
    method: string,
    key: string,
    headers: Record<string, string> = {},
    body?: Uint8Array,
  ): HttpRequest => ({
    method,
    protocol: base.protocol,
    hostname: base.hostname,
    port: base.port ? Number(base.port) : undefined,
    path: `${base.pathname}${escapeKey(key)}`,
    query: {},
    headers: { host: base.host, ...headers },
    body,
  });
  const urlOf = (request: HttpRequest) => {
    const url = new URL(`${base.protocol}//${base.host}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (typeof value === "string") url.searchParams.append(name, value);
    }
    return url;
  };
  const send = async (request: HttpRequest) => {
    const signed = await signer.sign(request);
    // fetch sets Host and Content-Length itself, to the values signed
    const { host: _host, "content-length": _length, ...headers } = signed.headers;
    return fetch(urlOf(signed), {
      method: signed.method,
      headers,
      body: signed.body as Uint8Array | undefined,
    });
  };
  return {
    send,
    requestFor,
    /** A presigned GET of `key`, valid `expiresIn` seconds from `signingDate`. */
    async presignGet(key: string, signingDate: Date, expiresIn: number): Promise<string> {
      const request = requestFor("GET", key, { "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD" });
      // what the SDK's presigner sends too: the same link for the same key, time and signer
      request.query = { "x-id": "GetObject" };
      const signed = await signer.presign(request, { signingDate, expiresIn });
      return urlOf(signed).toString();
    },
  };
}

async function failure(response: Response, what: string): Promise<Error> {
  const text = await response.text().catch(() => "");
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? "";
  return new Error(`S3 ${what}: HTTP ${response.status}${code ? ` ${code}` : ""}`);
}

/**
 * The AWS image store: one private bucket. Reads are S3 presigned GET URLs, signed when a task
 * is read with the function's own credentials (they need s3:GetObject on the bucket, which the
 * link grants), so images never pass through Lambda or API Gateway (whose 6 MB and 10 MB
 * limits a 4× upscale can exceed).
 */
export function createS3ImageStore(options: S3ImageStoreOptions): ImageStore {
  const s3 = createS3Requests(options);
  return {
    async put(key, bytes, contentType) {
      const response = await s3.send(
        s3.requestFor(
          "PUT",
          key,
          {
            "content-type": contentType,
            "content-length": String(bytes.byteLength),
            // a key's bytes never change (copies are idempotent): caches may keep them
            "cache-control": "private, max-age=31536000, immutable",
          },
          bytes,
        ),
      );
      if (!response.ok) throw await failure(response, "PutObject");
      await response.body?.cancel();
    },

    async get(key): Promise<StoredObject | null> {
      const response = await s3.send(s3.requestFor("GET", key));
      if (response.status === 404) {
        await response.body?.cancel();
        return null;
      }
      if (!response.ok) throw await failure(response, "GetObject");
      if (!response.body) return null;
      return {
        body: response.body,
        contentType: response.headers.get("content-type") ?? "application/octet-stream",
        bytes: Number(response.headers.get("content-length") ?? 0),
      };
    },

    async url(key) {
      // signed at the start of the window: the same URL for every read within it
      const { signedAt, expiresAt } = linkWindow(options.clock.now(), options.urlTtlSeconds);
      return s3.presignGet(
        key,
        signedAt,
        Math.round((expiresAt.getTime() - signedAt.getTime()) / 1000),
      );
    },
  };
}

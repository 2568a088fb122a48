import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  type UpdateItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { SignatureV4 } from "@smithy/signature-v4";
import type {
  AwsCredentialIdentity,
  ChecksumConstructor,
  HashConstructor,
  HttpRequest,
  Provider,
} from "@smithy/types";
import { StoreUnavailableError } from "../core/errors.ts";
import { isStoreUnavailable } from "./store-errors.ts";

type Item = Record<string, unknown>;

/** An UpdateItem as the DocumentClient takes it: plain values, marshalled on the way out. */
export type PlainUpdateItem = Omit<UpdateItemCommandInput, "Key" | "ExpressionAttributeValues"> & {
  Key: Item;
  ExpressionAttributeValues?: Item;
};

/** What the sender takes from the DynamoDB client: its resolved settings, not its pipeline. */
interface ClientConfig {
  region: Provider<string>;
  credentials: Provider<AwsCredentialIdentity>;
  maxAttempts: Provider<number>;
  sha256: ChecksumConstructor | HashConstructor;
  useFipsEndpoint: Provider<boolean>;
  useDualstackEndpoint: Provider<boolean>;
  endpoint?: Provider<{ protocol: string; hostname: string; port?: number; path: string }>;
  endpointProvider: (params: Record<string, unknown>) => { url: URL };
  requestHandler: {
    handle(request: HttpRequest): Promise<{
      response: { statusCode: number; body: AsyncIterable<Uint8Array | string> };
    }>;
  };
}

interface Target {
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  host: string;
}

const THROTTLING = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
]);

/**
 * The webhook's one write, sent without the SDK's command pipeline: the marshalled input as the
 * JSON body, signed (SigV4) with the client's own credentials, region and hash, sent through the
 * client's own HTTP handler (its connection pool and timeouts), to the client's endpoint. The
 * pipeline's ten middleware layers, its schema-driven serialiser and its per-call endpoint rules
 * cost ~200 µs of CPU per call, a third of a webhook's (bench/webhook-cpu.ts), for a request
 * this simple. The rest is kept: the client's attempts (throttling, 5xx and network failures are
 * retried with the SDK's backoff), a failed condition is the SDK's
 * ConditionalCheckFailedException, and a store still unavailable after the last attempt is a
 * StoreUnavailableError, as functions/store/store-errors.ts translates the client's.
 */
export function createUpdateItemSender(client: DynamoDBDocumentClient): UpdateItemSender {
  const config = client.config as unknown as Partial<ClientConfig>;
  if (!hasWhatItNeeds(config)) {
    // a client without the settings read below (another SDK version): its own pipeline, slower
    const viaSdk = async (input: PlainUpdateItem) => {
      const { Attributes } = await client.send(new UpdateCommand(input));
      return { Attributes };
    };
    return Object.assign(viaSdk, { direct: false });
  }
  return Object.assign(directSender(config), { direct: true });
}

/** Sends one UpdateItem; `direct`: without the SDK's pipeline (else through client.send). */
export type UpdateItemSender = ((input: PlainUpdateItem) => Promise<{ Attributes?: Item }>) & {
  direct: boolean;
};

/** Whether the client's resolved settings hold everything the direct sender reads. */
function hasWhatItNeeds(config: Partial<ClientConfig>): config is ClientConfig {
  return (
    typeof config.region === "function" &&
    typeof config.credentials === "function" &&
    typeof config.maxAttempts === "function" &&
    typeof config.sha256 === "function" &&
    typeof config.useFipsEndpoint === "function" &&
    typeof config.useDualstackEndpoint === "function" &&
    (config.endpoint === undefined || typeof config.endpoint === "function") &&
    typeof config.endpointProvider === "function" &&
    typeof config.requestHandler?.handle === "function"
  );
}

function directSender(config: ClientConfig) {
  let setup: Promise<{ target: Target; signer: SignatureV4; maxAttempts: number }> | undefined;
  const prepare = async () => {
    const region = await config.region();
    const target = await targetOf(config, region);
    const signer = new SignatureV4({
      credentials: config.credentials,
      region,
      service: "dynamodb",
      sha256: config.sha256,
    });
    return { target, signer, maxAttempts: Math.max(1, await config.maxAttempts()) };
  };

  return async ({ Key, ExpressionAttributeValues, ...rest }: PlainUpdateItem) => {
    setup ??= prepare().catch((error) => {
      setup = undefined;
      throw error;
    });
    const { target, signer, maxAttempts } = await setup;
    const body = JSON.stringify({
      ...rest,
      Key: marshall(Key),
      ...(ExpressionAttributeValues
        ? { ExpressionAttributeValues: marshall(ExpressionAttributeValues, MARSHALL) }
        : {}),
    });
    for (let attempt = 1; ; attempt++) {
      let error: Error;
      try {
        const request = await signer.sign({
          method: "POST",
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          path: target.path,
          query: {},
          headers: {
            host: target.host,
            "content-type": "application/x-amz-json-1.0",
            "content-length": String(Buffer.byteLength(body)),
            "x-amz-target": "DynamoDB_20120810.UpdateItem",
          },
          body,
        });
        const { response } = await config.requestHandler.handle(request);
        const text = await readText(response.body);
        if (response.statusCode === 200) {
          const { Attributes } = JSON.parse(text) as { Attributes?: Item };
          return { Attributes: Attributes ? unmarshall(Attributes as never) : undefined };
        }
        error = serviceError(response.statusCode, text);
        if (error instanceof ConditionalCheckFailedException) throw error;
      } catch (thrown) {
        if (thrown instanceof ConditionalCheckFailedException) throw thrown;
        error = thrown as Error;
      }
      if (!isStoreUnavailable(error)) throw error;
      if (attempt >= maxAttempts) throw new StoreUnavailableError({ cause: error });
      await new Promise((ok) => setTimeout(ok, backoffMs(error, attempt)));
    }
  };
}

const MARSHALL = { removeUndefinedValues: true };

/** The client's endpoint: the one it was given (DynamoDB Local), else its region's. */
async function targetOf(config: ClientConfig, region: string): Promise<Target> {
  if (config.endpoint) {
    const e = await config.endpoint();
    return { ...e, host: e.port ? `${e.hostname}:${e.port}` : e.hostname };
  }
  const { url } = config.endpointProvider({
    Region: region,
    UseFIPS: await config.useFipsEndpoint(),
    UseDualStack: await config.useDualstackEndpoint(),
    AccountIdEndpointMode: "disabled",
  });
  return {
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    host: url.host,
  };
}

async function readText(body: AsyncIterable<Uint8Array | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

/** DynamoDB's error answer (`{"__type": "<namespace>#<name>", "message": ...}`) as the SDK's. */
function serviceError(statusCode: number, text: string): Error {
  let parsed: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (a proxy's error page): the status says enough
  }
  const name =
    String(parsed.__type ?? "")
      .split("#")
      .pop() || `HTTP${statusCode}`;
  const message = String(parsed.message ?? parsed.Message ?? name);
  const $metadata = { httpStatusCode: statusCode };
  if (name === "ConditionalCheckFailedException") {
    return new ConditionalCheckFailedException({ message, $metadata });
  }
  return new DynamoDBServiceException({
    name,
    message,
    $metadata,
    $fault: statusCode >= 500 ? "server" : "client",
  });
}

/** The SDK's standard backoff: full jitter, 100 ms base (500 ms when throttled), doubling. */
function backoffMs(error: Error, attempt: number): number {
  const base = THROTTLING.has(error.name) ? 500 : 100;
  return Math.random() * Math.min(20_000, base * 2 ** (attempt - 1));
}

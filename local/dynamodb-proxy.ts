import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A fault the proxy answers instead of forwarding, as DynamoDB itself would answer it. */
export type StoreFault = {
  kind: "throttle" | "error500";
  /** Only these operations (e.g. "UpdateItem"); all when absent. */
  operations?: string[];
  /** The share of matching requests that fail (0..1), drawn from `random`; all when absent. */
  probability?: number;
  random?: () => number;
  /** Only the next `times` matching requests, then it forwards again; every one when absent. */
  times?: number;
};

export interface DynamoDbProxy {
  endpoint: string;
  /** Requests forwarded or failed, per DynamoDB operation (GetItem, UpdateItem, Query, ...). */
  counts(): Record<string, number>;
  /** Requests answered with the fault instead of forwarded, per operation. */
  faulted(): Record<string, number>;
  reset(): void;
  setFault(fault: StoreFault | null): void;
  stop(): Promise<void>;
}

const FAULT_ANSWERS = {
  throttle: {
    status: 400,
    body: {
      __type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
      message: "The level of configured provisioned throughput for the table was exceeded.",
    },
  },
  error500: {
    status: 500,
    body: {
      __type: "com.amazonaws.dynamodb.v20120810#InternalServerError",
      message: "Internal server error",
    },
  },
} as const;

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * An HTTP proxy in front of DynamoDB Local, for tests and benchmarks: it counts every request by
 * operation (the `X-Amz-Target` header), and can answer throttling or 5xx instead of forwarding,
 * so the callback's and reconciler's behaviour under store faults is tested over real HTTP.
 */
export async function startDynamoDbProxy(target: string): Promise<DynamoDbProxy> {
  const counts: Record<string, number> = {};
  const faulted: Record<string, number> = {};
  let fault: StoreFault | null = null;
  let faultsLeft = Number.POSITIVE_INFINITY;

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const operation =
      String(request.headers["x-amz-target"] ?? "unknown")
        .split(".")
        .pop() ?? "unknown";
    counts[operation] = (counts[operation] ?? 0) + 1;
    const body = await readBody(request);
    if (
      fault &&
      faultsLeft > 0 &&
      (!fault.operations || fault.operations.includes(operation)) &&
      (fault.probability === undefined || (fault.random ?? Math.random)() < fault.probability)
    ) {
      faultsLeft--;
      faulted[operation] = (faulted[operation] ?? 0) + 1;
      const answer = FAULT_ANSWERS[fault.kind];
      response.writeHead(answer.status, { "content-type": "application/x-amz-json-1.0" });
      response.end(JSON.stringify(answer.body));
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === "string" && !["host", "connection", "content-length"].includes(name))
        headers[name] = value;
    }
    try {
      const upstream = await fetch(`${target}${request.url ?? "/"}`, {
        method: request.method,
        headers,
        body: body.length > 0 ? body : undefined,
      });
      const payload = Buffer.from(await upstream.arrayBuffer());
      response.writeHead(upstream.status, {
        "content-type": upstream.headers.get("content-type") ?? "application/x-amz-json-1.0",
        "x-amzn-requestid": upstream.headers.get("x-amzn-requestid") ?? "proxy",
      });
      response.end(payload);
    } catch {
      response.writeHead(502).end();
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.writeHead(500).end());
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    counts: () => ({ ...counts }),
    faulted: () => ({ ...faulted }),
    reset: () => {
      for (const key of Object.keys(counts)) delete counts[key];
      for (const key of Object.keys(faulted)) delete faulted[key];
    },
    setFault: (next) => {
      fault = next;
      faultsLeft = next?.times ?? Number.POSITIVE_INFINITY;
    },
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

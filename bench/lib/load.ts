import { Agent, request } from "node:http";
import { percentile } from "./stats.ts";

export interface LoadRequest {
  method: "GET" | "POST";
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadResult {
  /** requests answered (any status) */
  completed: number;
  /** answers that were not 2xx, or connection errors */
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  /** how often each response body was seen, for the first 64 distinct bodies (sanity checks) */
  bodies: Record<string, number>;
  /** every answered request's latency, ms, in completion order */
  latencies: number[];
}

/**
 * A closed-loop load generator over loopback HTTP: `concurrency` workers each send one request,
 * wait for the answer, and send the next, until `maxRequests` were sent or `maxSeconds` passed,
 * whichever comes first. Keep-alive connections, one per worker. Only 127.0.0.1 targets.
 */
export async function runLoad(options: {
  url: string;
  concurrency: number;
  maxRequests: number;
  maxSeconds: number;
  /** the i-th request of the run */
  next: (i: number) => LoadRequest;
}): Promise<LoadResult> {
  const target = new URL(options.url);
  if (target.hostname !== "127.0.0.1")
    throw new Error(`load only goes to 127.0.0.1: ${options.url}`);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  const bodies: Record<string, number> = {};
  let sent = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.maxSeconds * 1000;

  const once = (req: LoadRequest) =>
    new Promise<{ status: number; body: string }>((ok, fail) => {
      const outgoing = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.path,
          agent,
          headers: {
            ...(req.body === undefined
              ? {}
              : {
                  "content-type": "application/json",
                  "content-length": Buffer.byteLength(req.body),
                }),
            ...req.headers,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () =>
            ok({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
          response.on("error", fail);
        },
      );
      outgoing.on("error", fail);
      outgoing.end(req.body);
    });

  const worker = async () => {
    while (sent < options.maxRequests && performance.now() < deadline) {
      const req = options.next(sent++);
      const t0 = performance.now();
      try {
        const answer = await once(req);
        latencies.push(performance.now() - t0);
        if (answer.status < 200 || answer.status >= 300) errors++;
        const key = `${answer.status} ${answer.body.slice(0, 60)}`;
        if (key in bodies || Object.keys(bodies).length < 64) bodies[key] = (bodies[key] ?? 0) + 1;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    completed: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    bodies,
    latencies,
  };
}

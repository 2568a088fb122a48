import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** How long one webhook POST may take before it counts as failed. */
export const WEBHOOK_TIMEOUT_MS = 5_000;

/**
 * POSTs a JSON body once: no retry, response body ignored, fresh connection (no keep-alive
 * socket outlives the simulator). Resolves true on a 2xx answer, false on anything else.
 */
export function postJson(url: string, body: string, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve(false);
      return;
    }
    const request =
      target.protocol === "https:"
        ? httpsRequest
        : target.protocol === "http:"
          ? httpRequest
          : undefined;
    if (!request || signal.aborted) {
      resolve(false);
      return;
    }
    const req = request(
      target,
      {
        method: "POST",
        agent: false,
        signal,
        timeout: WEBHOOK_TIMEOUT_MS,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          connection: "close",
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
        res.on("error", () => resolve(false));
      },
    );
    req.on("timeout", () => req.destroy(new Error("webhook timeout")));
    req.on("error", () => resolve(false));
    req.end(body);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

export interface Delivery {
  url: string;
  body: string;
  /** wait this long (from enqueue) before sending */
  delayMs: number;
}

export interface WebhookDispatcher {
  /** Queues a delivery behind the earlier ones of the same task: one task's webhooks keep their order. */
  enqueue(taskId: string, delivery: Delivery): void;
  /** deliveries queued or in flight */
  pending(): number;
  /** Resolves once every queued delivery has been sent or abandoned. */
  settled(): Promise<void>;
}

/**
 * Sends webhooks one task at a time in order, tasks in parallel. Aborting `signal` abandons
 * everything queued and cuts what is in flight.
 */
export function createWebhookDispatcher(deps: {
  signal: AbortSignal;
  onSent: (taskId: string, ok: boolean) => void;
  onIdle: () => void;
}): WebhookDispatcher {
  const chains = new Map<string, Promise<void>>();
  let pending = 0;

  async function deliver(taskId: string, delivery: Delivery, due: number): Promise<void> {
    await sleep(due - Date.now(), deps.signal);
    if (deps.signal.aborted) return;
    const ok = await postJson(delivery.url, delivery.body, deps.signal);
    if (!deps.signal.aborted) deps.onSent(taskId, ok);
  }

  return {
    enqueue(taskId, delivery) {
      pending++;
      const due = Date.now() + delivery.delayMs;
      const previous = chains.get(taskId) ?? Promise.resolve();
      const next = previous
        .then(() => deliver(taskId, delivery, due))
        .finally(() => {
          pending--;
          if (chains.get(taskId) === next) chains.delete(taskId);
          if (pending === 0) deps.onIdle();
        });
      chains.set(taskId, next);
    },
    pending: () => pending,
    async settled() {
      await Promise.allSettled([...chains.values()]);
    },
  };
}

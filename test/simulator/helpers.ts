import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";
import {
  type SimTask,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from "../../local/simulator/index.ts";

export const API_KEY = "sim-test-key";

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  body: SimTask;
}

export interface Receiver {
  /** the hook URL to hand the simulator */
  url: string;
  hooks: ReceivedHook[];
  /** what the receiver answers; 200 by default */
  status: number;
  close(): Promise<void>;
}

/** A throwaway webhook receiver on a free port that records every POST. */
export async function startReceiver(): Promise<Receiver> {
  const hooks: ReceivedHook[] = [];
  const receiver = { hooks, status: 200 } as Receiver;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      hooks.push({
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
      });
      res.statusCode = receiver.status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/midjourney`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

export interface Answer {
  status: number;
  contentType: string | null;
  text: string;
  json: any;
}

export interface Harness {
  sim: Simulator;
  rx: Receiver;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Answer>;
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
  fetchTask(id: string): Promise<SimTask>;
  /** the webhooks received for one task, in arrival order */
  hooksOf(id: string): SimTask[];
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get("content-type"), text, json };
}

/** A simulator plus a receiver, both stopped when the test ends. */
export async function startHarness(options: Partial<SimulatorOptions> = {}): Promise<Harness> {
  const sim = await startSimulator({
    apiKey: API_KEY,
    stepMs: 10,
    progressSteps: [0, 50],
    ...options,
  });
  const rx = await startReceiver();
  onTestFinished(async () => {
    await sim.stop();
    await rx.close();
  });
  // each host reads the key from its own header (local/simulator/profiles.ts)
  const auth: Record<string, string> =
    options.profile === "trueai"
      ? { authorization: API_KEY }
      : options.profile === "novicezk"
        ? { "mj-api-secret": API_KEY }
        : { authorization: `Bearer ${API_KEY}` };
  const harness: Harness = {
    sim,
    rx,
    async post(path, body, headers = auth) {
      const raw = typeof body === "string" ? body : JSON.stringify(body);
      return answer(
        await fetch(`${sim.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: raw,
        }),
      );
    },
    async get(path, headers = auth) {
      return answer(await fetch(`${sim.url}${path}`, { headers }));
    },
    async fetchTask(id) {
      const res = await harness.get(`/mj/task/${id}/fetch`);
      if (res.status !== 200) throw new Error(`fetch ${id}: HTTP ${res.status}`);
      return res.json;
    },
    hooksOf(id) {
      return rx.hooks.filter((h) => h.body.id === id).map((h) => h.body);
    },
  };
  return harness;
}

/** "STATUS:progress" for each task JSON, the compact form tests compare. */
export function steps(tasks: readonly SimTask[]): string[] {
  return tasks.map((t) => `${t.status}:${t.progress}`);
}

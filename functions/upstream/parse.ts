import type { ParsedUpstreamTask } from "../core/upstream-port.ts";
import { UpstreamTask } from "./schemas.ts";

/** A webhook body read as an upstream task (permissive, as every upstream answer is). */
export function parseUpstreamTask(body: unknown): ParsedUpstreamTask {
  const parsed = UpstreamTask.safeParse(body);
  if (parsed.success) return { ok: true, task: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({
      path: i.path.join(".") || "(body)",
      message: i.message,
    })),
  };
}

import type { Clock, Logger } from "./ports.ts";
import type { UpstreamHealth, UpstreamHealthStore } from "./upstream-port.ts";

export interface UpstreamHealthDeps {
  /** the configured upstreams' ids, in MJ_API_BASE_URL's order */
  upstreamIds: readonly string[];
  upstreamHealth: UpstreamHealthStore;
  clock: Clock;
  log: Logger;
}

/**
 * `GET /health`'s `upstreams`: each configured upstream with the last state a submit instance
 * recorded for it (up when none ever did). A recorded `down` whose `retryAt` has passed shows
 * as `probing` (the next submit tries it), a `busy` one as `up` again. Ids recorded for
 * upstreams no longer configured are left out. When the states cannot be read, each upstream
 * is `unknown`: health itself still answers.
 */
export async function upstreamHealthOf(deps: UpstreamHealthDeps): Promise<UpstreamHealth[]> {
  let recorded: Awaited<ReturnType<UpstreamHealthStore["list"]>> | null = null;
  try {
    recorded = await deps.upstreamHealth.list();
  } catch (error) {
    deps.log.warn("upstream states not read", { error: (error as Error).name });
  }
  const now = deps.clock.now().getTime();
  const byId = new Map((recorded ?? []).map((h) => [h.id, h]));
  return deps.upstreamIds.map((id, i) => {
    const position = i + 1;
    if (recorded === null) {
      return { id, position, state: "unknown", since: null, reason: null, retryAt: null };
    }
    const last = byId.get(id);
    if (!last || last.state === "up") {
      return { id, position, state: "up", since: last?.since ?? null, reason: null, retryAt: null };
    }
    const due = last.retryAt !== null && Date.parse(last.retryAt) <= now;
    if (last.state === "busy" && due) {
      return { id, position, state: "up", since: last.retryAt, reason: null, retryAt: null };
    }
    return { ...last, id, position, state: last.state === "down" && due ? "probing" : last.state };
  });
}

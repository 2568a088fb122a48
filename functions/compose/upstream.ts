import { type Config, upstreamSettingsOf } from "../config.ts";
import type { Logger } from "../core/ports.ts";
import type { UpstreamHealthStore } from "../core/upstream-port.ts";
import { systemClock } from "../deps.ts";
import { createUpstreamClient } from "../upstream/client.ts";
import { createFailoverUpstream, upstreamIds } from "../upstream/failover.ts";
import type { Overrides } from "./settings.ts";

/**
 * The upstream port of the functions that call it (submit, queue, reconcile, young-polls), over
 * every upstream the settings list (docs/upstreams.md "Several upstreams"): one client per base
 * URL behind the failover router. With several, each change of an upstream's state is recorded
 * for `GET /health` (`health`); with one there is nowhere to fail over to, and nothing is
 * recorded.
 */
export function upstreamFor(
  config: Pick<Config, "MJ_API_BASE_URL" | "MJ_API_KEY" | "UPSTREAM_TIMEOUT_MS"> &
    Partial<Pick<Config, "MJ_API_AUTH" | "MJ_API_KIND">>,
  overrides: Overrides,
  log: Logger,
  health?: UpstreamHealthStore,
) {
  const settings = upstreamSettingsOf(config);
  const ids = upstreamIds(settings.map((s) => s.baseUrl));
  return createFailoverUpstream(
    settings.map((upstream, i) => ({
      id: ids[i] as string,
      client: createUpstreamClient({
        baseUrl: upstream.baseUrl,
        apiKey: upstream.apiKey,
        auth: upstream.auth,
        kind: upstream.kind,
        timeoutMs: config.UPSTREAM_TIMEOUT_MS,
        fetch: overrides.fetch,
      }),
    })),
    {
      clock: overrides.clock ?? systemClock,
      log,
      // the failed attempts may take half an upstream timeout: one more still fits the function
      moveOnWithinMs: Math.ceil(config.UPSTREAM_TIMEOUT_MS / 2),
      onChange: settings.length > 1 && health ? (state) => health.record(state) : undefined,
      ...overrides.breaker,
    },
  );
}

import type { Config } from "../config.ts";
import { type ApiKeyStore, createAuthenticator } from "../core/api-keys.ts";
import type { Logger } from "../core/ports.ts";
import { systemClock } from "../deps.ts";
import type { Overrides } from "./settings.ts";

/**
 * Who a Bearer key belongs to: API_KEYS, then the table's keys, remembered for
 * KEY_CACHE_SECONDS by this container (functions/core/api-keys.ts).
 */
export function authenticatorFor(
  config: { API_KEYS: Config["API_KEYS"] },
  keys: ApiKeyStore,
  overrides: Overrides,
  log: Logger,
) {
  return createAuthenticator({
    bootstrap: config.API_KEYS,
    keys,
    clock: overrides.clock ?? systemClock,
    log,
  });
}

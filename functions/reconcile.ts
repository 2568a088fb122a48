import { composeReconciler, FUNCTION_SETTINGS } from "./compose.ts";
import { loadConfig } from "./config.ts";
import { readSettings } from "./platform.ts";

const run = composeReconciler(loadConfig(readSettings(), FUNCTION_SETTINGS.reconcile));

/** Lambda entry of the reconciler, invoked on a schedule; the event carries nothing we need. */
export const handler = async (
  _event: unknown,
  context?: { getRemainingTimeInMillis?: () => number },
) =>
  // leave room for the last page's upstream call and writes before Lambda's timeout
  run({ timeBudgetMs: Math.max(1000, (context?.getRemainingTimeInMillis?.() ?? 60_000) - 15_000) });

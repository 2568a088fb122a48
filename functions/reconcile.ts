import { composeReconciler, FUNCTION_SETTINGS } from "./compose.ts";
import { loadConfig } from "./config.ts";
import { readSettings } from "./platform.ts";

const run = composeReconciler(loadConfig(readSettings(), FUNCTION_SETTINGS.reconcile));

/** Lambda entry of the reconciler, invoked on a schedule; the event carries nothing we need. */
export const handler = async (_event: unknown) => run();

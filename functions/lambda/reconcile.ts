import { composeImageCopier } from "../compose/copier.ts";
import { composeReconciler } from "../compose/reconcile.ts";
import { RECONCILE_SETTINGS } from "../compose/settings.ts";
import { loadSettings } from "../config.ts";
import { createDocumentClient } from "../deps.ts";
import { readSettings } from "../platform.ts";
import { perInvocation } from "./invocation.ts";

const config = loadSettings(readSettings(), RECONCILE_SETTINGS);
// one DynamoDB client for both parts of a run: one connection pool, one client to start
const client = createDocumentClient({ endpoint: config.DYNAMODB_ENDPOINT });
const run = composeReconciler(config, { client });
const copyImages = composeImageCopier(config, { client });

/**
 * Lambda entry of the reconciler, invoked on a schedule; the event carries nothing we need.
 * Each run first reconciles unfinished tasks, then copies the images of finished ones.
 */
export const handler = perInvocation(
  async (
    _event: unknown,
    context?: { awsRequestId?: string; getRemainingTimeInMillis?: () => number },
  ) => {
    const remaining = () => context?.getRemainingTimeInMillis?.() ?? 60_000;
    // leave room for the last page's upstream call and writes before Lambda's timeout
    const report = await run({ timeBudgetMs: Math.max(1000, remaining() - 15_000) });
    // a copy started late may take a download timeout (and its processing) to finish
    const images = await copyImages({ timeBudgetMs: Math.max(0, remaining() - 25_000) });
    return { ...report, images };
  },
);

import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { StoreUnavailableError } from "../core/errors.ts";

const UNAVAILABLE = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TimeoutError",
]);

/** Throttling, 5xx and network failures: the store is unavailable, not our request wrong. */
export function isStoreUnavailable(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (UNAVAILABLE.has(e.name ?? "")) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500;
  // no HTTP answer at all: refused, reset, DNS, aborted
  return typeof e.code === "string" || e.name === "AbortError";
}

/**
 * Translates DynamoDB failures where they arise: once the SDK's own retries are spent,
 * throttling, 5xx and network errors become StoreUnavailableError (the API answers 503 and
 * nothing was written by the failed call). Condition failures and validation errors pass
 * through unchanged: the store turns the first into outcomes, the second is a bug.
 */
export function translateStoreErrors(client: DynamoDBDocumentClient): DynamoDBDocumentClient {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (isStoreUnavailable(error)) throw new StoreUnavailableError({ cause: error });
        throw error;
      }
    },
    { step: "initialize", name: "paperboatStoreErrors", override: true },
  );
  return client;
}

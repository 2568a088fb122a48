import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { monotonicFactory } from "ulid";
import type { Clock } from "./core/ports.ts";
import { translateStoreErrors } from "./store/store-errors.ts";

/**
 * Builders shared by the Lambda entry points and the local stack. Nothing here reads the
 * environment: everything arrives as arguments.
 */
export function createDocumentClient(
  options: { endpoint?: string; region?: string; maxAttempts?: number } = {},
) {
  const retries = options.maxAttempts ? { maxAttempts: options.maxAttempts } : {};
  const client = options.endpoint
    ? new DynamoDBClient({
        endpoint: options.endpoint,
        region: options.region ?? "local",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        ...retries,
      })
    : new DynamoDBClient({ ...(options.region ? { region: options.region } : {}), ...retries });
  return translateStoreErrors(
    DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
  );
}

export const systemClock: Clock = { now: () => new Date() };

/** ULIDs: unique, and sortable by creation time, which the listing indexes rely on. */
export function createIdFactory(): () => string {
  const next = monotonicFactory();
  return () => next();
}

import type { TestProject } from "vitest/node";
import { startDynamoDbLocal } from "../local/dynamodb.ts";
import { resolveChromium } from "./browser/chromium.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    /** The browser tests' Chromium (test/browser/chromium.ts), or why there is none. */
    chromium: { path: string } | { error: string };
  }
}

/**
 * One DynamoDB Local (in memory) for the whole run, unless DYNAMODB_ENDPOINT names one.
 * Each test file then creates its own table, so files never see each other's data.
 */
export default async function setup(project: TestProject) {
  project.provide(
    "chromium",
    await resolveChromium().then(
      (path) => ({ path }),
      (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
    ),
  );
  const given = process.env.DYNAMODB_ENDPOINT;
  if (given) {
    project.provide("dynamodbEndpoint", given);
    return;
  }
  const db = await startDynamoDbLocal();
  project.provide("dynamodbEndpoint", db.endpoint);
  return async () => {
    await db.stop();
  };
}

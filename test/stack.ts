import { randomBytes } from "node:crypto";
import { type StackOptions, startStack } from "../local/stack.ts";
import { dynamodbEndpoint, OWNERS, uniqueTableName } from "./helpers.ts";

/** The full local stack (the same code `npm start` runs) on a fresh table and a fast simulator. */
export async function startTestStack(options: Partial<StackOptions> = {}) {
  return startStack({
    tableName: uniqueTableName(),
    dynamodbEndpoint: dynamodbEndpoint(),
    callbackSecret: randomBytes(32).toString("base64url"),
    apiKeys: [OWNERS.alice, OWNERS.bob],
    reconcileIntervalSeconds: 0,
    ...options,
    simulator: { stepMs: 15, seed: 7, ...options.simulator },
  });
}

export type TestStack = Awaited<ReturnType<typeof startTestStack>>;

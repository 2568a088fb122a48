import { createReferenceClient } from "./client.ts";
import { reconcileWork } from "./work.ts";

/** The reconciler's cold-start reference (bench/reference/work.ts). */
const deps = {
  client: createReferenceClient(process.env.DYNAMODB_ENDPOINT),
  tableName: process.env.TABLE_NAME ?? "",
};

export const handler = () => reconcileWork(deps);

import { handle } from "hono/aws-lambda";
import { createReferenceApp } from "../reference/app.ts";
import { createReferenceClient } from "../reference/client.ts";
import { UpstreamTaskMini } from "./upstream-task-mini.ts";

/** Cold-start ablation: the reference, plus the same schema written with zod/mini. */
export const handler = handle(
  createReferenceApp({
    client: createReferenceClient(process.env.DYNAMODB_ENDPOINT),
    tableName: process.env.TABLE_NAME ?? "",
    validate: (body) => UpstreamTaskMini.parse(body),
  }),
);

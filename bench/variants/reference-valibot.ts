import { handle } from "hono/aws-lambda";
import * as v from "valibot";
import { createReferenceApp } from "../reference/app.ts";
import { createReferenceClient } from "../reference/client.ts";
import { UpstreamTaskValibot } from "./upstream-task-valibot.ts";

/** Cold-start ablation: the reference, plus the same schema written with valibot. */
export const handler = handle(
  createReferenceApp({
    client: createReferenceClient(process.env.DYNAMODB_ENDPOINT),
    tableName: process.env.TABLE_NAME ?? "",
    validate: (body) => v.parse(UpstreamTaskValibot, body),
  }),
);

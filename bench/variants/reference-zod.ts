import { handle } from "hono/aws-lambda";
import { UpstreamTask } from "../../functions/upstream/schemas.ts";
import { createReferenceApp } from "../reference/app.ts";
import { createReferenceClient } from "../reference/client.ts";

/** Cold-start ablation: the reference, plus the webhook body parsed with the production zod schema. */
export const handler = handle(
  createReferenceApp({
    client: createReferenceClient(process.env.DYNAMODB_ENDPOINT),
    tableName: process.env.TABLE_NAME ?? "",
    validate: (body) => UpstreamTask.parse(body),
  }),
);

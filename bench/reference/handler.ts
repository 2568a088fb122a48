import { handle } from "hono/aws-lambda";
import { createReferenceApp } from "./app.ts";
import { createReferenceClient } from "./client.ts";

/**
 * The reference Lambda of the cold-start figure (bench/cold-start.ts): Hono + the DynamoDB
 * document client doing one conditional UpdateItem, bundled exactly as SST bundles the real
 * functions. Its settings come from plain environment variables.
 */
export const handler = handle(
  createReferenceApp({
    client: createReferenceClient(process.env.DYNAMODB_ENDPOINT),
    tableName: process.env.TABLE_NAME ?? "",
  }),
);

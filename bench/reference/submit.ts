import { Hono } from "hono";
import { handle } from "hono/aws-lambda";
import { createReferenceClient } from "./client.ts";
import { createReferenceSqs, submitWork } from "./work.ts";

/** Submit's cold-start reference (bench/reference/work.ts): `POST /v1/imagine` through Hono. */
const deps = {
  client: createReferenceClient(process.env.DYNAMODB_ENDPOINT),
  sqs: createReferenceSqs(),
  tableName: process.env.TABLE_NAME ?? "",
};
const app = new Hono();
app.post("/v1/imagine", async (c) => {
  const body = (await c.req.json()) as { prompt?: string };
  return c.json(await submitWork(deps, "bench", String(body.prompt ?? "")), 202);
});

export const handler = handle(app);

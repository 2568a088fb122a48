import { createReferenceClient } from "./client.ts";
import { createReferenceSqs, submitWork } from "./work.ts";

/** The imagine queue consumer's cold-start reference (bench/reference/work.ts). */
const deps = {
  client: createReferenceClient(process.env.DYNAMODB_ENDPOINT),
  sqs: createReferenceSqs(),
  tableName: process.env.TABLE_NAME ?? "",
};

export async function handler(event: { Records: { messageId: string; body: string }[] }) {
  for (const record of event.Records) {
    const body = JSON.parse(record.body) as { owner: string; prompt: string };
    await submitWork(deps, body.owner, body.prompt, `sqs:${record.messageId}`);
  }
  return { batchItemFailures: [] };
}

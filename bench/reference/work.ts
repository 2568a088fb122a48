import { randomUUID } from "node:crypto";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { keys } from "../../functions/store/keys.ts";

/**
 * The work of the cold-start references for the functions whose first event does more than one
 * write (bench/cold-start.ts): the same round trips as the function, with the same clients (the
 * DynamoDB document client, the SQS client, global `fetch` to the upstream) and nothing else: no
 * zod, no config module, no links, no logging, no error translation. Submit's work is 1
 * TransactWriteItems (the task and the owner's counters), the upstream's submit call, 1
 * UpdateItem (the upstream id) and the young polls' SendMessageBatch; the reconciler's is its 3
 * Query (the unfinished page, expired modals, slots not yet back), the upstream's
 * list-by-condition call and the image copier's Query. Each entry (submit.ts, queue.ts, reconcile.ts) imports only what it
 * runs, as a function's bundle would.
 *
 * Settings come from plain environment variables: TABLE_NAME, DYNAMODB_ENDPOINT, MJ_API_BASE_URL,
 * MJ_API_KEY, SQS_ENDPOINT, YOUNG_POLLS_QUEUE_URL.
 */
const env = process.env;

const upstreamHeaders = () => ({
  "content-type": "application/json",
  "mj-api-secret": env.MJ_API_KEY ?? "",
  authorization: `Bearer ${env.MJ_API_KEY ?? ""}`,
});

export function createReferenceSqs(): SQSClient {
  return env.SQS_ENDPOINT
    ? new SQSClient({
        endpoint: env.SQS_ENDPOINT,
        region: "local",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      })
    : new SQSClient({});
}

export interface SubmitDeps {
  client: DynamoDBDocumentClient;
  sqs: SQSClient;
  tableName: string;
}

/**
 * `idempotencyKey` (the queue consumer's: every submit from a message has one) adds the key's
 * record to the creating transaction and one UpdateItem storing the answer, as the function does.
 */
export async function submitWork(
  deps: SubmitDeps,
  owner: string,
  prompt: string,
  idempotencyKey?: string,
) {
  const { client, sqs, tableName } = deps;

  const id = randomUUID();
  const now = new Date().toISOString();
  const date = now.slice(0, 10);
  await client.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: tableName,
            Item: {
              ...keys.task(id),
              id,
              owner,
              action: "IMAGINE",
              status: "NOT_START",
              prompt,
              progress: 0,
              rank: 0,
              createdAt: now,
              updatedAt: now,
              gsi1pk: keys.ownerTasks(owner),
              gsi1sk: id,
              gsi2sk: `NOT_START#${id}`,
              gsi3pk: keys.unfinished(),
              gsi3sk: id,
              slot: true,
            },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
        {
          Update: {
            TableName: tableName,
            Key: { pk: `QUOTA#${owner}`, sk: "QUOTA" },
            UpdateExpression: "SET #owner = :owner ADD #running :one, #day :one",
            ExpressionAttributeNames: { "#owner": "owner", "#running": "running", "#day": date },
            ExpressionAttributeValues: { ":owner": owner, ":one": 1 },
          },
        },
        ...(idempotencyKey
          ? [
              {
                Put: {
                  TableName: tableName,
                  Item: {
                    pk: `IDEMPOTENCY#${owner}#${idempotencyKey}`,
                    sk: "IDEMPOTENCY",
                    taskId: id,
                    state: "pending",
                    createdAt: now,
                  },
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
            ]
          : []),
        {
          Update: {
            TableName: tableName,
            Key: { pk: `USAGE#${owner}`, sk: date },
            UpdateExpression: "SET #owner = :owner ADD #jobs :one",
            ExpressionAttributeNames: { "#owner": "owner", "#jobs": "imagine" },
            ExpressionAttributeValues: { ":owner": owner, ":one": 1 },
          },
        },
      ],
    }),
  );
  const answer = await fetch(`${env.MJ_API_BASE_URL}/mj/submit/imagine`, {
    method: "POST",
    headers: upstreamHeaders(),
    body: JSON.stringify({
      prompt,
      notifyHook: "http://127.0.0.1:9/hooks/midjourney",
      state: id,
    }),
  });
  const result = (await answer.json()) as { code?: number; result?: string };
  if (result.code !== 1 || !result.result) throw new Error(`upstream refused: ${result.code}`);
  await client.send(
    new UpdateCommand({
      TableName: tableName,
      Key: keys.task(id),
      UpdateExpression: "SET #status = :status, #upstreamTaskId = :upstream, #rank = :rank",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeNames: {
        "#status": "status",
        "#upstreamTaskId": "upstreamTaskId",
        "#rank": "rank",
      },
      ExpressionAttributeValues: {
        ":status": "SUBMITTED",
        ":upstream": result.result,
        ":rank": 1000,
      },
    }),
  );
  const submitted = { id, status: "SUBMITTED", upstreamTaskId: result.result };
  if (idempotencyKey) {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: `IDEMPOTENCY#${owner}#${idempotencyKey}`, sk: "IDEMPOTENCY" },
        UpdateExpression: "SET #state = :done, #answer = :answer",
        ExpressionAttributeNames: { "#state": "state", "#answer": "answer" },
        ExpressionAttributeValues: { ":done": "done", ":answer": JSON.stringify(submitted) },
      }),
    );
  }
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: env.YOUNG_POLLS_QUEUE_URL,
      Entries: [3, 10, 20, 40].map((age) => ({
        Id: `at-${age}s`,
        MessageBody: JSON.stringify({ taskId: id }),
        DelaySeconds: age,
      })),
    }),
  );
  return submitted;
}

/** The reconciler's work: its three Query, one upstream list call, the copier's Query. */
export async function reconcileWork(deps: { client: DynamoDBDocumentClient; tableName: string }) {
  const { client, tableName } = deps;
  const page = await client.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: "gsi3",
      KeyConditionExpression: "gsi3pk = :unfinished",
      ExpressionAttributeValues: { ":unfinished": keys.unfinished() },
      Limit: 50,
    }),
  );
  const before = new Date(Date.now() - 120_000).toISOString();
  for (const partition of [keys.modals(), keys.slotRelease()]) {
    await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: "gsi3",
        KeyConditionExpression: "gsi3pk = :p AND gsi3sk < :before",
        ExpressionAttributeValues: { ":p": partition, ":before": before },
        Limit: 50,
      }),
    );
  }
  const ids = (page.Items ?? []).map((item) => String(item.upstreamTaskId));
  const answer = await fetch(`${env.MJ_API_BASE_URL}/mj/task/list-by-condition`, {
    method: "POST",
    headers: upstreamHeaders(),
    body: JSON.stringify({ ids }),
  });
  const tasks = (await answer.json()) as unknown[];
  if (!Array.isArray(tasks)) throw new Error("upstream list: not a list");
  // then the image copier's one Query: finished tasks whose images are due to be copied
  await client.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: "gsi6",
      KeyConditionExpression: "gsi6pk = :copy AND gsi6sk <= :dueBy",
      ExpressionAttributeValues: {
        ":copy": keys.imageCopies(),
        ":dueBy": `${new Date().toISOString()}#~`,
      },
      Limit: 50,
    }),
  );
  return { checked: ids.length };
}

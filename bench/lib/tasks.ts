import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createStateToken } from "../../functions/core/state-token.ts";
import { newTask } from "../../functions/core/submit.ts";
import type { Task } from "../../functions/core/task.ts";
import { taskToItem } from "../../functions/store/task-store.ts";

const PROMPT = "a paper boat floating on calm water at sunrise --v 6.1";

/** The nine buttons of a finished imagine grid (U1–U4, 🔄, V1–V4), as the upstream sends them. */
function gridButtons(hash: string): Task["buttons"] {
  const button = (customId: string, label: string, emoji = "") => ({
    customId,
    label,
    emoji,
    style: 2,
    type: 2,
  });
  return [
    ...[1, 2, 3, 4].map((i) => button(`MJ::JOB::upsample::${i}::${hash}`, `U${i}`)),
    button(`MJ::JOB::reroll::0::${hash}::SOLO`, "", "🔄"),
    ...[1, 2, 3, 4].map((i) => button(`MJ::JOB::variation::${i}::${hash}`, `V${i}`)),
  ];
}

/** A task as the service stores it, built with core's own newTask (so the shape follows it). */
export function benchTask(fields: {
  id: string;
  owner: string;
  status?: Task["status"];
  progress?: number;
  upstreamTaskId?: string | null;
  createdAt?: Date;
}): Task {
  const task = newTask({
    id: fields.id,
    owner: fields.owner,
    action: "IMAGINE",
    prompt: PROMPT,
    metadata: { client: "bench" },
    now: fields.createdAt ?? new Date(),
  });
  const status = fields.status ?? "SUBMITTED";
  const finished = status === "SUCCESS" || status === "FAILURE" || status === "CANCEL";
  return {
    ...task,
    status,
    progress: finished ? 100 : (fields.progress ?? 0),
    upstreamTaskId: fields.upstreamTaskId === undefined ? null : fields.upstreamTaskId,
    ...(status === "SUCCESS"
      ? {
          imageUrl: `http://127.0.0.1:9/mj/image/${fields.upstreamTaskId ?? "0"}`,
          buttons: gridButtons(`${fields.id.slice(-12).toLowerCase()}-bench`),
          finishedAt: task.createdAt,
        }
      : {}),
  };
}

/**
 * Writes tasks with BatchWriteItem (25 a call, `concurrency` calls in flight, unprocessed items
 * retried), each item built by the store's own taskToItem so keys and indexes are the real ones.
 */
export async function seedTasks(
  client: DynamoDBDocumentClient,
  tableName: string,
  tasks: readonly Task[],
  concurrency = 6,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      next += 25;
      if (start >= tasks.length) return;
      let requests = tasks
        .slice(start, start + 25)
        .map((task) => ({ PutRequest: { Item: taskToItem(task) } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const result = await client.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
        );
        requests = (result.UnprocessedItems?.[tableName] ?? []) as typeof requests;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** 16 digits, like the upstream family's task ids; `n` keeps them distinct within a run. */
export function upstreamId(n: number): string {
  return String(7_000_000_000_000_000 + n);
}

/**
 * A webhook body as the upstream (and the simulator) POSTs it: the whole task JSON, ~700 bytes,
 * with our signed `state`.
 */
export function webhookBody(fields: {
  secret: string;
  taskId: string;
  upstreamTaskId: string;
  status: "IN_PROGRESS" | "SUCCESS";
  progress: number;
}): string {
  const now = Date.now();
  const done = fields.status === "SUCCESS";
  return JSON.stringify({
    id: fields.upstreamTaskId,
    action: "IMAGINE",
    status: fields.status,
    progress: `${done ? 100 : fields.progress}%`,
    prompt: PROMPT,
    promptEn: PROMPT,
    description: `/imagine ${PROMPT}`,
    state: createStateToken(fields.secret, fields.taskId),
    submitTime: now - 4000,
    startTime: now - 3000,
    finishTime: done ? now : null,
    imageUrl: `http://127.0.0.1:9/mj/image/${fields.upstreamTaskId}`,
    failReason: null,
    properties: {
      notifyHook: "http://127.0.0.1:9/hooks/midjourney",
      finalPrompt: PROMPT,
      discordInstanceId: "1118138338562560102",
    },
    buttons: [],
  });
}

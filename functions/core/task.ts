import * as z from "zod";

/** Statuses use the upstream's words (see shared/API.md "The task"). */
export const TaskStatus = z.enum([
  "NOT_START",
  "SUBMITTED",
  "MODAL",
  "IN_PROGRESS",
  "SUCCESS",
  "FAILURE",
  "CANCEL",
]);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const TERMINAL_STATUSES: readonly TaskStatus[] = ["SUCCESS", "FAILURE", "CANCEL"];

export const TaskAction = z.enum([
  "IMAGINE",
  "UPSCALE",
  "VARIATION",
  "LOW_VARIATION",
  "HIGH_VARIATION",
  "REROLL",
  "ZOOM",
  "CUSTOM_ZOOM",
  "PAN",
  "INPAINT",
  "VIDEO",
  "DESCRIBE",
  "BLEND",
  "SHORTEN",
  "ACTION",
]);
export type TaskAction = z.infer<typeof TaskAction>;

export const Button = z.object({
  customId: z.string(),
  label: z.string(),
  emoji: z.string(),
  style: z.number().int(),
  type: z.number().int(),
});
export type Button = z.infer<typeof Button>;

/** A small JSON object of the client's, echoed back unchanged. */
export const Metadata = z.record(z.string(), z.unknown());
export type Metadata = z.infer<typeof Metadata>;

/** The task exactly as the API shows it (shared/API.md). */
export const Task = z.object({
  id: z.string(),
  owner: z.string(),
  action: TaskAction,
  status: TaskStatus,
  progress: z.number().int().min(0).max(100),
  prompt: z.string().nullable(),
  upstreamTaskId: z.string().nullable(),
  parentId: z.string().nullable(),
  imageUrl: z.string().nullable(),
  imageUrls: z.array(z.string()),
  videoUrl: z.string().nullable(),
  /**
   * The text results of DESCRIBE (the four prompts) and SHORTEN (the shortened prompts), in the
   * upstream's order; `[]` for every other task. Defaults to `[]` so that items and replayed
   * answers stored before the field existed still parse.
   */
  prompts: z.array(z.string()).default([]),
  buttons: z.array(Button),
  failReason: z.string().nullable(),
  metadata: Metadata,
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type Task = z.infer<typeof Task>;

/** `GET /v1/tasks/{id}`: the task and the ids of the tasks started from it, newest first. */
export type TaskWithChildren = Task & { children: string[] };

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

const STATUS_RANK: Record<TaskStatus, number> = {
  NOT_START: 0,
  MODAL: 0,
  SUBMITTED: 1,
  IN_PROGRESS: 2,
  SUCCESS: 3,
  FAILURE: 3,
  CANCEL: 3,
};

/**
 * One number that orders every state a task can be in, so "only move forward" is a single
 * numeric comparison inside a DynamoDB condition: status rank first, then progress.
 * Terminal states share one rank (with progress pinned to 100) so that a finished task never
 * changes again, whichever terminal webhook arrived first.
 */
export function taskRank(status: TaskStatus, progress: number): number {
  const rank = STATUS_RANK[status];
  if (rank === 3) return 3 * 1000 + 100;
  if (rank === 2) return 2 * 1000 + Math.max(0, Math.min(100, Math.trunc(progress)));
  return rank * 1000;
}

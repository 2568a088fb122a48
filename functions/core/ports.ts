import type { Button, Task, TaskAction, TaskStatus } from "./task.ts";

/** A move of a task, as the upstream (submit answer, webhook or poll) reported it. */
export interface TaskUpdate {
  status: TaskStatus;
  /** Omitted: the task keeps the progress it had. */
  progress?: number;
  upstreamTaskId?: string;
  imageUrl?: string | null;
  imageUrls?: string[];
  videoUrl?: string | null;
  /** describe/shorten text results; a terminal update always defines it. */
  prompts?: string[];
  buttons?: Button[];
  failReason?: string | null;
  finishedAt?: string;
}

/** Applying an update is a value, not an exception: stale and duplicate updates are normal. */
export type AdvanceOutcome =
  | { outcome: "applied"; task: Task }
  | { outcome: "stale"; task: Task | null };

export interface Page<T> {
  items: T[];
  /** Id of the last item when more may follow, else null. */
  lastId: string | null;
}

/** Storage of tasks, named after access patterns. Implemented in functions/store. */
export interface TaskStore {
  /** Records a new task; fails if the id exists. */
  create(task: Task): Promise<void>;
  get(id: string): Promise<Task | null>;
  listByOwner(
    owner: string,
    query: { status?: TaskStatus; limit: number; afterId?: string },
  ): Promise<Page<Task>>;
  /**
   * One conditional write that moves the task strictly forward (status rank, then progress)
   * and only for the upstream task it is bound to. `allowModal` also lets NOT_START become
   * MODAL (both rank 0), which only a submit answer may do. `onlyIfUnbound` applies the update
   * only while no upstream job is bound to the task (no webhook has proven one started).
   */
  advance(
    id: string,
    update: TaskUpdate,
    at: Date,
    options?: { allowModal?: boolean; onlyIfUnbound?: boolean },
  ): Promise<AdvanceOutcome>;
  /** Unfinished tasks, oldest first, from a sparse index: cost follows the unfinished set only. */
  listUnfinished(query: { limit: number; afterId?: string }): Promise<Page<Task>>;
  /**
   * The owner's tasks of one action, newest first (an index keyed by owner and action);
   * `status` narrows the page further.
   */
  listByAction(owner: string, query: TaskFilterQuery & { action: TaskAction }): Promise<Page<Task>>;
  /**
   * The tasks started from `parentId` (its buttons), newest first, from a sparse index; only
   * the owner's. `status` and `action` narrow the page further.
   */
  listChildren(owner: string, parentId: string, query: TaskFilterQuery): Promise<Page<Task>>;
  /** Ids of the owner's tasks started from `parentId`, newest first, at most `limit`. */
  listChildIds(owner: string, parentId: string, limit: number): Promise<string[]>;
  /**
   * Claims a task waiting in MODAL for one modal submit: ONE conditional write that succeeds
   * only while the task is the owner's, in MODAL and not yet claimed, so two concurrent modal
   * submits never both reach the upstream. A given prompt replaces the task's prompt.
   */
  claimModal(
    id: string,
    claim: { owner: string; prompt?: string; at: Date },
  ): Promise<"claimed" | "unclaimable">;
}

/**
 * A filtered listing. Pages are filled up to `limit` where the filter allows (a narrow filter
 * may yield a shorter page that still has a next one).
 */
export interface TaskFilterQuery {
  status?: TaskStatus;
  action?: TaskAction;
  limit: number;
  afterId?: string;
}

export interface Clock {
  now(): Date;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * What a submit answered, kept with its Idempotency-Key so a retry gets the same answer:
 * the task as answered, or the upstream error (with the task it recorded).
 */
export type SubmitResult =
  | { kind: "task"; task: Task }
  | {
      kind: "error";
      code: "upstream_rejected" | "upstream_busy" | "upstream_unavailable";
      reason: string;
      retryAfterSeconds?: number;
      task: Task;
    };

export interface IdempotencyRecord {
  owner: string;
  key: string;
  /** Fingerprint of the request (route and body); the same key with another body conflicts. */
  fingerprint: string;
  taskId: string;
  createdAt: string;
  /** Until then a retry is answered "still running"; after it, the task itself answers. */
  lockedUntil: string;
  /** Epoch seconds after which the record no longer counts (and DynamoDB's TTL deletes it). */
  expiresAt: number;
  result: SubmitResult | null;
}

export type ReserveOutcome =
  | { outcome: "reserved" }
  | { outcome: "exists"; record: IdempotencyRecord };

/** A key reserved together with a claim on a MODAL task (`POST /v1/tasks/{id}/modal`). */
export type ReserveClaimOutcome = ReserveOutcome | { outcome: "unclaimable" };

/** Idempotency-Keys, per owner. Implemented in functions/store. */
export interface IdempotencyStore {
  /**
   * Records the key and creates the task in ONE transaction: either both exist afterwards or
   * neither does. An unexpired record for the key wins, and is returned instead.
   */
  reserveAndCreate(record: IdempotencyRecord, task: Task, now: Date): Promise<ReserveOutcome>;
  /**
   * Records the key and claims the MODAL task (see TaskStore.claimModal) in ONE transaction.
   * An unexpired record for the key wins ("exists", so a retry replays); otherwise a task that
   * cannot be claimed is "unclaimable" and nothing is written.
   */
  reserveAndClaimModal(
    record: IdempotencyRecord,
    claim: { prompt?: string },
    now: Date,
  ): Promise<ReserveClaimOutcome>;
  /** Keeps the answer given, for replay. */
  complete(owner: string, key: string, result: SubmitResult): Promise<void>;
}

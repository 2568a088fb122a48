import type { Button, Task, TaskAction, TaskImage, TaskMode, TaskStatus } from "./task.ts";

/** A move of a task, as the upstream (submit answer, webhook or poll) reported it. */
export interface TaskUpdate {
  status: TaskStatus;
  /** Omitted: the task keeps the progress it had. */
  progress?: number;
  upstreamTaskId?: string;
  /** the upstream that accepted the job (a submit answer only) */
  upstream?: string;
  imageUrl?: string | null;
  imageUrls?: string[];
  videoUrl?: string | null;
  videoUrls?: string[];
  /** describe/shorten text results; a terminal update always defines it. */
  prompts?: string[];
  buttons?: Button[];
  failReason?: string | null;
  upstreamFailReason?: string | null;
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
/** A task as one read shows it, with its recorded states (TaskStore.getTimeline). */
export interface TaskTimeline {
  task: Task;
  childIds: string[];
  /** `taskRank` of each recorded state, oldest first; empty for a task stored before steps. */
  steps: number[];
}

export interface TaskStore {
  /** Records a new task; fails if the id exists. */
  create(task: Task): Promise<void>;
  get(id: string): Promise<Task | null>;
  listByOwner(
    owner: string,
    query: { status?: TaskStatus; mode?: TaskMode; limit: number; afterId?: string },
  ): Promise<Page<Task>>;
  /**
   * One conditional write that moves the task strictly forward (status rank, then progress)
   * and only for the upstream task it is bound to. `allowModal` also lets NOT_START become
   * MODAL (both rank 0), which only a submit answer may do. `onlyIfUnbound` applies the update
   * only while no upstream job is bound to the task (no webhook has proven one started).
   * `quiet` records no event for the move (a queued submit's busy attempt, retried as a new
   * task: docs/queue-and-bus.md).
   */
  advance(
    id: string,
    update: TaskUpdate,
    at: Date,
    options?: {
      allowModal?: boolean;
      onlyIfUnbound?: boolean;
      quiet?: boolean;
      /** the answer to a modal submitted through this API: may move the task out of MODAL */
      leavingModal?: boolean;
    },
  ): Promise<AdvanceOutcome>;
  /**
   * The same single conditional write as `advance`, reading nothing back (no ALL_NEW, no
   * ALL_OLD): for callers that only need to know whether it applied (the upstream's webhook,
   * the reconciler), so the hot path does not unmarshal and parse the whole item.
   */
  apply(id: string, update: TaskUpdate, at: Date): Promise<"applied" | "stale">;
  /**
   * Records which upstream runs a task whose webhook bound it before the submit's answer was
   * written (the answer's write then found the task further along and wrote nothing): one
   * conditional write, only while the task is bound to `upstreamTaskId` and names no upstream.
   * Absent in stores that predate several upstreams.
   */
  recordUpstream?(id: string, upstreamTaskId: string, upstream: string): Promise<void>;
  /**
   * Unfinished tasks that can progress, oldest first, from a sparse index: cost follows the
   * unfinished set only. Tasks waiting in MODAL are not among them (they wait for their owner):
   * see listModalsCreatedBefore.
   */
  listUnfinished(query: { limit: number; afterId?: string }): Promise<Page<Task>>;
  /**
   * Tasks waiting in MODAL that were created before `before`, oldest first, at most `limit`:
   * the MODAL partition of the same sparse index, so finding the expired ones costs what they
   * are, however many younger modals wait.
   */
  listModalsCreatedBefore(query: { before: Date; limit: number }): Promise<Task[]>;
  /**
   * Gives back the slots of finished tasks (created before `createdBefore`, at most `limit`)
   * whose release did not happen after their terminal write: each one conditional write, so
   * a slot is never given back twice, whoever gets there first. Returns the ids released.
   */
  releaseHeldSlots(query: {
    createdBefore: Date;
    limit: number;
    at: Date;
  }): Promise<{ released: string[]; errors: number }>;
  /**
   * Unfinished tasks (MODAL aside) created at or after `since`, oldest first, at most `limit`:
   * the young end of the same index, for the polls soon after a submit.
   */
  listUnfinishedCreatedSince(query: { since: Date; limit: number }): Promise<Task[]>;
  /**
   * Moves a MODAL task still listed among the unfinished (written before modals had their own
   * partition) to the MODAL partition. One conditional write; "stale" if it moved on.
   */
  parkModal(id: string): Promise<"parked" | "stale">;
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
  /** The task and its children's ids (newest first), kept on the task's own item: one read. */
  getTree(id: string): Promise<{ task: Task; childIds: string[] } | null>;
  /**
   * What getTree reads, plus the rank of every state the task was recorded in, oldest first
   * (written by the creating put and appended by every applied advance): the same one GetItem.
   */
  getTimeline(id: string): Promise<TaskTimeline | null>;
  /**
   * Claims a task waiting in MODAL for one modal submit: ONE conditional write that succeeds
   * only while the task is the owner's, in MODAL and not yet claimed, so two concurrent modal
   * submits never both reach the upstream. A given prompt replaces the task's prompt.
   */
  claimModal(
    id: string,
    claim: { owner: string; prompt?: string; at: Date },
  ): Promise<"claimed" | "unclaimable">;
  /**
   * SUCCESS tasks whose media still need a durable copy and are due (their next attempt is at
   * or before `dueBy`), soonest due first, from a sparse index that the SUCCESS write marks:
   * the copier's cost follows the pending copies, not the table. `after` continues a page.
   */
  listImageCopiesDue(query: {
    dueBy: Date;
    limit: number;
    after?: string;
  }): Promise<{ items: ImageCopyJob[]; after: string | null }>;
  /**
   * Records the copies of a pending task: ONE conditional write that only applies while the
   * copy is still pending and never touches the status, and takes the task off the index.
   */
  recordImagesCopied(
    id: string,
    copied: { images: StoredImage[]; attempts: number },
    at: Date,
  ): Promise<"recorded" | "stale">;
  /**
   * Records a failed attempt: the reason and the attempt count, and either when to retry
   * (`retryAt`) or, with null, that the copy is given up (`imagesStatus` "failed"). ONE
   * conditional write, applied only if no other copier has recorded this attempt already.
   */
  recordImageCopyFailure(
    id: string,
    failure: { attempts: number; reason: string; retryAt: Date | null },
    at: Date,
  ): Promise<"recorded" | "stale">;
}

/** What submitting calls of TaskStore (store/task-store.ts createSubmitTaskStore). */
export type SubmitTaskStore = Pick<
  TaskStore,
  "create" | "get" | "advance" | "recordUpstream" | "claimModal"
>;

/** What the reconciler's runs call of TaskStore (store/task-store.ts createReconcileTaskStore). */
export type ReconcileTaskStore = Pick<
  TaskStore,
  | "get"
  | "apply"
  | "advance"
  | "listUnfinished"
  | "listModalsCreatedBefore"
  | "listUnfinishedCreatedSince"
  | "parkModal"
  | "releaseHeldSlots"
>;

/** What the image copier calls of TaskStore (store/task-store.ts createImageCopyStore). */
export type ImageCopyTaskStore = Pick<
  TaskStore,
  "listImageCopiesDue" | "recordImagesCopied" | "recordImageCopyFailure"
>;

/** TaskStore's reads of tasks: all the read function needs of it (store/task-store.ts createTaskQueries). */
export type TaskQueries = Pick<
  TaskStore,
  "get" | "getTree" | "getTimeline" | "listByOwner" | "listByAction" | "listChildren"
>;

/** A durable copy as stored with the task: its URL is signed only when the task is read. */
export type StoredImage = Omit<TaskImage, "url">;

/** A task whose media are due for a copy, and how many attempts were recorded so far. */
export interface ImageCopyJob {
  task: Task;
  attempts: number;
}

/** What an image store holds under a key. */
export interface StoredObject {
  body: ReadableStream<Uint8Array>;
  contentType: string;
  bytes: number;
}

/**
 * Durable storage of copied images (S3 on AWS, a folder under DATA_DIR locally). Keys are
 * built by functions/core/images.ts only.
 */
export interface ImageStore {
  /** Writes (or overwrites with the same bytes: copies are idempotent) one object. */
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  get(key: string): Promise<StoredObject | null>;
  /**
   * A URL that opens the object without an API key until it expires (an S3 presigned URL, or
   * a signed link to this API's `/images/...` route, built on `origin`).
   */
  url(key: string, request: { origin: string }): Promise<string>;
  /**
   * Stores the API serves itself: whether a signed link's query (`expires`, `sig`) is genuine
   * and unexpired for `key`. Absent where the links point elsewhere (S3).
   */
  verifyLink?(key: string, query: { expires?: string; sig?: string }): boolean;
}

/** An upstream file as downloaded: its bytes and the type its magic bytes show. */
export interface SourceFile {
  bytes: Uint8Array;
  contentType: string;
}

/** Downloads an upstream result (guarded, capped). Throws ImageCopyError with a reason. */
export interface ImageSource {
  fetch(url: string, expect: "image" | "video"): Promise<SourceFile>;
}

/** An encoded picture and its pixel size. */
export interface EncodedImage {
  bytes: Uint8Array;
  contentType: string;
  width: number;
  height: number;
}

/** Image processing (sharp); throws ImageCopyError for bytes that do not decode. */
export interface ImageProcessor {
  /** The pixel size of an image. */
  measure(file: SourceFile): Promise<{ width: number; height: number }>;
  /** The four quadrants of a 2×2 grid, top-left, top-right, bottom-left, bottom-right. */
  splitGrid(file: SourceFile): Promise<EncodedImage[]>;
  /** A small copy for listings, at most `maxSide` pixels on its longer side. */
  thumbnail(file: SourceFile, maxSide: number): Promise<EncodedImage>;
}

/**
 * A filtered listing. Pages are filled up to `limit` where the filter allows (a narrow filter
 * may yield a shorter page that still has a next one).
 */
export interface TaskFilterQuery {
  status?: TaskStatus;
  action?: TaskAction;
  mode?: TaskMode;
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

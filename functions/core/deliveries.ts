import type {
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  DeliveryTarget,
} from "../contract/webhooks.ts";
import type { OutboxEvent } from "./events.ts";
import type { Task } from "./task.ts";

/**
 * Deliveries of task events: one per event and target (the client's webhookUrl, the event
 * bus, or one of the owner's account endpoints, named by its id). Each keeps its frozen payload
 * (every attempt sends the same bytes under the same `webhook-id`) and the log of its attempts
 * (docs/webhooks.md). Their wire shapes live in functions/contract/webhooks.ts.
 */
export {
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  DeliveryTarget,
} from "../contract/webhooks.ts";

export const MAX_LOGGED_ATTEMPTS = 50;

/** A delivery as stored: the API's view plus what the dispatcher needs. */
export interface StoredDelivery extends Delivery {
  /** The JSON body every attempt sends. */
  payload: string;
  /** A failure at this many attempts is final (a manual retry allows one more). */
  attemptLimit: number;
  /** The dispatch index's sort key while pending (claims compare it), else null. */
  due: string | null;
  /** The next attempt was asked for by hand (POST .../retry). */
  manualPending: boolean;
}

/** A delivery to be queued: its index key is the store's to make. */
export type NewDelivery = Omit<StoredDelivery, "due" | "manualPending">;

/** Work the dispatch index holds. */
export type DispatchWork =
  | {
      kind: "outbox";
      task: Task;
      outbox: OutboxEvent[];
      /** The task stays in the dispatch index while unfinished (its progress writes need it). */
      wantsProgress: boolean;
      /** Its webhookUrl answered 410 once: nothing more is sent there. */
      webhookStopped: boolean;
    }
  | { kind: "delivery"; delivery: StoredDelivery };

/** What an attempt's outcome makes of a delivery. */
export interface AttemptRecord {
  attempt: DeliveryAttempt;
  status: DeliveryStatus;
  /** When pending: the next attempt. */
  nextAttemptAt: Date | null;
}

/** Storage of deliveries and the outbox. Implemented in functions/store/delivery-store.ts. */
export interface DeliveryStore {
  /** Due work, soonest first, from the sparse dispatch index; `after` continues a page. */
  listDue(query: {
    dueBy: Date;
    limit: number;
    after?: Record<string, unknown>;
  }): Promise<{ items: DispatchWork[]; after: Record<string, unknown> | null }>;
  /** A task's item, read consistently (the stream names a task whose outbox just filled). */
  getWork(key: { pk: string; sk: string }): Promise<DispatchWork | null>;
  /**
   * Turns the first `count` events of the task's outbox into `deliveries`, in ONE transaction
   * that applies only if the outbox still holds exactly `outboxSize` events (nothing was
   * appended or consumed meanwhile), so each event becomes its deliveries exactly once.
   */
  queueDeliveries(
    task: Task,
    consume: { count: number; outboxSize: number; keepIndexed: boolean },
    deliveries: NewDelivery[],
    at: Date,
  ): Promise<StoredDelivery[] | "stale">;
  /**
   * Claims a pending delivery for one attempt: moves it out of reach of other dispatchers until
   * `leaseUntil`, only if nobody changed it since it was read. Null: someone else has it.
   */
  claim(delivery: StoredDelivery, leaseUntil: Date): Promise<StoredDelivery | null>;
  /** Records a claimed delivery's attempt; "stale" if another attempt was recorded first. */
  recordAttempt(
    delivery: StoredDelivery,
    record: AttemptRecord,
    at: Date,
  ): Promise<"recorded" | "stale">;
  /** A task's deliveries of one target (every target when not given), oldest event first. */
  list(taskId: string, target?: DeliveryTarget): Promise<StoredDelivery[]>;
  get(taskId: string, target: DeliveryTarget, id: string): Promise<StoredDelivery | null>;
  /**
   * Makes a delivery due now, for one more attempt if it had ended (dead, stopped, delivered).
   * Null when the task has no such delivery for this owner.
   */
  retryNow(
    owner: string,
    taskId: string,
    id: string,
    at: Date,
    target?: DeliveryTarget,
  ): Promise<StoredDelivery | null>;
  /**
   * The receiver answered 410: the task's later events are not sent to its webhookUrl, and its
   * webhook deliveries still pending are stopped unsent.
   */
  stopWebhook(taskId: string, at: Date): Promise<void>;
}

/** An owner's signing secret versions (the secrets themselves are derived, never stored). */
export interface SecretVersions {
  version: number;
  rotatedAt: string | null;
  /** During a rotation's grace period: the previous version, still signing until `until`. */
  previous: { version: number; until: string } | null;
}

export interface WebhookSecretStore {
  get(owner: string): Promise<SecretVersions>;
  /** ONE conditional write: applies only if the current version is still `from.version`. */
  rotate(
    owner: string,
    from: SecretVersions,
    graceUntil: Date,
    at: Date,
  ): Promise<SecretVersions | "conflict">;
}

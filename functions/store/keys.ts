import { encodeTime } from "ulid";
import type { TaskAction, TaskStatus } from "../core/task.ts";

/** Every key value of the single table is built here, and nowhere else. */
export const keys = {
  task: (id: string) => ({ pk: `TASK#${id}`, sk: "TASK" }),
  /** The task id inside a task's `pk` (a page's LastEvaluatedKey → the cursor's id). */
  taskIdOf: (pk: string) => pk.replace(/^TASK#/, ""),
  /** gsi1: an owner's tasks; sorted by id, which is a ULID, so by creation time. */
  ownerTasks: (owner: string) => `OWNER#${owner}`,
  /** gsi2 sort key (under gsi1pk): status then id; rewritten on every status change. */
  statusTask: (status: TaskStatus, id: string) => `${status}#${id}`,
  statusPrefix: (status: TaskStatus) => `${status}#`,
  /**
   * gsi3: unfinished tasks (sparse); a terminal status moves the task to `slotRelease` until
   * its slot is back, then the attributes are removed.
   * The sort key is the id (a ULID: creation order). A task waiting in MODAL waits for its
   * owner, not for the upstream, so it lives under its own partition (`modals`) while it
   * waits: the reconciler's pages of `unfinished` go only to tasks that can progress.
   */
  unfinished: () => "UNFINISHED",
  modals: () => "MODAL",
  /**
   * gsi3 partition of a finished task whose slot may not be back yet: the terminal write puts
   * it here and the write that returns the slot takes it out, so a release that failed (the
   * store throttled, the process killed between the two writes) is found and done again by the
   * reconciler instead of holding the owner's slot for ever.
   */
  slotRelease: () => "RELEASE",
  /** The gsi3 partition of a task in this (unfinished) status. */
  unfinishedPartition: (status: TaskStatus) => (status === "MODAL" ? "MODAL" : "UNFINISHED"),
  /** Every ULID created before `at` sorts below this (its 10-character time prefix). */
  createdBefore: (at: Date) => encodeTime(Math.max(0, at.getTime()), 10),
  /** gsi4 (sparse, only tasks with a parent): the tasks started from a task's buttons. */
  parentTasks: (parentId: string) => `PARENT#${parentId}`,
  /** gsi5 sort key (under gsi1pk): action then id; written once, an action never changes. */
  actionTask: (action: TaskAction, id: string) => `${action}#${id}`,
  actionPrefix: (action: TaskAction) => `${action}#`,
  /** gsi6 (sparse): SUCCESS tasks whose media still need a durable copy. */
  imageCopies: () => "COPY",
  /** gsi6 sort key: when the next copy attempt is due, then the id (soonest first). */
  imageCopyDue: (due: Date, id: string) => `${due.toISOString()}#${id}`,
  /** The last gsi6 sort key due by `at` (`~` sorts after every id character). */
  imageCopyDueBy: (at: Date) => `${at.toISOString()}#~`,
  /**
   * The upstreams' states as submit instances last saw them change (`GET /health`): one
   * partition, one item per upstream id (docs/upstreams.md "Several upstreams").
   */
  upstreamHealth: (id: string) => ({ pk: "UPSTREAMS", sk: `UPSTREAM#${id}` }),
  upstreamHealthPartition: () => "UPSTREAMS",
  /** gsi7 (sparse): tasks with queued events and deliveries waiting for an attempt. */
  dispatch: () => "DISPATCH",
  /** gsi7 sort key: when the work is due, then the item (soonest first). */
  dispatchDue: (due: Date, pk: string, sk: string) => `${due.toISOString()}#${pk}#${sk}`,
  /** The last gsi7 sort key due by `at`. */
  dispatchDueBy: (at: Date) => `${at.toISOString()}#~`,
  /**
   * One delivery of one event of a task, kept next to the task (a task's log is one Query).
   * The target is `webhook` (the task's webhookUrl), `bus`, or an account endpoint's id.
   */
  delivery: (taskId: string, target: string, eventId: string) => ({
    pk: `TASK#${taskId}`,
    sk: `DELIVERY#${target}#${eventId}`,
  }),
  deliveryPrefix: (target: string) => `DELIVERY#${target}#`,
  /** Every delivery of a task, whatever its target. */
  deliveriesPrefix: () => "DELIVERY#",
  /** An account webhook endpoint, under its owner (an owner's endpoints are one Query). */
  endpoint: (owner: string, id: string) => ({ pk: `OWNER#${owner}`, sk: `ENDPOINT#${id}` }),
  endpointPrefix: () => "ENDPOINT#",
  /** How many endpoints an owner has (the cap's count, written with each add and delete). */
  endpointCount: (owner: string) => ({ pk: `OWNER#${owner}`, sk: "ENDPOINTS" }),
  /** An owner's webhook signing secret: which version is current, and the previous one's grace. */
  webhookSecret: (owner: string) => ({ pk: `OWNER#${owner}`, sk: "WEBHOOK_SECRET" }),
  /**
   * An API key kept in the table (docs: keys), found by its id, which is derived from the key's
   * hash (functions/core/api-keys.ts keyIdOf): auth reads it with one GetItem.
   */
  apiKey: (id: string) => ({ pk: `APIKEY#${id}`, sk: "APIKEY" }),
  /** gsi4 (an overloaded index; task children use PARENT#...): every table key in one partition. */
  apiKeys: () => "APIKEYS",
  /** gsi4 sort key of a key: its owner, then its creation time and id (oldest first). */
  ownerApiKey: (owner: string, createdAt: string, id: string) => `${owner}#${createdAt}#${id}`,
  /** An owner's keys under gsi4 (`#` cannot be part of an owner name). */
  ownerApiKeyPrefix: (owner: string) => `${owner}#`,
  /**
   * An owner's limits and the counters they are checked against (tasks holding a slot, jobs of
   * the current UTC day): one item, so a submit's check and count are one conditional write.
   */
  quota: (owner: string) => ({ pk: `OWNER#${owner}`, sk: "QUOTA" }),
  /** An owner's usage of one UTC day (YYYY-MM-DD): one item of counters per owner per day. */
  usageDay: (owner: string, date: string) => ({ pk: `USAGE#${owner}`, sk: `DAY#${date}` }),
  usageDayPrefix: () => "DAY#",
  /** An Idempotency-Key of an owner; the key is hashed so any printable key fits. */
  idempotency: (owner: string, keyHash: string) => ({
    pk: `IDEMPOTENCY#${owner}#${keyHash}`,
    sk: "KEY",
  }),
} as const;

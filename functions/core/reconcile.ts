import { updateFromUpstream } from "./from-upstream.ts";
import type { Clock, Logger, ReconcileTaskStore } from "./ports.ts";
import { isTerminal, type Task, type TaskMode } from "./task.ts";
import type { Upstream, UpstreamTask } from "./upstream-port.ts";

export interface ReconcileDeps {
  store: ReconcileTaskStore;
  upstream: Upstream;
  clock: Clock;
  log: Logger;
}

/** What polling named tasks needs (pollTasks): one read and the callback's write of the store. */
export type PollDeps = Omit<ReconcileDeps, "store"> & {
  store: Pick<ReconcileTaskStore, "get" | "apply">;
};

export interface ReconcileOptions {
  /** Unfinished tasks read per page, and upstream ids per list-by-condition call. */
  batchSize?: number;
  /** Tasks unfinished for longer than this are failed. */
  deadlineSeconds: number;
  /** Tasks left waiting in MODAL longer than this are cancelled (default 24 h). */
  modalDeadlineSeconds?: number;
  /** Stop after this many pages. */
  maxPages?: number;
  /** Start no new page after this long (a scheduled run has a time limit; the next run goes on). */
  timeBudgetMs?: number;
}

export interface ReconcileReport {
  checked: number;
  applied: number;
  expired: number;
  /** MODAL tasks cancelled because no modal came within the modal deadline */
  modalsCancelled: number;
  /** Finished tasks whose slot had not come back (their release failed) and now has. */
  slotsReleased: number;
  pages: number;
  upstreamErrors: number;
  /** Tasks whose update failed on its own (logged); the rest of their page still applied. */
  taskErrors: number;
  durationMs: number;
}

/**
 * The safety net for webhooks that never arrive: reads unfinished tasks from the sparse index,
 * asks the upstream for them in batches (list-by-condition), and applies what it says through
 * the same forward-only write as the webhooks. Safe to run concurrently with itself and with
 * webhooks: every write is conditional, so the slower writer simply loses.
 */
export async function reconcile(
  deps: ReconcileDeps,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const batchSize = options.batchSize ?? 50;
  const maxPages = options.maxPages ?? 100;
  const startedAt = Date.now();
  const inBudget = () =>
    options.timeBudgetMs === undefined || Date.now() - startedAt < options.timeBudgetMs;
  const report: ReconcileReport = {
    checked: 0,
    applied: 0,
    expired: 0,
    modalsCancelled: 0,
    slotsReleased: 0,
    pages: 0,
    upstreamErrors: 0,
    taskErrors: 0,
    durationMs: 0,
  };
  let afterId: string | undefined;
  do {
    const page = await deps.store.listUnfinished({ limit: batchSize, afterId });
    report.pages++;
    report.checked += page.items.length;
    await reconcileBatch(deps, page.items, options.deadlineSeconds, report);
    afterId = page.lastId ?? undefined;
  } while (afterId && report.pages < maxPages && inBudget());
  await cancelAbandonedModals(
    deps,
    options.modalDeadlineSeconds ?? DEFAULT_MODAL_DEADLINE_SECONDS,
    batchSize,
    inBudget,
    report,
  );
  if (inBudget()) await releaseHeldSlots(deps, batchSize, report);
  report.durationMs = Date.now() - startedAt;
  deps.log.info("reconcile finished", { ...report });
  return report;
}

async function reconcileBatch(
  deps: ReconcileDeps,
  tasks: Task[],
  deadlineSeconds: number,
  report: ReconcileReport,
): Promise<void> {
  const now = deps.clock.now();
  const byMode = groupByMode(tasks);
  await pollGroups(deps, byMode, now, report);
  for (const task of tasks) {
    if (task.status === "MODAL") {
      // listed among the unfinished from before modals had their own partition: moved there
      await deps.store.parkModal(task.id).catch(() => "stale");
      continue;
    }
    const ageSeconds = (now.getTime() - Date.parse(task.createdAt)) / 1000;
    if (ageSeconds <= deadlineSeconds) continue;
    // If the batch above just finished it, this write is stale and changes nothing.
    try {
      const outcome = await deps.store.apply(
        task.id,
        {
          status: "FAILURE",
          failReason: `no result from the upstream within ${deadlineSeconds} s (last seen ${task.status})`,
          finishedAt: now.toISOString(),
        },
        now,
      );
      if (outcome === "applied") {
        report.expired++;
        deps.log.warn("task expired", { taskId: task.id, upstreamTaskId: task.upstreamTaskId });
      }
    } catch (error) {
      report.taskErrors++;
      deps.log.error("reconcile: task not expired", {
        taskId: task.id,
        error: (error as Error).name,
        message: (error as Error).message,
      });
    }
  }
}

/** A finished task's slot is looked for only this long after creation (its own release first). */
export const SLOT_RELEASE_GRACE_SECONDS = 120;

/**
 * A finished task gives its owner's slot back in a second write after its terminal one; when
 * that write failed (the store throttled, the process killed in between), the task waits in
 * the index's RELEASE partition and is released here: one Query, one conditional transaction
 * per task found (never twice: the task's `slot` is the condition). Only tasks older than the
 * grace period are read, so a release in flight is rarely raced (and harmless when it is).
 */
async function releaseHeldSlots(
  deps: ReconcileDeps,
  batchSize: number,
  report: ReconcileReport,
): Promise<void> {
  const now = deps.clock.now();
  try {
    const { released, errors } = await deps.store.releaseHeldSlots({
      createdBefore: new Date(now.getTime() - SLOT_RELEASE_GRACE_SECONDS * 1000),
      limit: batchSize,
      at: now,
    });
    report.slotsReleased += released.length;
    report.taskErrors += errors;
    for (const taskId of released) deps.log.warn("task slot given back late", { taskId });
  } catch (error) {
    report.taskErrors++;
    deps.log.error("reconcile: held slots not read", { error: (error as Error).name });
  }
}

/** How long a task may wait in MODAL for its owner's modal before it is cancelled. */
export const DEFAULT_MODAL_DEADLINE_SECONDS = 24 * 60 * 60;

/**
 * A task in MODAL waits for its owner, not for the upstream, so the task deadline does not
 * apply; one left waiting past the modal deadline is cancelled. Only the expired ones are
 * read (the MODAL partition, oldest first, up to the cutoff), so younger modals cost nothing.
 */
async function cancelAbandonedModals(
  deps: ReconcileDeps,
  modalDeadlineSeconds: number,
  batchSize: number,
  mayGoOn: () => boolean,
  report: ReconcileReport,
): Promise<void> {
  const now = deps.clock.now();
  const before = new Date(now.getTime() - modalDeadlineSeconds * 1000);
  const hours = Math.round((modalDeadlineSeconds / 3600) * 10) / 10;
  for (;;) {
    const expired = await deps.store.listModalsCreatedBefore({ before, limit: batchSize });
    let cancelled = 0;
    for (const task of expired) {
      const result = await deps.store.advance(
        task.id,
        {
          status: "CANCEL",
          failReason: `no modal was submitted within ${hours} h`,
          finishedAt: now.toISOString(),
        },
        now,
      );
      if (result.outcome === "applied") {
        cancelled++;
        deps.log.info("modal abandoned", { taskId: task.id, upstreamTaskId: task.upstreamTaskId });
      }
    }
    report.modalsCancelled += cancelled;
    if (expired.length < batchSize || cancelled === 0 || !mayGoOn()) return;
  }
}

/** Tasks asked about in one list call: the same upstream, under the same mode's prefix. */
interface PollGroup {
  upstream: string | null;
  mode: TaskMode | null;
  byUpstreamId: Map<string, Task>;
}

/**
 * A task is polled on its upstream, under the path prefix of its mode: one list call per
 * upstream and mode in a batch.
 */
function groupByMode(tasks: Task[]): Map<string, PollGroup> {
  const groups = new Map<string, PollGroup>();
  for (const task of tasks) {
    if (task.upstreamTaskId === null) continue;
    const key = `${task.upstream ?? ""}\n${task.mode ?? ""}`;
    const group = groups.get(key) ?? {
      upstream: task.upstream,
      mode: task.mode,
      byUpstreamId: new Map<string, Task>(),
    };
    group.byUpstreamId.set(task.upstreamTaskId, task);
    groups.set(key, group);
  }
  return groups;
}

/** Asks the upstream about each group and applies what it says (forward-only writes). */
async function pollGroups(
  deps: PollDeps,
  byMode: Map<string, PollGroup>,
  now: Date,
  report: { applied: number; upstreamErrors: number; taskErrors: number },
): Promise<void> {
  for (const { upstream, mode, byUpstreamId } of byMode.values()) {
    let upstreamTasks: UpstreamTask[] = [];
    try {
      upstreamTasks = await deps.upstream.listByCondition([...byUpstreamId.keys()], mode, upstream);
    } catch (error) {
      report.upstreamErrors++;
      deps.log.warn("reconcile: upstream list failed", { error: (error as Error).message });
    }
    for (const upstreamTask of upstreamTasks) {
      const task = byUpstreamId.get(upstreamTask.id);
      if (!task) continue;
      // one task's trouble (what the upstream said of it, or its write) never costs its page
      try {
        const update = updateFromUpstream(upstreamTask, now);
        if (update && (await deps.store.apply(task.id, update, now)) === "applied") {
          report.applied++;
        }
      } catch (error) {
        report.taskErrors++;
        deps.log.error("reconcile: task not updated", {
          taskId: task.id,
          upstreamTaskId: task.upstreamTaskId,
          error: (error as Error).name,
          message: (error as Error).message,
        });
      }
    }
  }
}

/**
 * When a young task is polled, in seconds after its submit: soon, because a gateway may hide
 * what the client must act on (new-api answers a remix click with code 1 and shows MODAL only
 * once synced, about every 15 s) and webhooks may never come; then the regular interval.
 */
export const YOUNG_POLL_AGES = [3, 10, 20, 40] as const;

export interface YoungPollReport {
  checked: number;
  applied: number;
  upstreamErrors: number;
  taskErrors: number;
}

/**
 * The polls soon after a submit: every unfinished task that reached one of YOUNG_POLL_AGES
 * between `since` (the previous run) and now is asked about, in one list call per mode. Only
 * the young end of the unfinished index is read. Stateless: a missed run only skips a poll,
 * which the regular reconcile makes up.
 */
export async function pollYoung(
  deps: ReconcileDeps,
  options: { since: Date; limit?: number },
): Promise<YoungPollReport> {
  const now = deps.clock.now();
  const oldest = new Date(now.getTime() - (Math.max(...YOUNG_POLL_AGES) + 1) * 1000);
  const young = await deps.store.listUnfinishedCreatedSince({
    since: oldest,
    limit: options.limit ?? 200,
  });
  const ageAt = (task: Task, at: Date) => (at.getTime() - Date.parse(task.createdAt)) / 1000;
  const due = young.filter((task) =>
    YOUNG_POLL_AGES.some((age) => ageAt(task, options.since) < age && age <= ageAt(task, now)),
  );
  const report: YoungPollReport = {
    checked: due.length,
    applied: 0,
    upstreamErrors: 0,
    taskErrors: 0,
  };
  await pollGroups(deps, groupByMode(due), now, report);
  return report;
}

/**
 * One young poll per task named (AWS: the young-polls queue's delayed messages, one per
 * YOUNG_POLL_AGES point, sent at submit). Each task is read by id; the finished, unknown and
 * not yet bound ones are skipped, the rest asked about in one list call per mode. A failure only
 * skips this poll: the regular reconcile makes it up.
 */
export async function pollTasks(deps: PollDeps, taskIds: string[]): Promise<YoungPollReport> {
  const now = deps.clock.now();
  const report: YoungPollReport = { checked: 0, applied: 0, upstreamErrors: 0, taskErrors: 0 };
  const tasks: Task[] = [];
  for (const id of new Set(taskIds)) {
    try {
      const task = await deps.store.get(id);
      if (task && !isTerminal(task.status) && task.upstreamTaskId) tasks.push(task);
    } catch (error) {
      report.taskErrors++;
      deps.log.error("young poll: task not read", {
        taskId: id,
        error: (error as Error).name,
        message: (error as Error).message,
      });
    }
  }
  report.checked = tasks.length;
  await pollGroups(deps, groupByMode(tasks), now, report);
  return report;
}

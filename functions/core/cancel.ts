import { InvalidStateError } from "./errors.ts";
import type { Clock, Logger, SubmitTaskStore } from "./ports.ts";
import { getTask } from "./queries.ts";
import { isTerminal, type Task } from "./task.ts";
import type { CancelOutcome, Upstream } from "./upstream-port.ts";

export interface CancelDeps {
  store: SubmitTaskStore;
  upstream: Upstream;
  clock: Clock;
  log: Logger;
}

/** The `failReason` a cancelled task keeps: who cancelled it and what the upstream did. */
export function cancelReason(
  task: Pick<Task, "status" | "upstreamTaskId">,
  outcome: CancelOutcome | null,
): string {
  const base = "cancelled by its owner";
  if (task.status === "MODAL") return `${base} while it waited for its modal`;
  if (!outcome) {
    return `${base} before the upstream's answer was recorded; if the upstream started the job, it may still run there`;
  }
  switch (outcome.kind) {
    case "cancelled":
      return `${base}; the upstream was asked to stop the job`;
    case "unsupported":
      return `${base}; this upstream cannot cancel a job, so it may still run there`;
    case "failed":
      return `${base}; the upstream's cancel failed (${outcome.reason}), so the job may still run there`;
  }
}

/**
 * `POST /v1/tasks/{id}/cancel`. The owner's unfinished task (else 404, or 409 invalid_state when
 * finished) becomes CANCEL with a reason, in the same single forward-only write every update
 * uses: CANCEL ranks with SUCCESS and FAILURE, so no later webhook or poll can change it, and the
 * write carries its task.failed event. Before that the upstream is asked to stop the job where it
 * can (trueai's cancel route); whatever it answers, the task is cancelled here, and the reason
 * says whether the upstream job may still run. A task in MODAL runs nothing upstream until its
 * modal is submitted, so it is cancelled here only.
 */
export async function cancelTask(deps: CancelDeps, owner: string, id: string): Promise<Task> {
  const task = await getTask(deps, owner, id);
  if (isTerminal(task.status)) {
    throw new InvalidStateError(
      `Only an unfinished task can be cancelled; this one is ${task.status}.`,
    );
  }
  let outcome: CancelOutcome | null = null;
  if (task.status !== "MODAL" && task.upstreamTaskId) {
    outcome = await deps.upstream.cancel(task.upstreamTaskId, task.mode, task.upstream);
  }
  const now = deps.clock.now();
  // like every terminal update it defines each result field: no preview image stays behind
  const written = await deps.store.advance(
    id,
    {
      status: "CANCEL",
      progress: 100,
      failReason: cancelReason(task, outcome),
      imageUrl: null,
      imageUrls: [],
      videoUrl: null,
      videoUrls: [],
      prompts: [],
      buttons: [],
      finishedAt: now.toISOString(),
    },
    now,
  );
  deps.log.info("task cancelled", {
    taskId: id,
    upstreamTaskId: task.upstreamTaskId,
    upstream: outcome?.kind ?? "not asked",
    outcome: written.outcome,
  });
  if (written.outcome === "applied") return written.task;
  // it finished between the read and the write: finished tasks are not cancelled
  throw new InvalidStateError(
    `Only an unfinished task can be cancelled; this one is ${written.task?.status ?? "gone"}.`,
  );
}

import type { UpstreamState } from "../contract/service.ts";
import type { Button, TaskMode } from "./task.ts";

/**
 * The upstream as core sees it: the port `functions/upstream/` implements (one host:
 * createUpstreamClient; several: createFailoverUpstream, the same port over a list). Core never
 * imports `functions/upstream/`; the composition modules wire an implementation in.
 */

export type SubmitKind =
  | "imagine"
  | "action"
  | "modal"
  | "blend"
  | "describe"
  | "shorten"
  | "video"
  | "edits"
  | "retexture";

/**
 * The stable id of one configured upstream (derived from its base URL, docs/upstreams.md
 * "Several upstreams"); a task records the one that accepted its job. Null: not known (a task
 * recorded before several upstreams existed, or whose answer a webhook overtook): the first
 * configured upstream serves it.
 */
export type UpstreamId = string | null;

/** What a submit call came to. Outcomes are values: every caller must branch on them. */
export type SubmitOutcome =
  | { kind: "accepted"; upstreamTaskId: string; upstream?: string }
  | { kind: "modal"; upstreamTaskId: string; upstream?: string }
  | { kind: "rejected"; code: number; reason: string; upstream?: string }
  | { kind: "busy"; retryAfterSeconds: number; reason: string; upstream?: string }
  | {
      kind: "unavailable";
      reason: string;
      /**
       * True only when the job cannot have started there: the connection was refused (nothing
       * sent), or the host answered 5xx or refused our credentials before accepting anything.
       * A timeout after sending, a reset connection or a garbled answer may hide a started job.
       */
      nothingStarted?: boolean;
      upstream?: string;
    };

/**
 * What asking the upstream to cancel came to: stopped; no such route (a 404/405, or the
 * web page new-api answers unknown paths with); or it failed (an error, a refusal) with why.
 */
export type CancelOutcome =
  | { kind: "cancelled" }
  | { kind: "unsupported" }
  | { kind: "failed"; reason: string };

export type ImageSeedOutcome = { kind: "seed"; seed: string } | { kind: "refused"; reason: string };

/** An upstream task (fetch, list-by-condition, webhook body) as the adapter parsed it. */
export interface UpstreamTask {
  id: string;
  action: string | null;
  status: string;
  progress: number | null;
  prompt: string | null;
  state: string | null;
  imageUrl: string | null;
  imageUrls: string[];
  videoUrl: string | null;
  videoUrls: string[];
  failReason: string | null;
  finishTime: number | null;
  buttons: Button[];
  properties: Record<string, unknown>;
}

/** A webhook body parsed as an upstream task, or why it is not one. */
export type ParsedUpstreamTask =
  | { ok: true; task: UpstreamTask }
  | { ok: false; issues: { path: string; message: string }[] };

/** A read (fetch, list) that failed after its retries. */
export class UpstreamReadError extends Error {
  override name = "UpstreamReadError";
}

/**
 * One upstream's state as `GET /health` shows it (docs/upstreams.md "Several upstreams"): `up`;
 * `down` (failing: skipped until `retryAt`); `probing` (down, and the next submit tries it
 * again); `busy` (its queue was full: skipped until `retryAt`); `unknown` (the recorded states
 * could not be read). Its shape is the contract's (functions/contract/service.ts).
 */
export type UpstreamHealth = UpstreamState;

/**
 * The upstream port. `at` names the upstream a task recorded (its polls, actions, modal and
 * cancel go there); a new job (`at` absent) goes to the first healthy upstream and moves on
 * only when nothing can have started (SubmitOutcome `nothingStarted`, or busy).
 */
export interface Upstream {
  submit(
    kind: SubmitKind,
    body: Record<string, unknown>,
    mode?: TaskMode | null,
    at?: UpstreamId,
  ): Promise<SubmitOutcome>;
  /** The task, or null for every "unknown task" answer (200 empty, 204, 400 task_no_found, 404). */
  fetchTask(
    upstreamTaskId: string,
    mode?: TaskMode | null,
    at?: UpstreamId,
  ): Promise<UpstreamTask | null>;
  /** Tasks for these ids; unknown ids are simply absent. */
  listByCondition(
    upstreamTaskIds: string[],
    mode?: TaskMode | null,
    at?: UpstreamId,
  ): Promise<UpstreamTask[]>;
  /**
   * `GET /mj/task/{id}/image-seed`: the seed of a finished task, or a refusal (unknown task,
   * not finished) with the upstream's description; throws UpstreamReadError when the upstream
   * cannot answer.
   */
  imageSeed(
    upstreamTaskId: string,
    mode?: TaskMode | null,
    at?: UpstreamId,
  ): Promise<ImageSeedOutcome>;
  /**
   * `POST /mj/task/{id}/cancel`: one attempt, never retried (the task is cancelled here
   * whatever the upstream says; the answer only tells whether the upstream job stopped too).
   */
  cancel(upstreamTaskId: string, mode?: TaskMode | null, at?: UpstreamId): Promise<CancelOutcome>;
  /** Which protocol the (first, or `at`'s) host speaks (MJ_API_KIND). */
  readonly kind: string;
  /**
   * Why no upstream (or `at`'s) has a route for a submit (or `image-seed`), or null when one
   * has: asked before anything is recorded, so a job no host can run is refused up front.
   */
  unsupported(
    kind: SubmitKind | "image-seed",
    body?: Record<string, unknown>,
    mode?: TaskMode | null,
    at?: UpstreamId,
  ): string | null;
  /** Which protocol `at`'s host speaks (for the unsupported error's words). */
  kindAt?(at?: UpstreamId): string;
}

/**
 * The upstreams' last recorded states (functions/store/upstream-health-store.ts): each change a
 * submit instance sees is written once; `GET /health` reads them all in one query.
 */
export interface UpstreamHealthStore {
  record(health: UpstreamHealth): Promise<void>;
  list(): Promise<Omit<UpstreamHealth, "position">[]>;
}

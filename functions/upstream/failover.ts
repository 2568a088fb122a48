import { createHash } from "node:crypto";
import type { Clock, Logger } from "../core/ports.ts";
import type { SubmitOutcome, Upstream, UpstreamHealth, UpstreamId } from "../core/upstream-port.ts";
import type { UpstreamClient } from "./client.ts";

/**
 * The stable id of an upstream: `u-` and 10 hex digits of the SHA-256 of its base URL
 * (lower-cased, trailing slashes dropped). Reordering MJ_API_BASE_URL keeps every id, so a
 * task still finds its upstream; the id names no host, so `GET /health` reveals none. The same
 * URL listed again (another key) gets the id of `<url>#2`, `#3`...
 */
export function upstreamIds(baseUrls: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return baseUrls.map((raw) => {
    const url = raw.trim().replace(/\/+$/, "").toLowerCase();
    const count = (seen.get(url) ?? 0) + 1;
    seen.set(url, count);
    const key = count === 1 ? url : `${url}#${count}`;
    return `u-${createHash("sha256").update(key).digest("hex").slice(0, 10)}`;
  });
}

/** When to skip an upstream, and for how long (docs/upstreams.md "Several upstreams"). */
export interface BreakerOptions {
  /** Consecutive failed submits that take an upstream down; default 3. */
  failureThreshold?: number;
  /** How long a down upstream is skipped before one submit tries it again; default 30 s. */
  cooldownMs?: number;
  /** A busy upstream is skipped for its Retry-After, at most this long; default 30 s. */
  maxBusyMs?: number;
  /**
   * A job moves on only while the attempts so far took less than this (default 5 s): one more
   * attempt may take a whole upstream timeout, and the submit function has a time limit.
   */
  moveOnWithinMs?: number;
}

export interface FailoverOptions extends BreakerOptions {
  clock: Clock;
  log?: Logger;
  /**
   * Told each change of an upstream's state (down, busy, up again), so other functions can
   * show it (`GET /health` reads what was recorded). A failure is logged, never thrown.
   */
  onChange?: (health: UpstreamHealth) => Promise<void>;
}

interface Member {
  id: string;
  client: UpstreamClient;
  failures: number;
  /** "down": the breaker is open; "busy": its queue was full */
  state: "up" | "down" | "busy";
  since: Date | null;
  reason: string | null;
  retryAt: Date | null;
}

/** A failover router: the upstream port, plus each upstream's state as this instance sees it. */
export interface FailoverUpstream extends Upstream {
  health(): UpstreamHealth[];
}

/**
 * The upstream port over several upstreams. A new job goes to the first upstream that is not
 * down or busy (all of them, in order, when every one is), and moves to the next only when
 * nothing can have started: the connection was refused, the host answered 5xx or refused our
 * credentials (`nothingStarted`), or it was busy. A timeout after sending, a reset or a garbled
 * answer may hide a started job: that outcome is final, so no request ever makes two jobs.
 *
 * A circuit breaker per upstream: `failureThreshold` unavailable answers in a row take it down
 * for `cooldownMs`; then one submit tries it again (probing): accepted or refused (it answered)
 * brings it up, another failure keeps it down for another cooldown. The state lives in this
 * process: on Lambda each instance learns on its own, and reports each change to `onChange`.
 *
 * Everything else follows the task (`at`): its polls, buttons, modal, seed and cancel go to the
 * upstream it recorded; an id no longer configured, or none, goes to the first upstream.
 */
export function createFailoverUpstream(
  upstreams: readonly { id: string; client: UpstreamClient }[],
  options: FailoverOptions,
): FailoverUpstream {
  if (upstreams.length === 0) throw new Error("createFailoverUpstream needs an upstream");
  const threshold = options.failureThreshold ?? 3;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const maxBusyMs = options.maxBusyMs ?? 30_000;
  const moveOnWithinMs = options.moveOnWithinMs ?? 5_000;
  const members: Member[] = upstreams.map(({ id, client }) => ({
    id,
    client,
    failures: 0,
    state: "up",
    since: null,
    reason: null,
    retryAt: null,
  }));
  const first = members[0] as Member;
  const byId = new Map(members.map((m) => [m.id, m]));

  function memberAt(at: UpstreamId | undefined): Member {
    return (at && byId.get(at)) || first;
  }

  function healthOf(member: Member, now: Date): UpstreamHealth {
    const due = member.retryAt !== null && member.retryAt.getTime() <= now.getTime();
    const state =
      member.state === "up" || (member.state === "busy" && due)
        ? "up"
        : member.state === "down" && due
          ? "probing"
          : member.state;
    return {
      id: member.id,
      position: members.indexOf(member) + 1,
      state,
      since: member.since?.toISOString() ?? null,
      reason: state === "up" ? null : member.reason,
      retryAt: state === "up" ? null : (member.retryAt?.toISOString() ?? null),
    };
  }

  async function changed(member: Member): Promise<void> {
    const health = healthOf(member, options.clock.now());
    options.log?.warn("upstream state changed", {
      upstream: member.id,
      state: member.state,
      reason: member.reason ?? undefined,
    });
    if (!options.onChange) return;
    try {
      await options.onChange(health);
    } catch (error) {
      options.log?.warn("upstream state not recorded", {
        upstream: member.id,
        error: (error as Error).name,
      });
    }
  }

  function isAvailable(member: Member, now: Date): boolean {
    return member.state === "up" || (member.retryAt !== null && member.retryAt <= now);
  }

  /** Updates the breaker with one submit's outcome; true when the state changed. */
  function record(member: Member, outcome: SubmitOutcome, now: Date): boolean {
    if (outcome.kind === "unavailable") {
      member.failures++;
      const opens = member.state !== "down" && member.failures >= threshold;
      const reopens = member.state === "down";
      if (!opens && !reopens) return false;
      member.state = "down";
      member.since = opens ? now : member.since;
      member.reason = outcome.reason.slice(0, 200);
      member.retryAt = new Date(now.getTime() + cooldownMs);
      return true;
    }
    if (outcome.kind === "busy") {
      // a full queue is no failure of the host, but the next jobs are better sent elsewhere
      const wasBusy = member.state === "busy";
      if (member.state === "down") return false;
      member.state = "busy";
      member.since = wasBusy ? member.since : now;
      member.reason = outcome.reason.slice(0, 200);
      member.retryAt = new Date(
        now.getTime() + Math.min(maxBusyMs, outcome.retryAfterSeconds * 1000),
      );
      return !wasBusy;
    }
    // it answered (accepted, modal or refused the job itself): it is up
    member.failures = 0;
    if (member.state === "up") return false;
    member.state = "up";
    member.since = now;
    member.reason = null;
    member.retryAt = null;
    return true;
  }

  /** Whether the job may go to the next upstream: nothing can have started on this one. */
  function mayMoveOn(outcome: SubmitOutcome): boolean {
    return (
      outcome.kind === "busy" || (outcome.kind === "unavailable" && outcome.nothingStarted === true)
    );
  }

  const router: FailoverUpstream = {
    kind: first.client.kind,
    kindAt: (at) => memberAt(at).client.kind,
    async submit(kind, body, mode, at) {
      if (at !== undefined) {
        // a job on an upstream task (a button, a modal) can only run where that task is
        const member = memberAt(at);
        const outcome = await member.client.submit(kind, body, mode);
        if (record(member, outcome, options.clock.now())) await changed(member);
        return { ...outcome, upstream: member.id };
      }
      const now = options.clock.now();
      const startedAt = now.getTime();
      const able = members.filter((m) => m.client.unsupported(kind, body, mode) === null);
      const ready = able.filter((m) => isAvailable(m, now));
      const order = ready.length > 0 ? ready : able.length > 0 ? able : members;
      let last: SubmitOutcome | null = null;
      for (const member of order) {
        const outcome = await member.client.submit(kind, body, mode);
        if (record(member, outcome, options.clock.now())) await changed(member);
        last = { ...outcome, upstream: member.id };
        if (!mayMoveOn(outcome)) return last;
        if (options.clock.now().getTime() - startedAt >= moveOnWithinMs) {
          options.log?.warn("submit not moved on: out of time", { upstream: member.id });
          return last;
        }
        options.log?.info("submit moved to the next upstream", {
          upstream: member.id,
          outcome: outcome.kind,
        });
      }
      return last as SubmitOutcome;
    },
    fetchTask: (id, mode, at) => memberAt(at).client.fetchTask(id, mode),
    listByCondition: (ids, mode, at) => memberAt(at).client.listByCondition(ids, mode),
    imageSeed: (id, mode, at) => memberAt(at).client.imageSeed(id, mode),
    cancel: (id, mode, at) => memberAt(at).client.cancel(id, mode),
    unsupported(kind, body, mode, at) {
      if (at !== undefined) return memberAt(at).client.unsupported(kind, body, mode);
      // a new job: refused only when no upstream can run it (the first one's words)
      const reasons = members.map((m) => m.client.unsupported(kind, body, mode));
      return reasons.every((r) => r !== null) ? (reasons[0] ?? null) : null;
    },
    health() {
      const now = options.clock.now();
      return members.map((m) => healthOf(m, now));
    },
  };
  return router;
}

import type { Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { LastEventId } from "../contract/read.ts";
import { ValidationError } from "../core/errors.ts";
import { withCopyUrls } from "../core/images.ts";
import type { Clock, ImageStore, Logger, TaskQueries } from "../core/ports.ts";
import { isTerminal } from "../core/task.ts";
import { readTimeline, stepsAfter } from "../core/watch.ts";
import type { AuthEnv } from "./auth.ts";
import { linkOrigin } from "./image-routes.ts";
import { pathTaskId } from "./validate.ts";

/** How a task's live stream reads and how long it lives (docs/api.md "Live progress"). */
export interface TaskEventsOptions {
  /** EVENTS_INTERVAL_MS: time between two reads of the task (one GetItem each). */
  intervalMs: number;
  /**
   * EVENTS_MAX_SECONDS: the stream ends after this long (the client resumes with
   * Last-Event-ID); 0: one read, the new states, then the end (behind API Gateway, which
   * cannot stream).
   */
  maxSeconds: number;
  /** A comment line after this long without an event keeps proxies from closing (15 s). */
  heartbeatMs?: number;
}

/** The settings' defaults (EVENTS_INTERVAL_MS, EVENTS_MAX_SECONDS). */
export const DEFAULT_EVENTS: TaskEventsOptions = { intervalMs: 1000, maxSeconds: 840 };

export interface TaskEventsDeps {
  store: TaskQueries;
  log: Logger;
  images?: ImageStore;
  publicUrl: string;
  events: TaskEventsOptions;
  clock?: Clock;
}

/** The client's last seen event id: the `Last-Event-ID` header, or `?lastEventId=`. */
function lastEventIdOf(c: Context): number | null {
  const raw = c.req.header("last-event-id") ?? c.req.query("lastEventId");
  if (raw === undefined || raw === "") return null;
  const parsed = LastEventId.safeParse(raw.trim());
  if (!parsed.success) {
    throw new ValidationError([
      { path: "Last-Event-ID", message: "must be an event id this stream sent (a whole number)" },
    ]);
  }
  return parsed.data;
}

/**
 * `GET /v1/tasks/{id}/events`: server-sent events, one `task` event per recorded state of the
 * task (id: the state's number, data: the task as `GET /v1/tasks/{id}` shows it), ending after
 * the terminal one. Each read is one GetItem of the task's item, which carries every state it
 * was recorded in (functions/core/watch.ts), so states recorded between two reads are all sent,
 * in order, and a stream resumed with `Last-Event-ID` sends exactly those after it.
 * Unknown and other owners' tasks are 404 before the stream starts, as for GET.
 */
export function mountTaskEvents(app: Hono<AuthEnv>, deps: TaskEventsDeps) {
  const origin = linkOrigin(deps.publicUrl);
  const { intervalMs, maxSeconds } = deps.events;
  const heartbeatMs = deps.events.heartbeatMs ?? 15_000;
  const now = () => (deps.clock ?? { now: () => new Date() }).now().getTime();

  app.get("/v1/tasks/:id/events", async (c) => {
    const id = pathTaskId(c.req.param("id"));
    const afterId = lastEventIdOf(c);
    const owner = c.get("owner");
    let timeline = await readTimeline(deps, owner, id);
    c.header("x-accel-buffering", "no");
    return streamSSE(c, async (stream) => {
      const endsAt = now() + maxSeconds * 1000;
      let sent = afterId;
      let lastWrite = now();
      try {
        // a client that reconnects (a dropped stream, or the end of a short one) waits this long
        await stream.write(`retry: ${intervalMs}\n\n`);
        for (;;) {
          for (const step of stepsAfter(timeline, sent)) {
            const task = await withCopyUrls(deps.images, step.task, origin);
            await stream.writeSSE({
              event: "task",
              id: String(step.id),
              data: JSON.stringify(task),
            });
            sent = step.id;
            lastWrite = now();
          }
          if (isTerminal(timeline.task.status) || stream.aborted || now() >= endsAt) return;
          await stream.sleep(Math.min(intervalMs, Math.max(0, endsAt - now())));
          if (stream.aborted) return;
          if (now() - lastWrite >= heartbeatMs) {
            await stream.write(": keep-alive\n\n");
            lastWrite = now();
          }
          const next = await deps.store.getTimeline(id);
          // gone (its retention ended) or not the owner's any more: nothing more to say
          if (!next || next.task.owner !== owner) return;
          timeline = next;
        }
      } catch (error) {
        // headers are sent: the stream just ends, and the client resumes from its last id
        if (!stream.aborted) {
          deps.log.warn("task stream ended by an error", {
            taskId: id,
            error: (error as Error).name,
          });
        }
      }
    });
  });
}

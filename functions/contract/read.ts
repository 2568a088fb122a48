import { TaskAction, TaskId, TaskMode, TaskStatus } from "./task.ts";
import * as z from "./z.ts";

/** The read routes' queries (docs/api.md "Reading tasks"). */

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Cursors are opaque to clients: base64url of `{"v":1,"after":"<task id>"}`. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after: lastId })).toString("base64url");
}

const CursorPayload = /* @__PURE__ */ z.onDemand(() =>
  z.object({ v: z.literal(1), after: z.string().check(z.regex(ULID)) }),
);

const Cursor = /* @__PURE__ */ z.onDemand(() =>
  z.pipe(
    z.string().check(z.maxLength(200)),
    z.transform((raw, ctx) => {
      try {
        return z
          .built(z.built(CursorPayload))
          .parse(JSON.parse(Buffer.from(raw, "base64url").toString("utf8"))).after;
      } catch {
        ctx.issues.push({
          code: "custom",
          input: raw,
          message: "cursor is not one this API returned",
        });
        return z.NEVER;
      }
    }),
  ),
);

const Limit = /* @__PURE__ */ z.onDemand(() =>
  z.pipe(
    z.pipe(
      z
        .string()
        .check(z.regex(/^\d{1,3}$/, { message: "limit must be a whole number from 1 to 100" })),
      z.transform(Number),
    ),
    z
      .number()
      .check(
        z.int(),
        z.minimum(1, { message: "limit must be at least 1" }),
        z.maximum(100, { message: "limit must be at most 100" }),
      ),
  ),
);

/** `GET /v1/tasks?status=&action=&mode=&parentId=&limit=&cursor=`. */
export const ListQuery = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    status: z.optional(z.built(TaskStatus)),
    mode: z.optional(z.built(TaskMode)),
    action: z.optional(z.built(TaskAction)),
    parentId: z.optional(z.built(TaskId)),
    limit: z.optional(z.built(Limit)),
    cursor: z.optional(z.built(Cursor)),
  }),
);
export type ListQuery = z.output<typeof ListQuery>;

const UsageDate = /* @__PURE__ */ z.onDemand(() =>
  z.string().check(
    z.regex(/^\d{4}-\d{2}-\d{2}$/, { message: "a date is YYYY-MM-DD" }),
    z.refine((d) => !Number.isNaN(Date.parse(d)) && new Date(d).toISOString().startsWith(d), {
      message: "not a calendar date",
    }),
  ),
);

/** `GET /v1/usage`: a UTC date range, both ends included (default: the last 30 days). */
export const UsageQuery = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    from: z.optional(z.built(UsageDate)),
    to: z.optional(z.built(UsageDate)),
  }),
);
export type UsageQuery = z.output<typeof UsageQuery>;

const count = () => z.number().check(z.int());
const Counters = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    jobs: z.record(z.string(), count()).check(z.meta({ description: "jobs created, by action" })),
    modes: z
      .record(z.string(), count())
      .check(z.meta({ description: "jobs created, by mode (jobs without a mode are not listed)" })),
    failed: count().check(z.meta({ description: "tasks that ended in FAILURE" })),
  }),
);

/** `GET /v1/usage`: days with jobs, oldest first, and the totals over the range. */
export const UsageAnswer = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    days: z.array(z.extend(z.built(Counters), { date: z.string() })),
    totals: z.built(Counters),
  }),
);
export type UsageAnswer = z.infer<typeof UsageAnswer>;

/**
 * `Last-Event-ID` of `GET /v1/tasks/{id}/events` (the header, or `?lastEventId=` where a client
 * cannot set headers): the number of the last recorded state the client has seen.
 */
export const LastEventId = /* @__PURE__ */ z.onDemand(() =>
  z.pipe(
    z
      .string()
      .check(
        z.regex(/^\d{1,6}$/, { message: "must be an event id this stream sent (a whole number)" }),
      ),
    z.transform(Number),
  ),
);

/**
 * Bounds on how much of the account one stage may use (issue 17, point 7). Change them here and
 * deploy; docs/ explains each choice.
 *
 * API Gateway throttling applies to every route of the stage: a steady rate and a burst, in
 * requests per second (token bucket). Beyond them the API answers 429 without running a
 * function, so a flood of requests costs nothing and cannot starve the account's Lambdas.
 */
export const API_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

/**
 * Reserved concurrency per function: at most this many instances run at once, and the same
 * number is set aside for it, so a flood on one function (submit) cannot take the concurrency
 * that another needs (the callback). Their sum (210) must leave the account's 100 unreserved
 * executions: accounts still on a raised-on-request limit below ~310 must raise it first.
 * - reconcile 1: runs never overlap (every minute, each under a minute);
 * - admin 2: one operator managing keys;
 * - dispatch schedule 2, dispatch stream 5: a run works through the whole index itself;
 * - queue 10, with the SQS source capped at 5 (QUEUE_MAX_CONCURRENCY): a consumer at its
 *   reserved limit would make SQS count throttled receives toward the dead-letter redrive;
 * - young polls 5, its SQS source capped at 2 (YOUNG_POLLS_MAX_CONCURRENCY): batches of up to
 *   10 polls, one list call per mode each; a throttled batch only waits.
 */
export const RESERVED_CONCURRENCY = {
  submit: 50,
  queue: 10,
  callback: 50,
  read: 50,
  docs: 5,
  webhooks: 10,
  admin: 2,
  dispatchStream: 5,
  dispatchSchedule: 2,
  reconcile: 1,
  youngPolls: 5,
  // live task streams (infra/stream.ts): one instance per open stream, so this many at once;
  // past it the function URL answers 429 and clients poll instead
  stream: 20,
} as const;

/** The young-polls consumer's event source scales to at most this many concurrent batches. */
export const YOUNG_POLLS_MAX_CONCURRENCY = 2;

/** The queue consumer's event source scales to at most this many concurrent batches. */
export const QUEUE_MAX_CONCURRENCY = 5;

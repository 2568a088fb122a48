/**
 * A clock that moves only when the test moves it, with timers that fire as it passes them: a
 * backoff, a lock or a long poll's wait is then waited out by `advance`, not by sleeping. It is
 * a `Clock` for core (`now()`) and an `SqsClock` for the local SQS (`after()`).
 */
export function manualClock(start = Date.parse("2026-06-01T12:00:00.000Z")) {
  let ms = start;
  const timers = new Set<{ at: number; fire: () => void }>();
  return {
    now: () => new Date(ms),
    after(delayMs: number, fire: () => void) {
      const timer = { at: ms + Math.max(0, delayMs), fire };
      timers.add(timer);
      return () => {
        timers.delete(timer);
      };
    },
    /** Timers armed and not yet fired (a long poll waiting holds one). */
    pending: () => timers.size,
    /** Moves the clock on by `byMs`, firing every timer it passes, earliest first. */
    advance(byMs: number) {
      ms += byMs;
      for (;;) {
        let due: { at: number; fire: () => void } | undefined;
        for (const timer of timers) if (timer.at <= ms && (!due || timer.at < due.at)) due = timer;
        if (!due) return;
        timers.delete(due);
        due.fire();
      }
    },
  };
}

export type ManualClock = ReturnType<typeof manualClock>;

/** The largest delay browsers' `setTimeout` keeps (a signed 32-bit int of ms); a longer one fires at once. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;
/** Timers that may fire at one instant before `advance` calls it a busy loop (a timer re-arming itself at 0 ms). */
const MAX_TIMERS_PER_INSTANT = 10_000;

/**
 * A clock and timers that move only when the test says so. `advance` runs due
 * timers in order and lets promises settle between them, so fetches that
 * resolve on a fake timer complete within simulated time. Like a browser,
 * `setTimeout` treats a delay above {@link MAX_TIMER_DELAY} (or a non-finite one) as 0.
 */
export function createFakeTime(start = Date.UTC(2026, 10, 28, 12, 0, 0)) {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, { at: number; run: () => void }>();
  /** Errors thrown by timer callbacks: reported, as a browser would, without stopping time. */
  const uncaught: unknown[] = [];
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return {
    now: () => now,
    setTimeout: (run: () => void, ms: number): unknown => {
      const id = nextId++;
      // Browsers convert the delay to a 32-bit int: longer waits (and Infinity, NaN) overflow to "now".
      const delay = Number.isFinite(ms) && ms <= MAX_TIMER_DELAY ? Math.max(0, ms) : 0;
      timers.set(id, { at: now + delay, run });
      return id;
    },
    clearTimeout: (handle: unknown) => {
      timers.delete(handle as number);
    },
    uncaught,
    /** Timers still armed; a destroyed client must leave none. */
    get pending() {
      return timers.size;
    },
    settle,
    async advance(ms: number) {
      const target = now + ms;
      let sameInstant = 0;
      for (;;) {
        await settle();
        let dueId: number | undefined;
        let due: { at: number; run: () => void } | undefined;
        for (const [id, timer] of timers) {
          if (timer.at <= target && (!due || timer.at < due.at)) {
            dueId = id;
            due = timer;
          }
        }
        if (!due) break;
        timers.delete(dueId!);
        sameInstant = due.at === now ? sameInstant + 1 : 0;
        if (sameInstant > MAX_TIMERS_PER_INSTANT) throw new Error(`fake time: over ${MAX_TIMERS_PER_INSTANT} timers fired at one instant, a timer loop`);
        now = due.at;
        try {
          due.run();
        } catch (error) {
          uncaught.push(error);
        }
      }
      now = target;
      await settle();
    },
  };
}

export type FakeTime = ReturnType<typeof createFakeTime>;

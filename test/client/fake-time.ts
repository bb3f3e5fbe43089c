/**
 * A clock and timers that move only when the test says so. `advance` runs due
 * timers in order and lets promises settle between them, so fetches that
 * resolve on a fake timer complete within simulated time.
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
    setTimeout(run: () => void, ms: number): unknown {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, ms), run });
      return id;
    },
    clearTimeout(handle: unknown) {
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

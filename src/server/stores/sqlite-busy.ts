import type { Store } from "./store.js";

/**
 * SQLITE_BUSY, primary or extended (`BUSY_RECOVERY`, `BUSY_SNAPSHOT`, …):
 * another connection holds the lock. `node:sqlite` says so in `errcode`,
 * better-sqlite3 in `code`.
 */
export function isSqliteBusy(error: unknown): boolean {
  const { errcode, code } = (error ?? {}) as { errcode?: unknown; code?: unknown };
  if (typeof errcode === "number") return (errcode & 0xff) === 5;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The store with each call tried again, on a timer, while SQLite answers
 * SQLITE_BUSY, for up to `waitMs` after the first refusal; then the call
 * rejects with that error (the handler answers 503).
 *
 * This replaces SQLite's own busy timeout, which waits by sleeping inside
 * the synchronous call: with both drivers that holds the whole event loop,
 * so while another process held a write lock every request of the process
 * (reads that WAL would have served at once, and the guard's timer that
 * should answer 503) stalled behind each blocked write in turn, seconds
 * past `storeTimeout`. Waiting here lets the rest run.
 *
 * Trying a whole call again is safe: a statement refused as busy changed
 * nothing, and what a call ran before it was a read or the same write.
 */
export function retryWhileBusy<S extends Store>(store: S, waitMs: number): S {
  async function again(run: () => Promise<unknown>, first: unknown): Promise<unknown> {
    const deadline = Date.now() + waitMs;
    let error = first;
    for (let wait = 1; Date.now() < deadline; wait = Math.min(wait * 2, 50)) {
      await pause(Math.min(wait, deadline - Date.now()));
      try {
        return await run();
      } catch (next) {
        if (!isSqliteBusy(next)) throw next;
        error = next;
      }
    }
    throw error;
  }

  const patient: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(store)) {
    if (typeof method !== "function" || name === "close") {
      patient[name] = method;
      continue;
    }
    patient[name] = (...args: unknown[]) => {
      const run = () => (method as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      // The usual case costs one reaction: no timer, no closure kept unless SQLite is busy.
      return run().catch((error: unknown) => {
        if (isSqliteBusy(error)) return again(run, error);
        throw error;
      });
    };
  }
  return patient as S;
}

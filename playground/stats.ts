/**
 * The request counts the playground server keeps for the end-to-end tests and
 * `bench/e2e-tabs.ts` (`GET /demo/stats`). A module of its own, free of the
 * library, so `test/e2e/harness.ts` can take its type in a typecheck that runs
 * before `dist/` is built.
 */

/** Empty counts, starting now. */
export function freshStats() {
  return {
    since: Date.now(),
    /** Requests under /api/auth by "METHOD /path". */
    counts: {} as Record<string, number>,
    /** The same, per tab (the page's `x-playground-tab` header, e.g. "Tab 2"). */
    byTab: {} as Record<string, Record<string, number>>,
    /** Every `GET /api/auth/session`: when (server ms), which tab, what status. */
    sessionRequests: [] as Array<{ at: number; tab: string | null; status: number }>,
  };
}

/** What `GET /demo/stats` answers: the counts since the last reset, and the server's clock. */
export type Stats = ReturnType<typeof freshStats> & { now: number };

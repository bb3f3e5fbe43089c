import type { ClientEnv } from "./env.js";

/**
 * The server's clock as this tab knows it: the last `Date` reading, carried
 * forward on the monotonic clock, so a system clock set back or ahead does
 * not move it. Until a server has answered with a `Date` it is this
 * machine's clock (and is not shared with other tabs, whose own may be better).
 */
export function createServerClock(env: Pick<ClientEnv, "now" | "monotonic">) {
  let anchor: { server: number; at: number } | undefined;
  const now = () => (anchor ? anchor.server + (env.monotonic() - anchor.at) : env.now());
  return {
    /** The server's time now, ms since epoch. */
    now,
    /** Takes a reading: the server's time at monotonic instant `at` (default: now). */
    set(server: number, at = env.monotonic()) {
      anchor = { server, at };
    },
    /** The reading to hand to another tab, or undefined while this tab has none of its own. */
    shared: () => (anchor ? now() : undefined),
    /** Monotonic instant at which an ISO `expires` (server time) is reached. */
    monotonicAt: (expires: string) => env.monotonic() + (Date.parse(expires) - now()),
  };
}

import { browserEnv } from "./browser-env.js";
import type { ClientEnv } from "./env.js";
import type { SessionClientOptions } from "./types.js";

/** setTimeout's largest delay (browsers fire longer ones at once); longer waits are re-armed when they fire, ms. */
export const MAX_DELAY = 2 ** 31 - 1;

/**
 * Reads a duration option, returning ms (`fallback` is in ms); a caller mistake is a TypeError at creation.
 * Given in seconds (`scale` 1000), where 0 turns it off, or, for `timeout`, in ms (`scale` 1), where it must be
 * above 0 (at 0 every request would time out at once).
 */
const duration = (value: unknown, name: string, fallback: number, scale = 1000) => {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(scale > 1 ? value >= 0 : value > 0))
    throw new TypeError(`sessionpulse: ${name} must be a ${scale > 1 ? "non-negative number of seconds" : "positive number of ms"}`);
  return value * scale;
};

/** The client's settings, checked once: durations in ms, the environment complete. */
export function readOptions(options: SessionClientOptions) {
  const given = options.env ?? {};
  const env: ClientEnv = {
    ...browserEnv(),
    // An env with its own clock (a test's fake time) measures intervals on it too, unless it brings a monotonic one.
    ...(given.now && { monotonic: given.now }),
    ...given,
    ...(options.fetch && { fetch: options.fetch }),
  };
  const basePath = (options.basePath ?? "/api/auth").replace(/\/+$/, "");
  if (!/^(\/|https?:\/\/)/.test(basePath) && basePath !== "")
    throw new TypeError(`sessionpulse: basePath must be a path starting with "/" or an http(s) URL, got ${JSON.stringify(options.basePath)}`);
  return {
    env,
    basePath,
    interval: duration(options.refetchInterval, "refetchInterval", 300_000),
    throttle: duration(options.focusThrottle, "focusThrottle", 5_000),
    // Capped so that it and the lock hold (timeout + 1 s) stay within setTimeout's range: `Infinity` means "no practical limit".
    timeout: Math.min(MAX_DELAY - 1_000, duration(options.timeout, "timeout", 10_000, 1)),
    refetchOnFocus: options.refetchOnWindowFocus !== false,
    refetchWhenOffline: options.refetchWhenOffline === true,
    crossTab: options.crossTab !== false && !!env.openTabLink,
    channelName: options.channelName ?? "sessionpulse",
    initialSession: options.initialSession,
  };
}

export type ClientConfig = ReturnType<typeof readOptions>;

import { CLOCK_TOLERANCE, MAX_CLOCK_SKEW } from "../clock-skew.js";
import type { ResolvedConfig } from "../config.js";

/** The times of a session that its lifetime rules read, in ms since epoch. */
export interface SessionTimes {
  /** Sign-in: the absolute lifetime counts from here. */
  signedInAt: number;
  /** When the session stops being accepted unless refreshed. */
  expires: number;
}

/**
 * The lifetime rules of every session, JWT or database, written once and in
 * milliseconds: idle expiry (`maxAge`), sliding (`updateAge`), the absolute
 * lifetime (`maxLifetime`) and how long a revocation must be remembered.
 */
export interface LifetimePolicy {
  /** The latest expiry a session refreshed at `now` may have: `maxAge` from now, never past its absolute lifetime. */
  expiryAt(now: number, signedInAt: number): number;
  /** Whether the absolute lifetime has run out at `now`. */
  lifetimeOver(now: number, signedInAt: number): boolean;
  /**
   * A session whose expiry is at most this is due to be extended at `now`
   * (its expiry was set `updateAge` or more ago). Stores take it as the
   * condition of their conditional write, so of concurrent requests one writes.
   */
  dueIfExpiresBy(now: number): number;
  /**
   * Whether a request at `now` should extend the session: `updateAge` has passed
   * since its expiry was last set, the extension would move it, and it has not
   * expired (a session past its expiry is never revived, even inside the clock
   * tolerance that lets other nodes still read it).
   */
  refreshDue(now: number, session: SessionTimes): boolean;
  /**
   * Until when a revocation of this session must be remembered: past every
   * expiry any copy of it can still reach (a copy refreshed just before the
   * revocation, on a node whose clock runs ahead) plus the tolerance nodes
   * allow on reading.
   */
  sessionDenyUntil(now: number, signedInAt: number): number;
  /** The same for "sign out everywhere": past every session of the user that exists now. */
  userDenyUntil(now: number): number;
}

export function lifetimePolicy(config: Pick<ResolvedConfig, "maxAge" | "updateAge" | "maxLifetime">): LifetimePolicy {
  const maxAge = config.maxAge * 1000;
  const updateAge = config.updateAge * 1000;
  const maxLifetime = config.maxLifetime === undefined ? Infinity : config.maxLifetime * 1000;
  const margin = (CLOCK_TOLERANCE + MAX_CLOCK_SKEW) * 1000;
  const expiryAt = (now: number, signedInAt: number) => Math.min(now + maxAge, signedInAt + maxLifetime);
  const dueIfExpiresBy = (now: number) => now + maxAge - updateAge;
  return {
    expiryAt,
    dueIfExpiresBy,
    lifetimeOver: (now, signedInAt) => now >= signedInAt + maxLifetime,
    // `updateAge: 0` refreshes on every request (Auth.js behaviour), even when the expiry would not move.
    refreshDue: (now, session) =>
      now < session.expires && session.expires <= dueIfExpiresBy(now) && (updateAge === 0 || expiryAt(now, session.signedInAt) > session.expires),
    sessionDenyUntil: (now, signedInAt) => expiryAt(now, signedInAt) + margin,
    userDenyUntil: (now) => now + Math.min(maxAge, maxLifetime) + margin,
  };
}

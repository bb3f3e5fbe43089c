/**
 * A stored database session. `id` is the SHA-256 (hex) of the cookie's secret
 * session token: a leaked table yields no usable cookie. Times are ms since epoch.
 */
export interface StoredSession {
  id: string;
  userId: string;
  /** The session's claims (user fields and whatever the `jwt` callback added), as JSON. */
  data: Record<string, unknown>;
  createdAt: number;
  /** When the expiry was last extended (or the data last changed). */
  updatedAt: number;
  expires: number;
  userAgent: string | null;
}

/**
 * Where database sessions and the JWT deny-list live. Every store passes the
 * shared conformance suite (`test/server/stores/conformance.ts`). Methods take
 * `now` from the handler's clock instead of reading one, so expiry is exact in
 * tests and consistent across servers.
 *
 * A method that cannot reach its backend throws (or rejects); the handler
 * turns that into `503 store_unavailable` and grants nothing.
 *
 * @example
 * ```ts
 * const auth = createSessionHandler({ secret, session: { strategy: "database" }, store: memoryStore() });
 * ```
 */
export interface Store {
  create(session: StoredSession): Promise<void>;
  /** The session, or null when absent or expired at `now` (an expired row may be deleted on the way). */
  get(id: string, now: number): Promise<StoredSession | null>;
  /**
   * Extends the expiry to `expires` only if the stored expiry is at most
   * `ifExpiresAtMost`, in one conditional write, so of many concurrent calls
   * for the same session exactly one writes and the expiry never goes back.
   * Returns whether this call wrote.
   */
  touch(id: string, expires: number, now: number, ifExpiresAtMost: number): Promise<boolean>;
  /** Replaces the session's data; false when the session no longer exists (a racing delete wins). */
  update(id: string, data: Record<string, unknown>, now: number): Promise<boolean>;
  delete(id: string): Promise<void>;
  /** Deletes every session of the user; returns how many. */
  deleteByUser(userId: string): Promise<number>;
  /** The user's sessions that have not expired at `now`, oldest first. */
  listByUser(userId: string, now: number): Promise<StoredSession[]>;
  /**
   * Adds `key` to the deny-list until `expires`; `revokedAt` records when. An
   * entry already there keeps the later of the two expiries: a revocation is
   * never shortened.
   */
  revokeToken(key: string, expires: number, revokedAt: number): Promise<void>;
  /**
   * The value stored for `key` (when it was revoked, or the generation that
   * {@link advanceGeneration} set), or null when it is not on the deny-list
   * (or its entry expired).
   */
  revokedAt(key: string, now: number): Promise<number | null>;
  /**
   * Moves the generation kept under `key` to `max(current + 1, floor)` in one
   * atomic step and returns it; the entry lives until the later of its expiry
   * and `expires`. "Sign out everywhere" is ordered by this value, which every
   * node reads from the same store, so no node's clock decides which sessions
   * it ends. (`floor`, the caller's time, only keeps the value rising after an
   * expired entry starts again from nothing.)
   */
  advanceGeneration(key: string, expires: number, floor: number): Promise<number>;
  /**
   * Keeps `value` under `key` until `expires` (the provider tokens of a session, a short lock). With
   * `onlyIfAbsent` it writes only when no live value is there (one that expired by `now` counts as absent),
   * in one atomic step, so of many concurrent callers across servers exactly one writes: a lock. Returns
   * whether this call wrote.
   */
  putValue(key: string, value: string, expires: number, now: number, onlyIfAbsent?: boolean): Promise<boolean>;
  /** The value kept under `key`, or null when absent or expired at `now`. */
  getValue(key: string, now: number): Promise<string | null>;
  deleteValue(key: string): Promise<void>;
  /** Deletes expired sessions, deny-list entries and values; returns how many rows went. */
  prune(now: number): Promise<number>;
  close(): Promise<void>;
  /**
   * Optional: loads what the store needs without connecting (its driver), rejecting with a
   * `StoreSetupError` that says what to install when it cannot. `createSessionHandler` calls it at once,
   * so a missing driver is in the log at start-up rather than found by the first sign-in.
   */
  prepare?(): Promise<void>;
}

/** Every method of {@link Store}: what `createSessionHandler` checks a store for, and what its guard wraps. */
export const STORE_METHODS = [
  "create",
  "get",
  "touch",
  "update",
  "delete",
  "deleteByUser",
  "listByUser",
  "revokeToken",
  "revokedAt",
  "advanceGeneration",
  "putValue",
  "getValue",
  "deleteValue",
  "prune",
  "close",
] as const satisfies readonly (keyof Store)[];

import { SessionServerError } from "../errors.js";
import type { Store } from "../stores/store.js";
import type { LifetimePolicy } from "./policy.js";

/** Deny-list key of a user's generation: "sign out everywhere" moves it forward. */
export const userRevocationKey = (userId: string) => `user:${userId}`;

/**
 * Revocation for every strategy, on the store (without one, nothing can be
 * revoked and nothing is ever found revoked: a JWT then lives until its `exp`).
 *
 * - One session ends by its ids (a session converted between strategies has
 *   one in each): they go on the deny-list, which every JWT copy is checked
 *   against, then the rows with those ids are deleted, which ends its
 *   database cookies.
 * - All of a user's sessions end by moving the user's generation forward in
 *   the store: a token carries the generation it was signed in under and is
 *   refused once the store's is past it. The store orders that, so no node's
 *   clock decides which sign-ins came before the revocation.
 *
 * The order of the writes is what lets a conversion that races a revocation
 * lose (see lifecycle.ts, which checks again after it writes).
 */
export interface Revocations {
  readonly enabled: boolean;
  /** Whether one of `ids` is on the deny-list, or the user's sessions signed in under `generation` were ended. */
  isRevoked(now: number, ids: readonly string[], userId: string | undefined, generation: number): Promise<boolean>;
  /** The user's current generation: what a session signed in now carries. 0 without a store. */
  generationOf(now: number, userId: string): Promise<number>;
  /** Ends one session, under each of its ids, wherever and however it is carried. */
  endSession(now: number, ids: readonly string[], signedInAt: number): Promise<void>;
  /** Ends every session of the user that exists now. Needs a store. */
  endUser(now: number, userId: string): Promise<void>;
}

export function createRevocations(store: Store | undefined, policy: LifetimePolicy): Revocations {
  if (!store) {
    return {
      enabled: false,
      isRevoked: async () => false,
      generationOf: async () => 0,
      endSession: async () => {},
      endUser: async () => {
        throw new SessionServerError("store_required", "revoking JWT sessions needs a `store` for the deny-list");
      },
    };
  }
  return {
    enabled: true,
    async isRevoked(now, ids, userId, generation) {
      const [current, ...denied] = await Promise.all([
        userId === undefined ? null : store.revokedAt(userRevocationKey(userId), now),
        ...ids.map((id) => store.revokedAt(id, now)),
      ]);
      return denied.some((entry) => entry !== null) || (current !== null && generation < current);
    },
    async generationOf(now, userId) {
      return (await store.revokedAt(userRevocationKey(userId), now)) ?? 0;
    },
    async endSession(now, ids, signedInAt) {
      // Deny first, then delete: a conversion that recreated a row in between finds the entry when it checks again.
      const until = policy.sessionDenyUntil(now, signedInAt);
      await Promise.all(ids.map((id) => store.revokeToken(id, until, now)));
      await Promise.all(ids.map((id) => store.delete(id)));
    },
    async endUser(now, userId) {
      // Rows, generation, rows. A database → JWT conversion reads the row, then the generation, then the row
      // again: finding it there means the first delete had not run, so it read the old generation. A JWT →
      // database conversion writes its row, then reads the generation: missing the new one means the second
      // delete comes after its row.
      await store.deleteByUser(userId);
      await store.advanceGeneration(userRevocationKey(userId), policy.userDenyUntil(now), now);
      await store.deleteByUser(userId);
    },
  };
}

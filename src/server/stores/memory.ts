import type { Store, StoredSession } from "./store.js";

/**
 * An in-process store: for tests, development and single-process servers that
 * can lose their sessions on restart. The reference every other store is
 * measured against by the conformance suite.
 *
 * @example
 * ```ts
 * const auth = createSessionHandler({ secret, session: { strategy: "database" }, store: memoryStore() });
 * ```
 */
export function memoryStore(): Store & { readonly size: number } {
  const sessions = new Map<string, StoredSession>();
  const denied = new Map<string, { expires: number; revokedAt: number }>();
  const values = new Map<string, { value: string; expires: number }>();
  const copy = (session: StoredSession): StoredSession => structuredClone(session);

  function live(id: string, now: number): StoredSession | undefined {
    const session = sessions.get(id);
    if (session && session.expires <= now) {
      sessions.delete(id);
      return undefined;
    }
    return session;
  }

  return {
    get size() {
      return sessions.size;
    },
    async create(session) {
      sessions.set(session.id, copy(session));
    },
    async get(id, now) {
      const session = live(id, now);
      return session ? copy(session) : null;
    },
    async touch(id, expires, now, ifExpiresAtMost) {
      const session = live(id, now);
      if (!session || session.expires > ifExpiresAtMost) return false;
      session.expires = expires;
      session.updatedAt = now;
      return true;
    },
    async update(id, data, now) {
      const session = live(id, now);
      if (!session) return false;
      session.data = structuredClone(data);
      session.updatedAt = now;
      return true;
    },
    async delete(id) {
      sessions.delete(id);
    },
    async deleteByUser(userId) {
      let count = 0;
      for (const [id, session] of sessions) if (session.userId === userId && sessions.delete(id)) count++;
      return count;
    },
    async listByUser(userId, now) {
      return [...sessions.keys()]
        .map((id) => live(id, now))
        .filter((session): session is StoredSession => session?.userId === userId)
        .sort((a, b) => a.createdAt - b.createdAt)
        .map(copy);
    },
    async revokeToken(key, expires, revokedAt) {
      const entry = denied.get(key);
      denied.set(key, { expires: Math.max(expires, entry?.expires ?? -Infinity), revokedAt });
    },
    async revokedAt(key, now) {
      const entry = denied.get(key);
      if (!entry || entry.expires <= now) return null;
      return entry.revokedAt;
    },
    async advanceGeneration(key, expires, floor) {
      const entry = denied.get(key);
      const live = entry && entry.expires > floor ? entry : undefined;
      const generation = Math.max((live?.revokedAt ?? 0) + 1, floor);
      denied.set(key, { expires: Math.max(expires, live?.expires ?? -Infinity), revokedAt: generation });
      return generation;
    },
    async putValue(key, value, expires, now, onlyIfAbsent = false) {
      const entry = values.get(key);
      if (onlyIfAbsent && entry && entry.expires > now) return false;
      values.set(key, { value, expires });
      return true;
    },
    async getValue(key, now) {
      const entry = values.get(key);
      return entry && entry.expires > now ? entry.value : null;
    },
    async deleteValue(key) {
      values.delete(key);
    },
    async prune(now) {
      let count = 0;
      for (const [key, entry] of values) if (entry.expires <= now && values.delete(key)) count++;
      for (const [id, session] of sessions) if (session.expires <= now && sessions.delete(id)) count++;
      for (const [key, entry] of denied) if (entry.expires <= now && denied.delete(key)) count++;
      return count;
    },
    async close() {
      sessions.clear();
      denied.clear();
      values.clear();
    },
  };
}

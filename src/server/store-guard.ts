import { SessionServerError } from "./errors.js";
import type { Store } from "./store.js";

/**
 * The store as the handler uses it: every call bounded by `timeoutMs` and every
 * failure turned into `store_unavailable` (503), so a store that is down or
 * hanging fails closed, fast, and the handler serves again once it is back.
 */
export function guardStore(store: Store, timeoutMs: number): Store {
  const guarded = {} as Store;
  for (const method of ["create", "get", "touch", "update", "delete", "deleteByUser", "listByUser", "revokeToken", "revokedAt", "prune", "close"] as const) {
    (guarded as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`store.${method} took over ${timeoutMs} ms`)), timeoutMs);
      });
      const call = Promise.resolve().then(() => (store[method] as (...a: unknown[]) => Promise<unknown>)(...args));
      return Promise.race([call, timeout])
        .catch((cause) => {
          throw new SessionServerError("store_unavailable", "the session store is unavailable", { cause });
        })
        .finally(() => clearTimeout(timer));
    };
  }
  return guarded;
}

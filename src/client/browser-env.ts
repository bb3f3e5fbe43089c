import { broadcastChannelLink } from "./broadcast-tab-link.js";
import type { ClientEnv } from "./env.js";

// Globals are read when a source is used, never at import, so the client loads
// in Node, workers and server rendering without a DOM.
const doc = (): Document | undefined => (typeof document === "undefined" ? undefined : document);
const win = (): Window | undefined => (typeof window === "undefined" ? undefined : window);
const isVisible = () => doc()?.visibilityState !== "hidden";

function listen(target: EventTarget | undefined, types: string[], listener: () => void): () => void {
  types.forEach((type) => target?.addEventListener(type, listener));
  return () => types.forEach((type) => target?.removeEventListener(type, listener));
}

/**
 * The browser's sources: `visibilitychange` and window `focus` for focus,
 * `online`/`offline`, `fetch`, Web Locks, and the `broadcast-channel` package
 * for tab messaging and leader election (on Web Locks where the browser has them).
 */
export function browserEnv(): ClientEnv {
  return {
    now: () => Date.now(),
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    random: Math.random,
    fetch: (input, init) => fetch(input, init),
    isVisible,
    onFocus(listener) {
      const stopDoc = listen(doc(), ["visibilitychange"], () => isVisible() && listener());
      const stopWin = listen(win(), ["focus"], listener);
      return () => (stopDoc(), stopWin());
    },
    isOnline: () => typeof navigator === "undefined" || navigator.onLine !== false,
    onOnline(listener) {
      const stopOnline = listen(win(), ["online"], () => listener(true));
      const stopOffline = listen(win(), ["offline"], () => listener(false));
      return () => (stopOnline(), stopOffline());
    },
    navigate: (url) => win()?.location.assign(url),
    href: () => win()?.location.href,
    openTabLink: typeof window === "undefined" ? undefined : broadcastChannelLink,
    withLock(name, maxHoldMs, task) {
      const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
      if (!locks) return task();
      return locks.request(name, () => {
        const result = task();
        let timer: ReturnType<typeof setTimeout> | undefined;
        // Release the lock after maxHoldMs even if the task hangs; the caller still gets its result.
        return Promise.race([result.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, maxHoldMs)))]).then(
          () => (clearTimeout(timer), result),
        );
      });
    },
  };
}

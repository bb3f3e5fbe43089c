import type { ClientEnv, TabLink } from "./env.js";
import { nativeTabLink } from "./native-tab-link.js";
import { packageTabLink } from "./package-tab-link.js";

// Globals are read when a source is used, never at import, so the client loads
// in Node, workers and server rendering without a DOM.
const doc = (): Document | undefined => (typeof document === "undefined" ? undefined : document);
const win = (): Window | undefined => (typeof window === "undefined" ? undefined : window);
const locks = (): LockManager | undefined => (typeof navigator === "undefined" ? undefined : navigator.locks);
const isVisible = () => doc()?.visibilityState !== "hidden";

function listen(target: EventTarget | undefined, types: string[], listener: () => void): () => void {
  types.forEach((type) => target?.addEventListener(type, listener));
  return () => types.forEach((type) => target?.removeEventListener(type, listener));
}

/** Releases a lock after `maxHoldMs` even if `task` hangs; the caller still gets the task's result. */
function bounded<T>(task: () => Promise<T>, maxHoldMs: number): Promise<T> {
  const result = task();
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([result.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, maxHoldMs)))]).then(() => (clearTimeout(timer), result));
}

/**
 * The tab link wherever the host has one: native BroadcastChannel with Web
 * Locks (every current browser, workers, Deno, Node ≥ 24), else the
 * `broadcast-channel` package (loaded on demand) in a page without them.
 */
function openTabLink(name: string): TabLink {
  const lockManager = locks();
  return typeof BroadcastChannel === "function" && lockManager ? nativeTabLink(name, lockManager) : packageTabLink(name);
}

/**
 * The browser's sources: `visibilitychange` and window `focus` for focus,
 * `online`/`offline`, `fetch`, `performance.now()`, Web Locks, and a tab link
 * (see `openTabLink`) wherever the host can talk to other tabs or workers.
 */
export function browserEnv(): ClientEnv {
  const hasLink = typeof BroadcastChannel === "function" || typeof window !== "undefined";
  return {
    now: () => Date.now(),
    monotonic: typeof performance === "undefined" ? () => Date.now() : () => performance.now(),
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
    openTabLink: hasLink ? openTabLink : undefined,
    withLock(name, maxHoldMs, task) {
      const lockManager = locks();
      return lockManager ? lockManager.request(name, () => bounded(task, maxHoldMs)) : task();
    },
    async tryLock(name, maxHoldMs, task) {
      const lockManager = locks();
      if (!lockManager) return (await task(), true);
      return lockManager.request(name, { ifAvailable: true }, (lock) => (lock ? bounded(task, maxHoldMs).then(() => true) : false));
    },
  };
}

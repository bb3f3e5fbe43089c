import type { ClientEnv } from "./env.js";

// Globals are read when a source is used, never at import, so the client loads
// in Node, workers and server rendering without a DOM.
const doc = (): Document | undefined => (typeof document === "undefined" ? undefined : document);
const win = (): Window | undefined => (typeof window === "undefined" ? undefined : window);
const isVisible = () => doc()?.visibilityState !== "hidden";
/** The cross-tab sources, loaded once the client links to the other tabs (only linked tabs take the locks). */
const tabs = () => import("./browser-tabs.js");

function listen(target: EventTarget | undefined, types: string[], listener: () => void): () => void {
  types.forEach((type) => target?.addEventListener(type, listener));
  return () => types.forEach((type) => target?.removeEventListener(type, listener));
}

/**
 * The browser's sources: `visibilitychange` and window `focus` for focus,
 * `online`/`offline`, `fetch`, `performance.now()`, Web Locks, and a tab link
 * wherever the host can talk to other tabs or workers (native BroadcastChannel
 * with Web Locks, else the `broadcast-channel` package, each loaded on demand).
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
    openTabLink: hasLink ? (name) => tabs().then((loaded) => loaded.openTabLink(name)) : undefined,
    withLock: (name, maxHoldMs, task) => tabs().then((loaded) => loaded.withLock(name, maxHoldMs, task)),
    tryLock: (name, maxHoldMs, task) => tabs().then((loaded) => loaded.tryLock(name, maxHoldMs, task)),
  };
}

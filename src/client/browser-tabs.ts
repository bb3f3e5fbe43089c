import type { TabLink } from "./env.js";
import { nativeTabLink } from "./native-tab-link.js";

// The browser's cross-tab sources, a chunk of its own: a page loads it once it links to the other tabs, and
// the locks below are only ever taken by a linked tab (see `browserEnv`).

const locks = (): LockManager | undefined => (typeof navigator === "undefined" ? undefined : navigator.locks);

/** Releases a lock after `maxHoldMs` even if `task` hangs; the caller still gets the task's result. */
function bounded<T>(task: () => Promise<T>, maxHoldMs: number): Promise<T> {
  const result = task();
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([result.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, maxHoldMs)))]).then(() => (clearTimeout(timer), result));
}

/**
 * The tab link wherever the host has one: native BroadcastChannel with Web
 * Locks (every current browser, workers, Deno, Node ≥ 24), else the
 * `broadcast-channel` package, loaded only in a page without them.
 */
export function openTabLink(name: string): TabLink | Promise<TabLink> {
  const lockManager = locks();
  if (typeof BroadcastChannel === "function" && lockManager) return nativeTabLink(name, lockManager);
  return import("./broadcast-tab-link.js").then(({ broadcastChannelLink }) => broadcastChannelLink(name));
}

export function withLock<T>(name: string, maxHoldMs: number, task: () => Promise<T>): Promise<T> {
  const lockManager = locks();
  return lockManager ? lockManager.request(name, () => bounded(task, maxHoldMs)) : task();
}

export async function tryLock(name: string, maxHoldMs: number, task: () => Promise<void>): Promise<boolean> {
  const lockManager = locks();
  if (!lockManager) return (await task(), true);
  return lockManager.request(name, { ifAvailable: true }, (lock) => (lock ? bounded(task, maxHoldMs).then(() => true) : false));
}

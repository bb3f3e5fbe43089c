import type { TabLink } from "./env.js";

/**
 * Tab messaging on the platform's own `BroadcastChannel` and leader election
 * on Web Locks: the leader holds `<name>:leader` for as long as it lives, so a
 * closed or crashed tab hands over as soon as the browser releases its lock.
 * Works in every current browser, in workers, Deno and Node ≥ 24.
 */
export function nativeTabLink(name: string, locks: LockManager): TabLink {
  const channel = new BroadcastChannel(name);
  const abort = new AbortController();
  let release: (() => void) | undefined;
  let closed = false;
  return {
    post(message) {
      try {
        channel.postMessage(message);
      } catch {
        // A closed channel or an uncloneable value: the other tabs converge at their next sync.
      }
    },
    onMessage(listener) {
      // Whatever arrives (null, strings, foreign shapes) goes to the caller's validation, never to a property access here.
      channel.onmessage = (event: MessageEvent) => listener(event.data);
    },
    onLeadership(listener) {
      locks
        .request(`${name}:leader`, { signal: abort.signal }, () => {
          if (closed) return;
          listener(true);
          return new Promise<void>((resolve) => (release = resolve));
        })
        .catch(() => {}); // aborted by close()
    },
    close() {
      closed = true;
      abort.abort();
      release?.();
      channel.close();
    },
  };
}

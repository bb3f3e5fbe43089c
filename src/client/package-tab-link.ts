import type { TabLink } from "./env.js";

/**
 * The `broadcast-channel` package, for the few hosts without native
 * BroadcastChannel and Web Locks: loaded on first use by a dynamic import,
 * so browsers that have both never download it. Messages posted before it
 * loads are sent once it has.
 */
export function packageTabLink(name: string): TabLink {
  let link: TabLink | undefined;
  let closed = false;
  const queued: unknown[] = [];
  let onMessage: ((message: unknown) => void) | undefined;
  let onLeadership: ((isLeader: boolean) => void) | undefined;
  void import("./broadcast-tab-link.js").then(
    ({ broadcastChannelLink }) => {
      if (closed) return;
      link = broadcastChannelLink(name);
      if (onMessage) link.onMessage(onMessage);
      if (onLeadership) link.onLeadership(onLeadership);
      queued.splice(0).forEach((message) => link!.post(message));
    },
    // Failed to load (offline, blocked chunk): this tab leads itself rather than never polling.
    () => !closed && onLeadership?.(true),
  );
  return {
    post: (message) => (link ? link.post(message) : void queued.push(message)),
    onMessage(listener) {
      onMessage = listener;
      link?.onMessage(listener);
    },
    onLeadership(listener) {
      onLeadership = listener;
      link?.onLeadership(listener);
    },
    close() {
      closed = true;
      link?.close();
    },
  };
}

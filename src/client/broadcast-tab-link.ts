import { BroadcastChannel, createLeaderElection } from "broadcast-channel";
import type { TabLink } from "./env.js";

/**
 * Tab messaging and leader election through the `broadcast-channel` package:
 * native BroadcastChannel where present (localStorage otherwise, never
 * IndexedDB, whose 60 ms+ latency would defeat instant sync), and an election
 * that holds a Web Lock where the browser has them, so a closed leader tab
 * hands over within milliseconds.
 */
export function broadcastChannelLink(name: string): TabLink {
  const channel = new BroadcastChannel(name, { webWorkerSupport: false });
  const elector = createLeaderElection(channel, { fallbackInterval: 1000, responseTime: 200 });
  let closed = false;
  return {
    post: (message) => void channel.postMessage(message).catch(() => {}),
    onMessage: (listener) => void (channel.onmessage = (message: unknown) => listener(message)),
    onLeadership(listener) {
      elector.awaitLeadership().then(
        () => !closed && listener(true),
        () => {},
      );
      // Two leaders (possible in the fallback election under load): step down; the other keeps polling.
      elector.onduplicate = () => !closed && listener(false);
    },
    close() {
      closed = true;
      void elector.die().finally(() => channel.close());
    },
  };
}

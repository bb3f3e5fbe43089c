import type { ClientEnv } from "../../src/client/env.ts";
import { createFakeServer } from "./fake-server.ts";
import { createFakeTime } from "./fake-time.ts";
import { createPageSignals } from "./simulated-browser.ts";

/**
 * Client sources for one tab alone, every one a fake: fake clock and timers, a
 * fake server, page signals driven by the test, and a tab link that makes this
 * tab the leader and counts how often it is opened and closed. Nothing real runs.
 */
export function createFakeEnv() {
  const time = createFakeTime();
  const server = createFakeServer(time);
  const { page, env: pageEnv } = createPageSignals();
  const links = { opened: 0, closed: 0 };
  const env: Partial<ClientEnv> = {
    now: time.now,
    setTimeout: time.setTimeout,
    clearTimeout: time.clearTimeout,
    random: () => 0.5,
    fetch: server.fetchFor("tab"),
    ...pageEnv,
    openTabLink: () => {
      links.opened++;
      return { post() {}, onMessage() {}, onLeadership: (listener) => listener(true), close: () => void links.closed++ };
    },
    withLock: (_name, _ms, task) => task(),
  };
  return { time, server, page, env, links };
}

import type { ClientEnv } from "../../src/client/env.ts";
import type { SessionClient, SessionClientOptions } from "../../src/client/types.ts";
import { createFakeServer } from "./fake-server.ts";
import { createFakeTime, type FakeTime } from "./fake-time.ts";
import { createTabHub } from "./tab-hub.ts";
// The client loads its write side on the first sign-in, sign-out or update, and its tab protocol when it links to
// the other tabs (dynamic imports). Loaded here once, so those imports resolve within a few ticks instead of the
// module transform's real milliseconds, which simulated time cannot wait for. The lazy loads themselves are tested
// in lazy-write-side.test.ts, lazy-tab-protocol.test.ts and in real Chromium.
import "../../src/client/operations.ts";
import "../../src/client/tab-protocol.ts";

/** Page signals of one simulated tab, driven by the test. */
export function createPageSignals() {
  const focusListeners = new Set<() => void>();
  const onlineListeners = new Set<(online: boolean) => void>();
  const page = {
    visible: true,
    online: true,
    navigations: [] as string[],
    focus() {
      page.visible = true;
      focusListeners.forEach((listener) => listener());
    },
    hide() {
      page.visible = false;
    },
    setOnline(online: boolean) {
      page.online = online;
      onlineListeners.forEach((listener) => listener(online));
    },
    get listenerCount() {
      return focusListeners.size + onlineListeners.size;
    },
  };
  const env: Pick<ClientEnv, "isVisible" | "onFocus" | "isOnline" | "onOnline" | "navigate" | "href"> = {
    isVisible: () => page.visible,
    onFocus: (listener) => (focusListeners.add(listener), () => focusListeners.delete(listener)),
    isOnline: () => page.online,
    onOnline: (listener) => (onlineListeners.add(listener), () => onlineListeners.delete(listener)),
    navigate: (url) => page.navigations.push(url),
    href: () => "http://localhost/current",
  };
  return { page, env };
}

function timeEnv(time: FakeTime, seed: number): Pick<ClientEnv, "now" | "monotonic" | "setTimeout" | "clearTimeout" | "random"> {
  let state = seed;
  return {
    now: time.now,
    // Each tab's monotonic clock has its own origin, as performance.now() does.
    monotonic: () => time.now() - seed * 1000,
    setTimeout: time.setTimeout,
    clearTimeout: time.clearTimeout,
    // A small deterministic generator, so jitter is reproducible.
    random: () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31,
  };
}

export interface SimulatedBrowserOptions {
  /** Round trip to the server, ms. */
  latency?: number;
  /** Session lifetime the server grants, seconds. */
  maxAge?: number;
  /** How far the server's clock is behind real time, ms. */
  skew?: number;
  /** How far the tabs' clock is ahead of real time, ms. */
  clientSkew?: number;
  /** How long the lead stays with a dead tab, ms. */
  crashDetectMs?: number;
  /** How long a channel message takes to reach the other tabs, ms (0: before any timer, as on a quiet machine). */
  messageDelayMs?: number;
  /** How long the first leader election takes, ms (0: at once). */
  electionDelayMs?: number;
}

/**
 * A browser whose tabs are session clients linked through an in-memory
 * channel, sharing one fake server and one fake clock. Takes the client
 * factory so benchmarks can drive the built package and tests the source.
 */
export function simulatedBrowser(
  createSessionClient: (options: SessionClientOptions) => SessionClient,
  { latency = 20, maxAge = 3600, skew = 0, clientSkew = 0, crashDetectMs = 1000, messageDelayMs = 0, electionDelayMs = 0 }: SimulatedBrowserOptions = {},
) {
  const time = createFakeTime();
  const server = createFakeServer(time, { latency, maxAge, skew });
  const hub = createTabHub(time, { crashDetectMs, messageDelayMs, electionDelayMs });
  let count = 0;

  function openTab(options: SessionClientOptions = {}, name = `tab${++count}`) {
    const { page, env: pageEnv } = createPageSignals();
    const clock = timeEnv(time, count * 7919);
    let dead = false;
    /** Callbacks held back while the tab's JavaScript is paused (a debugger, a busy main thread). */
    let paused: Array<() => void> | undefined;
    const fetch = server.fetchFor(name);
    const wall = { skew: clientSkew };
    const hubEnv = hub.env(name);
    const env: Partial<ClientEnv> = {
      ...clock,
      // A dead tab's timers never fire and it sends nothing, as when its process is killed; a paused one's fire on resume.
      setTimeout: (run, ms) => clock.setTimeout(() => !dead && (paused ? paused.push(run) : run()), ms),
      now: () => time.now() + wall.skew,
      ...pageEnv,
      ...hubEnv,
      fetch: (input, init) => (dead ? new Promise(() => {}) : fetch(input, init)),
    };
    // Messages to a paused tab wait for it to resume.
    env.openTabLink = (channel) => {
      const link = hubEnv.openTabLink(channel);
      return { ...link, onMessage: (listener) => link.onMessage((message) => (paused ? paused.push(() => listener(message)) : listener(message))) };
    };
    const client = createSessionClient({ basePath: "http://localhost/api/auth", ...options, env: { ...env, ...options.env } });
    const unsubscribe = client.subscribe(() => {});
    const kill = () => {
      dead = true;
      hub.crash(name);
    };
    return {
      name,
      client,
      page,
      unsubscribe,
      kill,
      /** Pauses the tab's JavaScript: it keeps its leadership and locks, runs nothing. */
      pause: () => void (paused ??= []),
      resume() {
        const due = paused ?? [];
        paused = undefined;
        due.forEach((run) => run());
      },
      /** Sets this tab's wall clock (Date.now) off by `ms`; its monotonic clock goes on. */
      setClockSkew: (ms: number) => void (wall.skew = ms),
    };
  }

  return { time, server, hub, openTab };
}

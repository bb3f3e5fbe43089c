/**
 * What the playground adds around the client: a name for this tab, a
 * timeline of what it does, and instrumented versions of the client's `env`
 * sources (fetch, tab link, online) that record into the timeline. The client
 * itself is the unmodified `sessionpulse` build.
 */
import { browserEnv, type ClientEnv, type SessionClient, type SessionStatus, type TabLink } from "sessionpulse";

// ---------------------------------------------------------------------------
// Tab identity: "Tab 1", "Tab 2", … numbered per browser, kept across reloads.

function tabNumber(): number {
  try {
    const kept = Number(sessionStorage.getItem("playground:tab"));
    if (kept > 0) return kept;
    const next = Number(localStorage.getItem("playground:tabs") ?? 0) + 1;
    localStorage.setItem("playground:tabs", String(next));
    sessionStorage.setItem("playground:tab", String(next));
    return next;
  } catch {
    return Math.floor(Math.random() * 90) + 10;
  }
}

export const TAB = (() => {
  const number = tabNumber();
  return { number, label: `Tab ${number}`, hue: (number * 67 + 200) % 360 };
})();

/** What the page exposes on `window.__playground` (main.tsx), for the end-to-end tests, the benchmark and the curious. */
export interface PlaygroundGlobal {
  client: SessionClient;
  tab: typeof TAB;
  /** When this tab showed each status, on a clock the tabs share (`preciseNow`). */
  transitions: Array<{ status: SessionStatus; at: number }>;
}

/** Settings from the URL, e.g. `?poll=2&throttle=1` (seconds). */
export function numberParam(name: string, fallback: number): number {
  const raw = new URLSearchParams(location.search).get(name);
  const value = raw === null ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** Milliseconds on a clock every tab of the machine shares (for cross-tab latencies). */
export const preciseNow = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------
// Timeline

export type EntryKind = "request" | "sent" | "received" | "focus" | "network" | "leader" | "state" | "error";

export interface Entry {
  id: number;
  at: number;
  kind: EntryKind;
  title: string;
  detail?: string;
  /** Colours an entry red or amber. */
  tone?: "bad" | "warn" | "good";
}

const MAX_ENTRIES = 300;

function createTimeline() {
  let entries: Entry[] = [];
  let nextId = 1;
  const listeners = new Set<() => void>();
  const counters = { sessionRequests: 0, sent: 0, received: 0 };
  return {
    counters,
    add(kind: EntryKind, title: string, detail?: string, tone?: Entry["tone"]) {
      entries = [{ id: nextId++, at: Date.now(), kind, title, detail, tone }, ...entries].slice(0, MAX_ENTRIES);
      listeners.forEach((listener) => listener());
    },
    clear: () => {
      entries = [];
      listeners.forEach((listener) => listener());
    },
    get: () => entries,
    subscribe: (listener: () => void) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

export const timeline = createTimeline();

// ---------------------------------------------------------------------------
// Last sync: when the session last came from the server, and through whom.

export interface LastSync {
  at: number;
  by: string;
}
let lastSync: LastSync | null = null;
const syncListeners = new Set<() => void>();
function noteSync(by: string) {
  lastSync = { at: Date.now(), by };
  syncListeners.forEach((listener) => listener());
}
export const syncStore = {
  get: () => lastSync,
  subscribe: (listener: () => void) => {
    syncListeners.add(listener);
    return () => void syncListeners.delete(listener);
  },
};

// ---------------------------------------------------------------------------
// The other tabs of this browser, as they announce themselves on a channel of
// the playground's own (the session channel is the library's business).

export interface TabInfo {
  label: string;
  number: number;
  hue: number;
  isLeader: boolean;
  status: string;
  isStale: boolean;
  visible: boolean;
  sessionRequests: number;
  seen: number;
}

type PlaygroundMessage =
  | { kind: "presence"; tab: Omit<TabInfo, "seen"> }
  | { kind: "roll-call" }
  | { kind: "bye"; label: string }
  | { kind: "demo-changed" }
  | { kind: "offline"; offline: boolean };

const playgroundChannel = typeof BroadcastChannel === "undefined" ? undefined : new BroadcastChannel("sessionpulse-playground");
const tabs = new Map<string, TabInfo>();
let tabsSnapshot: TabInfo[] = [];
const tabListeners = new Set<() => void>();
let self: Omit<TabInfo, "seen"> = { ...TAB, isLeader: false, status: "loading", isStale: false, visible: true, sessionRequests: 0 };
const demoListeners = new Set<() => void>();

function publishTabs() {
  const now = Date.now();
  for (const [label, info] of tabs) if (now - info.seen > (info.visible ? 15_000 : 90_000)) tabs.delete(label);
  tabsSnapshot = [{ ...self, seen: now }, ...tabs.values()].sort((a, b) => a.number - b.number);
  tabListeners.forEach((listener) => listener());
}

const announce = () => playgroundChannel?.postMessage({ kind: "presence", tab: self } satisfies PlaygroundMessage);

export const tabsStore = {
  get: () => tabsSnapshot,
  subscribe: (listener: () => void) => {
    tabListeners.add(listener);
    return () => void tabListeners.delete(listener);
  },
  /** Updates what this tab tells the others about itself. */
  update(patch: Partial<Omit<TabInfo, "seen">>) {
    const next = { ...self, ...patch };
    if ((Object.keys(next) as Array<keyof typeof next>).every((key) => next[key] === self[key])) return;
    self = next;
    announce();
    publishTabs();
  },
};

/** Tells the other tabs that a server-side demo switch changed; `poke` only this tab (a 503 came or went). */
export const demoEvents = {
  changed: () => playgroundChannel?.postMessage({ kind: "demo-changed" } satisfies PlaygroundMessage),
  poke: () => demoListeners.forEach((listener) => listener()),
  subscribe: (listener: () => void) => {
    demoListeners.add(listener);
    return () => void demoListeners.delete(listener);
  },
};

// ---------------------------------------------------------------------------
// Simulated offline: browser-wide, like a real network loss (every tab goes
// offline), remembered in localStorage so tabs opened meanwhile start offline.

let simulatedOffline = (() => {
  try {
    return localStorage.getItem("playground:offline") === "1";
  } catch {
    return false;
  }
})();
const onlineListeners = new Set<(online: boolean) => void>();
const offlineListeners = new Set<() => void>();

function applyOffline(offline: boolean, origin: "here" | "other tab") {
  if (offline === simulatedOffline) return;
  simulatedOffline = offline;
  timeline.add(
    "network",
    offline ? "Offline (simulated)" : "Back online (simulated)",
    origin === "here" ? "switched in this tab" : "switched in another tab",
    offline ? "warn" : "good",
  );
  onlineListeners.forEach((listener) => listener(!offline && navigator.onLine !== false));
  offlineListeners.forEach((listener) => listener());
}

export const offlineSwitch = {
  get: () => simulatedOffline,
  set(offline: boolean) {
    try {
      localStorage.setItem("playground:offline", offline ? "1" : "0");
    } catch {
      // Storage refused (private mode, quota): the switch still works in this tab.
    }
    playgroundChannel?.postMessage({ kind: "offline", offline } satisfies PlaygroundMessage);
    applyOffline(offline, "here");
  },
  subscribe: (listener: () => void) => {
    offlineListeners.add(listener);
    return () => void offlineListeners.delete(listener);
  },
};

if (playgroundChannel) {
  playgroundChannel.onmessage = ({ data }: MessageEvent<PlaygroundMessage>) => {
    if (data.kind === "presence") {
      tabs.set(data.tab.label, { ...data.tab, seen: Date.now() });
      publishTabs();
    } else if (data.kind === "roll-call") announce();
    else if (data.kind === "bye") {
      tabs.delete(data.label);
      publishTabs();
    } else if (data.kind === "demo-changed") demoListeners.forEach((listener) => listener());
    else if (data.kind === "offline") applyOffline(data.offline, "other tab");
  };
  playgroundChannel.postMessage({ kind: "roll-call" } satisfies PlaygroundMessage);
  announce();
  setInterval(() => (announce(), publishTabs()), 5_000);
  addEventListener("pagehide", () => playgroundChannel.postMessage({ kind: "bye", label: TAB.label } satisfies PlaygroundMessage));
}
publishTabs();

// ---------------------------------------------------------------------------
// Focus and visibility, as the timeline shows them

addEventListener("focus", () => timeline.add("focus", "Window focused"));
addEventListener("blur", () => timeline.add("focus", "Window lost focus"));
document.addEventListener("visibilitychange", () => {
  const visible = document.visibilityState !== "hidden";
  timeline.add("focus", visible ? "Tab became visible" : "Tab hidden");
  tabsStore.update({ visible });
});
addEventListener("online", () => timeline.add("network", "Browser online", undefined, "good"));
addEventListener("offline", () => timeline.add("network", "Browser offline", undefined, "warn"));

// ---------------------------------------------------------------------------
// The client's env, instrumented

let lastSessionFailed = false;
const pathOf = (input: string) => new URL(input, location.href).pathname.replace(/^\/api\/auth/, "");

function describeSession(session: unknown): string {
  if (session === null) return "signed out";
  const user: unknown = typeof session === "object" && session !== null && "user" in session ? session.user : undefined;
  const name: unknown = typeof user === "object" && user !== null && "name" in user ? user.name : undefined;
  return typeof name === "string" && name ? `as ${name}` : "session";
}

function describeMessage(message: unknown): { title: string; detail?: string } {
  const m = message as { type?: string; reason?: string; session?: unknown; code?: string } | null;
  if (m?.type === "hello") return { title: "hello", detail: "a new tab asks the others for the session" };
  if (m?.type === "state") return { title: `session · ${m.reason}`, detail: describeSession(m.session) };
  if (m?.type === "poll") return { title: "poll", detail: "the leader is asking the server" };
  if (m?.type === "failure") return { title: "failure", detail: `the leader's read failed (${m.code})` };
  return { title: "unknown message" };
}

/**
 * `fetch` that tags requests with this tab's name (the demo server counts by
 * it) and records them. `by`: the client's own requests, or the page's
 * (session list, revocation).
 */
export async function trackedFetch(input: string, init: RequestInit = {}, by: "client" | "page" = "page"): Promise<Response> {
  const method = (init.method ?? "GET").toUpperCase();
  const path = pathOf(input);
  const started = performance.now();
  const headers = new Headers(init.headers);
  headers.set("x-playground-tab", TAB.label);
  if (path === "/session" && method === "GET") {
    timeline.counters.sessionRequests++;
    tabsStore.update({ sessionRequests: timeline.counters.sessionRequests });
  }
  try {
    if (simulatedOffline) throw new TypeError("Failed to fetch (simulated offline)");
    const response = await fetch(input, { ...init, headers });
    const ms = Math.round(performance.now() - started);
    const bad = response.status >= 400 && !(path === "/callback/credentials" && response.status === 401);
    const detail = `${response.status} · ${ms} ms${by === "page" ? " · the page's own call" : ""}`;
    timeline.add("request", `${method} ${path}`, detail, response.status >= 500 ? "bad" : bad ? "warn" : undefined);
    if (path === "/session" && response.ok) noteSync("this tab");
    // The outage switch may have been flipped elsewhere: look at the demo state when it starts or ends.
    if (path === "/session" && (response.status === 503) !== lastSessionFailed) {
      lastSessionFailed = response.status === 503;
      demoEvents.poke();
    }
    return response;
  } catch (error) {
    timeline.add("request", `${method} ${path}`, `failed · ${(error as Error).message}`, "bad");
    throw error;
  }
}

/** The default browser sources, with fetch, online state and the tab link recorded. */
export function instrumentedEnv(): Partial<ClientEnv> {
  const base = browserEnv();
  return {
    fetch: (input, init) => trackedFetch(input, init, "client"),
    isOnline: () => !simulatedOffline && base.isOnline(),
    onOnline(listener) {
      const stopBrowser = base.onOnline((online) => listener(online && !simulatedOffline));
      onlineListeners.add(listener);
      return () => {
        stopBrowser();
        onlineListeners.delete(listener);
      };
    },
    async openTabLink(name): Promise<TabLink> {
      const link = await base.openTabLink!(name);
      return {
        // The message first, then the page's own bookkeeping (which re-renders
        // this page), so the other tabs and this client get it without waiting on that.
        post(message) {
          // The demo adds the sending tab's label, so the others' timelines can name it (the client ignores the field).
          link.post({ ...(message as object), sender: TAB.label });
          timeline.counters.sent++;
          const { title, detail } = describeMessage(message);
          timeline.add("sent", `Sent ${title}`, detail);
        },
        onMessage(listener) {
          link.onMessage((message) => {
            listener(message);
            timeline.counters.received++;
            const { title, detail } = describeMessage(message);
            const sender = (message as { sender?: unknown } | null)?.sender;
            const from = typeof sender === "string" ? sender : "another tab";
            timeline.add("received", `Received ${title}`, `from ${from}${detail ? ` · ${detail}` : ""}`);
            if ((message as { type?: string } | null)?.type === "state") noteSync(from);
          });
        },
        onLeadership: (listener) => link.onLeadership(listener),
        close: () => link.close(),
      };
    },
  };
}

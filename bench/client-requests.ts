/**
 * Client benchmark: `GET /session` requests made by N tabs of one browser in
 * one simulated hour, for sessionpulse (the built `dist/index.js`) and for
 * next-auth v4's React client (`next-auth/react` 4.24.15), driven through the
 * same scenario in the same run.
 *
 * Run: `npm run build && npm run bench:client-requests` (Node 26 runs this file
 * by type stripping). next-auth and its peers live in `bench/peers/` (their
 * own package.json and lock; `.npmrc` keeps `next` out); when
 * `bench/peers/node_modules` is missing this script runs
 * `npm ci --prefix bench/peers` first. Knob: BENCH_TABS (default "1,5,10,20").
 *
 * Scenario, identical for both libraries (all times simulated):
 * - Signed in at t=0; tab i (0-based) opens at 1 s + i·(60 s / N) with the
 *   server-rendered session (no request on mount), tab 0 in front, the others
 *   opened in the background (hidden). Polls are spread over the interval
 *   and, for the default N, never fall in the same second as a focus switch
 *   or the sign-out.
 * - `refetchInterval: 60` seconds; round trip 20 ms.
 * - Every 30 s (t = 30 s, 60 s, …) the focus moves round-robin: the front tab
 *   is hidden, the next one becomes visible (and focused). With N = 1 the
 *   one tab is hidden and shown again.
 * - At 45:15.5 the tab in front signs out (`signOut({ redirect: false })`).
 * - Counted: `GET /session` at the server during [0, 60 min]. The same run
 *   again without focus switches isolates the polling.
 *
 * sessionpulse runs in `test/client/simulated-browser.ts` (fake clock,
 * in-memory channel and leader election, fake Auth.js-shaped server).
 * next-auth runs for real: every tab is a happy-dom Window (its own VM
 * context) in which react, react-dom and next-auth/react are loaded afresh, so
 * each tab has its own `__NEXTAUTH` module state and its own React root
 * (`createRoot`, effects run). The tabs share one localStorage whose writes
 * fire `storage` events in the other tabs' windows (not in the writer's, and
 * not when the value is unchanged, as in browsers: that is v4's cross-tab
 * broadcast), one fake clock (setInterval and Date of every window), and one
 * fake server on that clock. Not modelled: browsers' throttling of timers in
 * background tabs (Chrome aligns them to the minute after 5 min hidden, which
 * would merge some of v4's same-second broadcasts).
 *
 * First it checks the next-auth harness against the v4 measurements of the
 * research note (one poll, N tabs → N; focus → N; sign-out → 1 GET per tab;
 * same-second coalescing) and prints observed against expected.
 *
 * It is a report, not a test: once it runs it exits 0, printing MISSED next to
 * a target it does not reach and DIFFERS next to a harness check that fails.
 * Takes about 35 s.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import vm from "node:vm";
import { simulatedBrowser } from "../test/client/simulated-browser.ts";
import { positiveInts, runReport } from "./support.ts";
import type * as OursModule from "../src/client/index.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PEERS = join(ROOT, "bench", "peers");

const TABS = positiveInts(process.env.BENCH_TABS, [1, 5, 10, 20]);
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const INTERVAL_S = 60;
const FOCUS_EVERY = 30 * SECOND;
const SIGN_OUT_AT = 45 * MINUTE + 15_500;
const LATENCY = 20;
const OPEN_AT = (i: number, n: number) => SECOND + i * Math.floor(MINUTE / n);

// ---------------------------------------------------------------- scenario

/** What the scenario needs from a browser full of tabs, whichever library runs in them. */
interface Driver {
  /** Runs simulated time forward to `t` ms after the start. */
  advanceTo(t: number): Promise<void>;
  open(i: number, visible: boolean): Promise<void>;
  hide(i: number): void;
  show(i: number): void;
  signOut(i: number): void;
  /** `GET /session` requests in [from, to) ms after the start. */
  sessionReads(from: number, to: number): number;
  /** Every request, for the harness checks. */
  requests(): Array<{ method: string; path: string; at: number; tab: string }>;
  /** Whether every tab shows `unauthenticated`. */
  allSignedOut(): boolean;
  close(): Promise<void>;
}

interface Counts {
  total: number;
  beforeSignOut: number;
  afterSignOut: number;
  focusBursts: number;
  /** Requests in the 5 s after the sign-out starts, by kind. */
  signOutMix: string;
  allSignedOut: boolean;
}

const mix = (list: Array<{ method: string; path: string }>) =>
  `${list.filter((r) => r.path === "/csrf").length} csrf, ${list.filter((r) => r.method === "POST").length} POST, ${list.filter((r) => r.method === "GET" && r.path === "/session").length} GET /session`;

async function runScenario(driver: Driver, n: number, { focus = true } = {}): Promise<Counts> {
  const events: Array<{ at: number; run: () => Promise<void> | void }> = [];
  for (let i = 0; i < n; i++) events.push({ at: OPEN_AT(i, n), run: () => driver.open(i, i === 0) });
  let focusBursts = 0;
  for (let k = 1; focus && k * FOCUS_EVERY < HOUR; k++) {
    events.push({
      at: k * FOCUS_EVERY,
      run: () => {
        focusBursts++;
        driver.hide((k - 1) % n);
        driver.show(k % n);
      },
    });
  }
  events.push({ at: SIGN_OUT_AT, run: () => driver.signOut(focus ? Math.floor(SIGN_OUT_AT / FOCUS_EVERY) % n : 0) });
  events.sort((a, b) => a.at - b.at);
  for (const event of events) {
    await driver.advanceTo(event.at);
    await event.run();
  }
  await driver.advanceTo(HOUR);
  const counts = {
    total: driver.sessionReads(0, HOUR),
    beforeSignOut: driver.sessionReads(0, SIGN_OUT_AT),
    afterSignOut: driver.sessionReads(SIGN_OUT_AT, HOUR),
    focusBursts,
    signOutMix: mix(driver.requests().filter((r) => r.at >= SIGN_OUT_AT && r.at < SIGN_OUT_AT + 5 * SECOND)),
    allSignedOut: driver.allSignedOut(),
  };
  await driver.close();
  return counts;
}

// ------------------------------------------------------------ sessionpulse

type Ours = typeof OursModule;

async function loadOurs(): Promise<Ours> {
  const dist = join(ROOT, "dist", "index.js");
  if (!existsSync(dist)) {
    console.error("dist/index.js is missing: run `npm run build` first.");
    process.exit(1);
  }
  return (await import(pathToFileURL(dist).href)) as Ours;
}

function oursDriver(ours: Ours): Driver {
  const browser = simulatedBrowser(ours.createSessionClient, { latency: LATENCY, maxAge: 30 * 86_400 });
  const start = browser.time.now();
  const session = browser.server.signInDirectly();
  const tabs: Array<ReturnType<typeof browser.openTab>> = [];
  return {
    async advanceTo(t) {
      await browser.time.advance(start + t - browser.time.now());
    },
    async open(i, visible) {
      tabs[i] = browser.openTab({ refetchInterval: INTERVAL_S, initialSession: session }, `tab${i}`);
      if (!visible) tabs[i].page.hide();
    },
    hide: (i) => tabs[i]!.page.hide(),
    show: (i) => tabs[i]!.page.focus(),
    signOut: (i) => void tabs[i]!.client.signOut({ redirect: false }).catch((error) => console.error("sessionpulse signOut failed:", error)),
    sessionReads: (from, to) => browser.server.sessionReads(start + from) - browser.server.sessionReads(start + to),
    requests: () => browser.server.state.requests.map((r) => ({ ...r, at: r.at - start })),
    allSignedOut: () => tabs.every((tab) => tab.client.getSnapshot().status === "unauthenticated"),
    async close() {
      tabs.forEach((tab) => tab.client.destroy());
      if (browser.time.uncaught.length) console.error("sessionpulse: errors thrown in timers:", browser.time.uncaught);
    },
  };
}

// ------------------------------------------------------- next-auth v4 peers

function ensurePeers() {
  if (existsSync(join(PEERS, "node_modules", "next-auth", "package.json"))) return;
  console.log("bench/peers/node_modules is missing: running `npm ci --prefix bench/peers` …");
  try {
    execFileSync("npm", ["ci", "--prefix", PEERS, "--no-audit", "--no-fund"], { stdio: "inherit", cwd: ROOT });
  } catch {
    console.error("Could not install the peers. Run `npm ci --prefix bench/peers` and try again.");
    process.exit(1);
  }
}

const peerRequire = createRequire(join(PEERS, "package.json"));
const peerVersion = (name: string) => (JSON.parse(readFileSync(join(PEERS, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

/** Compiled CommonJS modules, shared by all windows (a vm.Script runs in any context). */
const scripts = new Map<string, vm.Script>();

/**
 * A CommonJS `require` whose modules are evaluated inside `context` (a
 * happy-dom Window): each call gives a fresh module registry, so each tab has
 * its own React and its own `__NEXTAUTH`.
 */
function requireIn(context: object) {
  const registry = new Map<string, { exports: unknown }>();
  const processShim = { env: { NODE_ENV: "production" } };
  function load(filename: string): unknown {
    const cached = registry.get(filename);
    if (cached) return cached.exports;
    if (!filename.startsWith("/")) throw new Error(`bench: ${filename} is a Node built-in, not available in a tab`);
    const module = { exports: {} as unknown };
    registry.set(filename, module);
    if (filename.endsWith(".json")) return (module.exports = JSON.parse(readFileSync(filename, "utf8")));
    let script = scripts.get(filename);
    if (!script) {
      script = new vm.Script(`(function (exports, require, module, __filename, __dirname, process) {${readFileSync(filename, "utf8")}\n})`, { filename });
      scripts.set(filename, script);
    }
    const local = createRequire(filename);
    const wrapper = script.runInContext(context) as (...args: unknown[]) => void;
    wrapper.call(module.exports, module.exports, (id: string) => load(local.resolve(id)), module, filename, dirname(filename), processShim);
    return module.exports;
  }
  return (id: string) => load(peerRequire.resolve(id));
}

/** One clock for every tab: timers in time order, promises settled between them. */
function createClock(start = Date.UTC(2026, 10, 28, 12, 0, 0)) {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; seq: number; run: () => void; every?: number }>();
  const settle = async (rounds = 2) => {
    for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  const arm = (run: () => void, ms: number, every?: number) => {
    const id = ++seq;
    timers.set(id, { at: now + Math.max(0, ms || 0), seq: id, run, every });
    return id;
  };
  return {
    now: () => now,
    start,
    settle,
    setTimeout: (run: () => void, ms: number) => arm(run, ms),
    setInterval: (run: () => void, ms: number) => arm(run, ms, Math.max(1, ms || 0)),
    clear: (id: unknown) => void timers.delete(id as number),
    async advanceTo(target: number) {
      for (;;) {
        let dueId = 0;
        let due: { at: number; seq: number; run: () => void; every?: number } | undefined;
        for (const [id, timer] of timers)
          if (timer.at <= target && (!due || timer.at < due.at || (timer.at === due.at && timer.seq < due.seq))) [dueId, due] = [id, timer];
        if (!due) break;
        now = due.at;
        if (due.every) timers.set(dueId, { ...due, at: due.at + due.every, seq: ++seq });
        else timers.delete(dueId);
        try {
          due.run();
        } catch (error) {
          console.error("next-auth tab: uncaught in timer:", error);
        }
        await settle();
      }
      now = Math.max(now, target);
      await settle();
    },
  };
}

type Clock = ReturnType<typeof createClock>;

/** The Auth.js v4 endpoints the React client uses, on the fake clock. */
function createV4Server(clock: Clock) {
  let session: Record<string, unknown> | null = null;
  const requests: Array<{ method: string; path: string; at: number; tab: string }> = [];
  const makeSession = () => ({ user: { name: "Ada", email: "ada@example.com" }, expires: new Date(clock.now() + 30 * 86_400_000).toISOString() });
  function answer(method: string, path: string): { status: number; body: unknown } {
    if (method === "GET" && path === "/session") return { status: 200, body: session ? (session = makeSession()) : {} };
    if (method === "GET" && path === "/csrf") return { status: 200, body: { csrfToken: "csrf-token" } };
    if (method === "POST" && path === "/signout") {
      session = null;
      return { status: 200, body: { url: "http://localhost:3000/" } };
    }
    return { status: 404, body: { error: "not found" } };
  }
  return {
    requests,
    signIn: () => (session = makeSession()),
    fetchFor(tab: string) {
      return (input: string | URL, init: { method?: string } = {}) => {
        const url = new URL(String(input), "http://localhost:3000");
        const method = (init.method ?? "GET").toUpperCase();
        const path = url.pathname.replace(/^\/api\/auth/, "");
        requests.push({ method, path, at: clock.now() - clock.start, tab });
        return new Promise((resolve) => {
          clock.setTimeout(() => {
            const { status, body } = answer(method, path);
            clock.setTimeout(() => resolve({ ok: status < 400, status, json: async () => body }), LATENCY / 2);
          }, LATENCY / 2);
        });
      };
    },
  };
}

interface V4Tab {
  name: string;
  window: any;
  visible: boolean;
  alive: boolean;
  mounted: boolean;
  status: string;
  nextAuth: any;
  root: any;
}

async function nextAuthDriver(): Promise<Driver & { tabs: V4Tab[]; server: ReturnType<typeof createV4Server>; clock: Clock }> {
  const { Window } = (await import(pathToFileURL(peerRequire.resolve("happy-dom")).href)) as { Window: new (options: object) => any };
  const clock = createClock();
  const server = createV4Server(clock);
  const session = server.signIn();
  const tabs: V4Tab[] = [];
  const store = new Map<string, string>();

  /** One origin's localStorage as seen from `tab`: a change fires `storage` in every other tab, as a task. */
  function storageFor(tab: V4Tab) {
    const area = {
      get length() {
        return store.size;
      },
      key: (index: number) => [...store.keys()][index] ?? null,
      getItem: (key: string) => store.get(String(key)) ?? null,
      setItem(key: string, value: string) {
        key = String(key);
        value = String(value);
        const oldValue = store.get(key) ?? null;
        if (oldValue === value) return; // no change, no event
        store.set(key, value);
        for (const other of tabs) {
          if (other === tab || !other.alive) continue;
          clock.setTimeout(() => {
            if (!other.alive) return;
            const event = new other.window.StorageEvent("storage", { key, oldValue, newValue: value, url: "http://localhost:3000/" });
            other.window.dispatchEvent(event);
          }, 0);
        }
      },
      removeItem: (key: string) => void store.delete(String(key)),
      clear: () => store.clear(),
    };
    return area;
  }

  function setVisible(tab: V4Tab, visible: boolean) {
    if (tab.visible === visible) return;
    tab.visible = visible;
    tab.window.document.dispatchEvent(new tab.window.Event("visibilitychange"));
  }

  return {
    tabs,
    server,
    clock,
    advanceTo: (t) => clock.advanceTo(clock.start + t),
    async open(i, visible) {
      const window = new Window({ url: "http://localhost:3000/", width: 1024, height: 768 });
      const tab: V4Tab = { name: `tab${i}`, window, visible, alive: true, mounted: false, status: "", nextAuth: undefined, root: undefined };
      tabs[i] = tab;
      // React's scheduler picks setImmediate when the window has it: real, fast, flushed by clock.settle().
      window.setImmediate = setImmediate;
      window.clearImmediate = clearImmediate;
      // What next-auth reads from the page: its timers and Date are the shared fake clock.
      window.setInterval = (run: () => void, ms: number) => clock.setInterval(run, ms);
      window.clearInterval = clock.clear;
      const RealDate = window.Date as DateConstructor;
      window.Date = class extends RealDate {
        constructor(...args: unknown[]) {
          if (args.length === 0) super(clock.now());
          else super(...(args as [number]));
        }
        static override now() {
          return clock.now();
        }
      };
      window.fetch = server.fetchFor(tab.name);
      Object.defineProperty(window, "localStorage", { value: storageFor(tab), configurable: true });
      Object.defineProperty(window.document, "visibilityState", { get: () => (tab.visible ? "visible" : "hidden"), configurable: true });
      Object.defineProperty(window.document, "hidden", { get: () => !tab.visible, configurable: true });

      const load = requireIn(window);
      const React = load("react") as any;
      const { createRoot } = load("react-dom/client") as any;
      const nextAuth = load("next-auth/react") as any;
      tab.nextAuth = nextAuth;
      function Status() {
        const { status } = nextAuth.useSession();
        tab.status = status;
        React.useEffect(() => void (tab.mounted = true), []);
        return React.createElement("p", null, status);
      }
      const container = window.document.createElement("div");
      window.document.body.appendChild(container);
      tab.root = createRoot(container);
      tab.root.render(React.createElement(nextAuth.SessionProvider, { refetchInterval: INTERVAL_S, session }, React.createElement(Status)));
      for (let round = 0; !tab.mounted; round++) {
        if (round > 200) throw new Error(`next-auth ${tab.name} did not mount`);
        await clock.settle(1);
      }
      await clock.settle();
    },
    hide: (i) => setVisible(tabs[i]!, false),
    show: (i) => setVisible(tabs[i]!, true),
    signOut(i) {
      const tab = tabs[i]!;
      void Promise.resolve(tab.nextAuth.signOut({ redirect: false })).catch((error: unknown) => console.error("next-auth signOut failed:", error));
    },
    sessionReads: (from, to) => server.requests.filter((r) => r.method === "GET" && r.path === "/session" && r.at >= from && r.at < to).length,
    requests: () => server.requests,
    allSignedOut: () => tabs.every((tab) => tab.status === "unauthenticated"),
    async close() {
      for (const tab of tabs) {
        if (!tab) continue;
        tab.alive = false;
        tab.root.unmount();
      }
      await clock.settle();
      for (const tab of tabs) if (tab) await tab.window.happyDOM.close();
    },
  };
}

// ------------------------------------------------------------ harness check

/**
 * Runs next-auth through the measurements of the research note (v4 column of
 * "Multi-tab measurements") and prints observed against expected.
 */
async function checkNextAuthHarness(): Promise<Array<{ name: string; expected: string; observed: string; ok: boolean }>> {
  const rows: Array<{ name: string; expected: string; observed: string; ok: boolean }> = [];
  const gets = (d: Driver, from: number, to: number) => d.sessionReads(from, to);

  // N = 1: one request per poll.
  {
    const d = await nextAuthDriver();
    await d.advanceTo(SECOND);
    await d.open(0, true);
    await d.advanceTo(11 * MINUTE);
    const observed = gets(d, 0, 11 * MINUTE);
    rows.push({ name: "N=1, 10 polls, no focus", expected: "10 (1 per poll)", observed: String(observed), ok: observed === 10 });
    await d.close();
  }
  // N = 5, polls in different seconds: N per poll, so N² per interval.
  {
    const d = await nextAuthDriver();
    for (let i = 0; i < 5; i++) {
      await d.advanceTo(SECOND + i * 12 * SECOND);
      await d.open(i, i === 0);
    }
    await d.advanceTo(61 * SECOND);
    const from = 61 * SECOND;
    await d.advanceTo(from + 10 * MINUTE);
    const observed = gets(d, from, from + 10 * MINUTE);
    rows.push({
      name: "N=5 staggered 12 s, 10 intervals (50 polls), no focus",
      expected: "250 (N per poll; ×60 = 1,500/h as in the research)",
      observed: String(observed),
      ok: observed === 250,
    });
    // One tab gains focus: N.
    const at = from + 10 * MINUTE + 30 * SECOND;
    await d.advanceTo(at);
    d.hide(0);
    d.show(3);
    await d.advanceTo(at + 5 * SECOND);
    const focus = gets(d, at, at + 5 * SECOND);
    rows.push({ name: "N=5, one tab gains focus", expected: "5 (N)", observed: String(focus), ok: focus === 5 });
    // signOut({ redirect: false }): /csrf + POST /signout + 1 GET per tab, then silence.
    const out = at + 20 * SECOND;
    await d.advanceTo(out);
    d.signOut(2);
    await d.advanceTo(out + 5 * SECOND);
    const reqs = d.requests().filter((r) => r.at >= out && r.at < out + 5 * SECOND);
    const describe = mix;
    const signOutEnd = Math.max(...reqs.map((r) => r.at)) - out + LATENCY;
    await d.advanceTo(out + 10 * MINUTE);
    const after = gets(d, out + 5 * SECOND, out + 10 * MINUTE);
    const loggedOut = d.allSignedOut();
    rows.push({
      name: "N=5, signOut({ redirect: false }) from one tab",
      expected: "1 csrf, 1 POST, 5 GET /session; all tabs unauthenticated; then 0",
      observed: `${describe(reqs)}; last answer after ${signOutEnd} ms; ${loggedOut ? "all tabs unauthenticated" : "NOT all unauthenticated"}; then ${after}`,
      ok: describe(reqs) === "1 csrf, 1 POST, 5 GET /session" && loggedOut && after === 0,
    });
    await d.close();
  }
  // N = 3 opened 150 ms apart: broadcasts in one second carry the same value, so no storage event.
  {
    const d = await nextAuthDriver();
    for (let i = 0; i < 3; i++) {
      await d.advanceTo(SECOND + i * 150);
      await d.open(i, i === 0);
    }
    const from = 61 * SECOND;
    await d.advanceTo(from + 10 * MINUTE);
    const observed = gets(d, from, from + 10 * MINUTE) / 30;
    rows.push({
      name: "N=3 opened 150 ms apart (same second), per poll",
      expected: "1.67 (research: same-second broadcasts coalesce)",
      observed: observed.toFixed(2),
      ok: Math.abs(observed - 5 / 3) < 0.01,
    });
    await d.close();
  }
  return rows;
}

// ------------------------------------------------------------------- main

async function main() {
  const began = performance.now();
  ensurePeers();
  const ours = await loadOurs();
  const versions = { nextAuth: peerVersion("next-auth"), react: peerVersion("react"), happyDom: peerVersion("happy-dom") };
  console.log(`Client: session requests with N tabs, one simulated hour (${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node})`);
  console.log(`sessionpulse: dist/index.js; next-auth ${versions.nextAuth} (react ${versions.react}, happy-dom ${versions.happyDom})`);
  console.log(
    `refetchInterval ${INTERVAL_S} s, focus switch every ${FOCUS_EVERY / SECOND} s round-robin, sign-out at 45:15.5, RTT ${LATENCY} ms; counted: GET /session in [0, 60 min]\n`,
  );

  console.log("next-auth harness check (research §(d), v4 column):");
  for (const row of await checkNextAuthHarness())
    console.log(`  ${row.ok ? "ok    " : "DIFFERS"} ${row.name}: expected ${row.expected}; observed ${row.observed}`);
  console.log();

  type Row = { n: number; ours: Counts; theirs: Counts };
  const withFocus: Row[] = [];
  const pollingOnly: Row[] = [];
  for (const n of TABS) {
    withFocus.push({ n, ours: await runScenario(oursDriver(ours), n), theirs: await runScenario(await nextAuthDriver(), n) });
  }
  for (const n of TABS) {
    pollingOnly.push({
      n,
      ours: await runScenario(oursDriver(ours), n, { focus: false }),
      theirs: await runScenario(await nextAuthDriver(), n, { focus: false }),
    });
  }

  const split = (c: Counts) => `${c.total} (${c.beforeSignOut} + ${c.afterSignOut})`;
  const table = (rows: Row[]) => {
    console.log("| N | sessionpulse | next-auth v4 | ratio next-auth/ours |");
    console.log("|--:|--:|--:|--:|");
    for (const { n, ours: o, theirs: t } of rows) console.log(`| ${n} | ${split(o)} | ${split(t)} | ${(t.total / o.total).toFixed(1)}× |`);
  };
  console.log("GET /session in one hour, with a focus switch every 30 s (total (before + after the sign-out)):");
  table(withFocus);
  console.log("\nThe same without focus switches (polling and the sign-out only):");
  table(pollingOnly);
  console.log("\nSign-out (requests in the 5 s after it; every tab unauthenticated at the end?):");
  for (const { n, ours: o, theirs: t } of withFocus) {
    console.log(
      `  N=${n}: sessionpulse ${o.signOutMix}, ${o.allSignedOut ? "all signed out" : "NOT all signed out"}; next-auth ${t.signOutMix}, ${t.allSignedOut ? "all signed out" : "NOT all signed out"}`,
    );
  }
  console.log();

  // One tab polling alone until the sign-out: 1 s + 60 s·k < 45:15.5.
  const polls = Math.floor((SIGN_OUT_AT - SECOND - 1) / (INTERVAL_S * SECOND));
  const bursts = withFocus[0]?.ours.focusBursts ?? 0;
  // With other tabs open, one of them confirms the sign-out with the server (the channel is not trusted with a change of user).
  const confirm = (n: number) => (n > 1 ? 1 : 0);
  console.log("Targets:");
  for (const { n, ours: o } of withFocus) {
    const budget = polls + bursts + confirm(n);
    console.log(
      `  ${o.total <= budget ? "met   " : "MISSED"} N=${n}: sessionpulse ${o.total} ≤ one tab's polls until sign-out (${polls}) + 1 per focus burst (${bursts}) + the sign-out's confirmation (${confirm(n)}) = ${budget}`,
    );
  }
  for (const { n, ours: o } of pollingOnly) {
    const budget = polls + confirm(n);
    console.log(
      `  ${o.total <= budget ? "met   " : "MISSED"} N=${n}, no focus: sessionpulse ${o.total} ≤ one tab's polls until sign-out (${polls}) + the sign-out's confirmation (${confirm(n)}) = ${budget}`,
    );
  }
  const ten = withFocus.find((r) => r.n === 10);
  if (ten) {
    const ratio = ten.theirs.total / ten.ours.total;
    console.log(`  ${ratio >= 10 ? "met   " : "MISSED"} N=10: ratio next-auth/sessionpulse ${ratio.toFixed(1)} ≥ N = 10`);
  }
  console.log(`\n(${((performance.now() - began) / 1000).toFixed(1)} s)`);
}

await runReport(main);

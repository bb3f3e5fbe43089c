/**
 * Real-browser benchmark: the playground (sessionpulse's server and client,
 * built) in Debian's Chromium via playwright-core, several tabs per browser.
 *
 * Run: `npm run bench:e2e-tabs` (builds the library and the playground app
 * first when they are missing or older than their sources). Takes about 8–9
 * minutes with the defaults. Knobs: BENCH_RUNS (sign-out runs, default 50),
 * BENCH_TABS (default "1,5,10"), BENCH_SECONDS (per tab count, default 60),
 * BENCH_PARTS (default "signout,polling,focus,burst"); a count that is not a
 * positive integer falls back to its default.
 *
 * Parts:
 * - signout: 3 tabs; 50 times: sign in, then sign out from one tab (a DOM
 *   click on its button, rotating through the tabs). For each of the two
 *   other tabs: how long after the acting tab rendered "signed out" it did
 *   (render to render), and how long after the acting tab's client emitted
 *   `signout` theirs did (client to client); also click to the last tab
 *   rendering it (includes the CSRF and POST /signout round trip). Times are
 *   performance.timeOrigin + performance.now() in each tab: one clock.
 * - polling: N tabs signed in, `refetchInterval` 10 s, untouched for
 *   BENCH_SECONDS: `GET /session` counted at the server, per minute.
 * - focus: the same, and every 7 s the next tab is brought to the front
 *   (CDP focus emulation off, so it gets real focus events); focusThrottle
 *   5 s, so each switch finds the last sync older than the throttle unless a
 *   poll came in between. Needs 2 tabs or more.
 * - burst: N tabs; 20 times, 1.2 s after the last sync, every tab gets a
 *   `visibilitychange` at the same moment (throttle 1 s): requests per burst
 *   (the design says one).
 */
import type { Page } from "playwright-core";
import {
  buildPlayground,
  chromiumMissing,
  launchChromium,
  openTabs,
  percentile,
  press,
  renderedAt,
  sessionGets,
  signIn,
  sleep,
  startPlayground,
  waitForStatus,
  type PlaygroundWindow,
} from "../test/e2e/harness.ts";
import { positiveInt, positiveInts } from "./support.ts";

const RUNS = positiveInt(process.env.BENCH_RUNS, 50);
const TABS = positiveInts(process.env.BENCH_TABS, [1, 5, 10]);
const SECONDS = positiveInt(process.env.BENCH_SECONDS, 60);
/** Focus part: one tab switch every this many ms. */
const SWITCH = 7_000;
const PARTS = new Set((process.env.BENCH_PARTS ?? "signout,polling,focus,burst").split(","));

const missing = chromiumMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}

console.log(`built: ${buildPlayground().join(", ") || "nothing (up to date)"}`);
const [server, browser] = await Promise.all([startPlayground(), launchChromium()]);
console.log(`Chromium ${browser.version()}, playground at ${server.url}, ${new Date().toISOString()}`);
const newContext = () => browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });

const fmt = (values: number[]) =>
  `p50 ${percentile(values, 50).toFixed(1)} ms, p95 ${percentile(values, 95).toFixed(1)} ms (min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)}, n=${values.length})`;

/** The page's window, with when its client emitted `signout`. */
type BenchWindow = PlaygroundWindow & { __bench?: number[] };

/** Records when each tab's client emitted `signout` (same clock as the render times). */
function watchSignOut(page: Page) {
  return page.evaluate(() => {
    const w = window as unknown as BenchWindow;
    w.__bench = [];
    w.__playground.client.on("signout", () => w.__bench!.push(performance.timeOrigin + performance.now()));
  });
}
const lastSignOutEvent = (page: Page) => page.evaluate(() => (window as unknown as BenchWindow).__bench!.at(-1) ?? null);

try {
  if (PARTS.has("signout")) {
    const context = await newContext();
    const tabs = await openTabs(context, server.url, 3, "?poll=60");
    await Promise.all(tabs.map(watchSignOut));
    const render: number[] = [];
    const client: number[] = [];
    const clickToAll: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const actor = tabs[run % 3]!;
      await signIn(tabs[(run + 1) % 3]!);
      await waitForStatus(tabs, "authenticated");
      await sleep(100);
      const clicked = await actor.evaluate(() => performance.timeOrigin + performance.now());
      await press(actor, "sign-out");
      await waitForStatus(tabs, "unauthenticated");
      await sleep(100);
      const shown = await Promise.all(tabs.map((page) => renderedAt(page, "unauthenticated")));
      const events = await Promise.all(tabs.map(lastSignOutEvent));
      const a = tabs.indexOf(actor);
      for (let i = 0; i < 3; i++) {
        if (i === a) continue;
        render.push(shown[i]! - shown[a]!);
        client.push(events[i]! - events[a]!);
      }
      clickToAll.push(Math.max(...shown.map((at) => at!)) - clicked);
    }
    await context.close();
    console.log(`\nsign-out propagation, 3 tabs, ${RUNS} runs`);
    console.log(`  render to render (acting tab shows it → another tab shows it): ${fmt(render)}`);
    console.log(`  client to client (acting tab's signout event → another tab's): ${fmt(client)}`);
    console.log(`  click to every tab showing it (incl. CSRF + POST /signout):    ${fmt(clickToAll)}`);
  }

  for (const part of ["polling", "focus"] as const) {
    if (!PARTS.has(part)) continue;
    console.log(
      `\n${part === "polling" ? "polling only" : `polling + focus moving to the next tab every ${SWITCH / 1000} s`}: refetchInterval 10 s, focusThrottle 5 s, ${SECONDS} s per row`,
    );
    for (const n of TABS) {
      if (part === "focus" && n < 2) continue;
      const context = await newContext();
      const tabs = await openTabs(context, server.url, n, "?poll=10&throttle=5");
      await signIn(tabs[0]!);
      await waitForStatus(tabs, "authenticated");
      if (part === "focus") for (const page of tabs) await (await context.newCDPSession(page)).send("Emulation.setFocusEmulationEnabled", { enabled: false });
      await server.resetStats();
      const started = Date.now();
      let switches = 0;
      while (Date.now() - started < SECONDS * 1000) {
        if (part === "focus") {
          await sleep(Math.max(0, started + (switches + 1) * SWITCH - Date.now()));
          if (Date.now() - started >= SECONDS * 1000) break;
          await tabs[++switches % n]!.bringToFront();
        } else await sleep(Math.min(1_000, SECONDS * 1000 - (Date.now() - started)));
      }
      const stats = await server.stats();
      const requests = sessionGets(stats);
      const tabsAsking = new Set(stats.sessionRequests.map((request) => request.tab)).size;
      console.log(
        `  ${String(n).padStart(2)} tab${n === 1 ? " " : "s"}: ${requests} GET /session in ${SECONDS} s = ${((requests * 60) / SECONDS).toFixed(1)}/min (${tabsAsking} tab${tabsAsking === 1 ? "" : "s"} asked${part === "focus" ? `, ${switches} focus switches` : ""})`,
      );
      await context.close();
    }
  }

  if (PARTS.has("burst")) {
    console.log("\nfocus burst: every tab gets visibilitychange at once, 1.2 s after the last sync (focusThrottle 1 s), 20 bursts");
    for (const n of [3, ...TABS.filter((count) => count > 3)]) {
      const context = await newContext();
      const tabs = await openTabs(context, server.url, n, "?poll=60&throttle=1");
      await signIn(tabs[0]!);
      await waitForStatus(tabs, "authenticated");
      const perBurst: number[] = [];
      for (let burst = 0; burst < 20; burst++) {
        await sleep(1_200);
        await server.resetStats();
        await Promise.all(tabs.map((page) => page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")))));
        await sleep(600);
        perBurst.push(sessionGets(await server.stats()));
      }
      const histogram = [...new Set(perBurst)].sort((a, b) => a - b).map((count) => `${perBurst.filter((value) => value === count).length}× ${count}`);
      console.log(`  ${String(n).padStart(2)} tabs: ${perBurst.reduce((a, b) => a + b, 0)} requests in 20 bursts (${histogram.join(", ")})`);
      await context.close();
    }
  }
} finally {
  await browser.close();
  await server.stop();
}

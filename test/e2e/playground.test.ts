/**
 * The whole system in real Chromium: the playground server (sessionpulse's
 * server, SQLite) and its page (sessionpulse's client and React binding),
 * several tabs per browser context. Session requests are counted at the
 * server (`/demo/stats`, per tab through the page's `x-playground-tab` header).
 *
 * Needs Chromium (`apt-get install -y chromium`); without it these tests are
 * skipped with that note, or fail when SESSIONPULSE_REQUIRE_SERVICES=1 (CI).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, test, type TestContext } from "vitest";
import { missing } from "../server/services.ts";
import {
  buildPlayground,
  chromiumMissing,
  launchChromium,
  leaderOf,
  openTabs,
  percentile,
  press,
  renderedAt,
  ROOT,
  sessionGets,
  signIn,
  sleep,
  startPlayground,
  statusOf,
  tabLabel,
  waitForStatus,
  type Playground,
  type PlaygroundWindow,
} from "./harness.ts";

const noChromium = chromiumMissing();
const ARTIFACTS = join(ROOT, "test-artifacts");

let server: Playground;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** Measured figures, written to test-artifacts/e2e-figures.json for a look after the run. */
const figures: Record<string, unknown> = {};

/** A test that needs Chromium: skipped with the install note when it is missing, failed instead on CI. */
function e2e(name: string, body: (context: TestContext) => Promise<void>, timeout?: number, retry = 0) {
  test(name, { timeout, retry }, async (context) => {
    if (noChromium) missing(noChromium, context);
    await body(context);
  });
}

async function newContext(): Promise<BrowserContext> {
  // Reduced motion: no CSS animations, which cost a software-rendering browser real CPU.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
  contexts.push(context);
  return context;
}

/** Signs in from the first tab and waits until every tab shows it. */
async function signedIn(pages: Page[], email?: string, password?: string): Promise<void> {
  await signIn(pages[0]!, email, password);
  await waitForStatus(pages, "authenticated");
}

beforeAll(async () => {
  if (noChromium) return;
  buildPlayground();
  [server, browser] = await Promise.all([startPlayground(), launchChromium()]);
}, 120_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  if (server) await server.setOutage(false);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (Object.keys(figures).length > 0) {
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, "e2e-figures.json"), `${JSON.stringify({ at: new Date().toISOString(), ...figures }, null, 2)}\n`);
  }
});

describe("playground in Chromium", () => {
  /**
   * Latency is measured from the acting tab's render of the new status to the
   * others' (each tab records when its status changed, on a clock all tabs
   * share). Since the client v2 the other tabs confirm a change of user with
   * one `GET /session` before showing it (the channel is not trusted), so the
   * figure is one loopback round trip plus three renders: 40–100 ms typical on
   * this machine, more when it is busy (the renderers wait for a CPU). The
   * claim is checked on the median of 10 measurements (5 rounds × 2 tabs):
   * under 250 ms, each under 1 s (a tab that waited for a poll would take
   * seconds), and a failed test is retried once.
   */
  const ROUNDS = 5;
  const annotate = (context: TestContext, name: string, latencies: number[]) => {
    figures[name] = latencies.map((ms) => Math.round(ms * 10) / 10);
    return context.annotate(`latency ms: ${latencies.map((ms) => ms.toFixed(1)).join(", ")} (median ${percentile(latencies, 50).toFixed(1)})`);
  };

  describe("sign-in and sign-out across three tabs", () => {
    // One browser context for both tests (each leaves every tab signed out).
    let shared: BrowserContext;
    let tabs: Page[];
    beforeAll(async () => {
      if (noChromium) return;
      shared = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
      tabs = await openTabs(shared, server.url, 3, "?poll=60");
    });
    afterAll(async () => {
      await shared?.close();
    });

    /** Back to signed out everywhere (a retried test may start from any state). */
    async function signedOutEverywhere() {
      if ((await statusOf(tabs[0]!)).status !== "unauthenticated") {
        await tabs[0]!.evaluate(() => (window as unknown as PlaygroundWindow).__playground.client.signOut({ redirect: false }));
      }
      await waitForStatus(tabs, "unauthenticated");
    }

    e2e(
      "sign-in in tab A shows authenticated in tabs B and C within 250 ms, confirmed with the server by one of them (one request)",
      async (context) => {
        await signedOutEverywhere();
        const labels = await Promise.all(tabs.map(tabLabel));
        const latencies: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const [a, b, c] = [0, 1, 2].map((offset) => tabs[(round + offset) % 3]!);
          await server.resetStats();
          await signIn(a!);
          await waitForStatus(tabs, "authenticated");
          await sleep(200); // anything B or C would send because of it
          const [shownA, shownB, shownC] = await Promise.all([a!, b!, c!].map((page) => renderedAt(page, "authenticated")));
          latencies.push(shownB! - shownA!, shownC! - shownA!);

          const stats = await server.stats();
          expect(sessionGets(stats, labels[(round + 0) % 3])).toBe(1); // signIn() reads the new session once
          // The channel is not trusted with a change of user: one other tab checks it, for both.
          expect(sessionGets(stats, labels[(round + 1) % 3]) + sessionGets(stats, labels[(round + 2) % 3])).toBe(1);
          expect(stats.counts["POST /api/auth/callback/credentials"]).toBe(1);

          await b!.evaluate(() => (window as unknown as PlaygroundWindow).__playground.client.signOut({ redirect: false }));
          await waitForStatus(tabs, "unauthenticated");
        }
        await annotate(context, "signInLatencyMs", latencies);
        expect(percentile(latencies, 50)).toBeLessThan(250);
        expect(Math.max(...latencies)).toBeLessThan(1_000);
      },
      undefined,
      1,
    );

    e2e(
      "sign-out in tab B shows unauthenticated in tabs A and C within 250 ms, confirmed by one session request for the browser",
      async (context) => {
        await signedOutEverywhere();
        const latencies: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const [a, b, c] = [0, 1, 2].map((offset) => tabs[(round + offset) % 3]!);
          await signIn(a!);
          await waitForStatus(tabs, "authenticated");
          await server.resetStats();

          await press(b!, "sign-out");
          await waitForStatus(tabs, "unauthenticated");
          await sleep(200);
          const [shownA, shownB, shownC] = await Promise.all([a!, b!, c!].map((page) => renderedAt(page, "unauthenticated")));
          latencies.push(shownA! - shownB!, shownC! - shownB!);

          const stats = await server.stats();
          expect(sessionGets(stats)).toBe(1);
          expect(stats.sessionRequests[0]!.tab).not.toBe(await tabLabel(b!));
          expect(stats.counts["POST /api/auth/signout"]).toBe(1);
        }
        await annotate(context, "signOutLatencyMs", latencies);
        expect(percentile(latencies, 50)).toBeLessThan(250);
        expect(Math.max(...latencies)).toBeLessThan(1_000);
      },
      undefined,
      1,
    );
  });

  for (const strategy of ["database", "jwt"] as const) {
    e2e(`${strategy} strategy: "sign out everywhere" in a second browser signs out the first browser's tabs at their next poll`, async () => {
      await server.setStrategy(strategy);
      try {
        // Grace in this test only: a JWT revoke-all denies every token of the user issued until then.
        const first = await openTabs(await newContext(), server.url, 2, "?poll=2");
        await signedIn(first, "grace@example.com", "hopper");
        const [second] = await openTabs(await newContext(), server.url, 1, "?poll=60");
        await signedIn([second!], "grace@example.com", "hopper");

        // The panel lists the sessions right after a sign-in, and its buttons wait while it does.
        await expect.poll(() => second!.getByTestId("revoke-all").isEnabled(), { timeout: 5_000 }).toBe(true);
        await press(second!, "revoke-all");
        const revokedAt = Date.now();
        await waitForStatus([second!], "unauthenticated");
        await waitForStatus(first, "unauthenticated", 2_000 + 2_000);
        // The leader's poll (every 2 s) learns it; the other tab hears it from the leader.
        figures[`revokeAll_${strategy}_ms`] = Date.now() - revokedAt;
        expect(Date.now() - revokedAt).toBeLessThan(2_000 + 1_500);
      } finally {
        await server.setStrategy("database");
      }
    });
  }

  e2e(
    "5 tabs polling every 2 s for 20 s: the server sees about 10 session polls, not 50",
    async () => {
      const tabs = await openTabs(await newContext(), server.url, 5, "?poll=2");
      await signedIn(tabs);
      const leader = await tabLabel(await leaderOf(tabs));
      await server.resetStats();

      await sleep(20_000);
      const stats = await server.stats();
      const polls = sessionGets(stats);
      figures.fiveTabsTwentySecondsPolls = polls;
      expect(polls).toBeGreaterThanOrEqual(9);
      expect(polls).toBeLessThanOrEqual(11);
      expect(new Set(stats.sessionRequests.map((request) => request.tab))).toEqual(new Set([leader]));
      for (const page of tabs) expect((await statusOf(page)).status).toBe("authenticated");
    },
    60_000,
  );

  e2e("closing the leader tab: another tab leads at once and polls on the same rhythm", async () => {
    const tabs = await openTabs(await newContext(), server.url, 3, "?poll=2");
    await signedIn(tabs);
    const leader = await leaderOf(tabs);
    const oldLabel = await tabLabel(leader);
    await server.resetStats();
    // Close it right after one of its polls has reached the other tabs.
    while (sessionGets(await server.stats()) === 0) await sleep(20);
    await sleep(300);
    const before = (await server.stats()).sessionRequests.at(-1)!;
    const closedAt = Date.now();
    await leader.close();

    const rest = tabs.filter((page) => page !== leader);
    const next = await leaderOf(rest, 2_000);
    const handOver = Date.now() - closedAt;
    const newLabel = await tabLabel(next);
    let after: { at: number; tab: string | null } | undefined;
    while (!(after = (await server.stats()).sessionRequests.find((request) => request.tab === newLabel)) && Date.now() - closedAt < 5_000) await sleep(20);

    figures.handOver = { leaderBadgeMs: handOver, pollGapMs: after ? after.at - before.at : null };
    expect(newLabel).not.toBe(oldLabel);
    expect(handOver).toBeLessThan(1_000);
    expect(after).toBeDefined();
    // The next poll comes when the old leader's would have: one interval after its last, not later.
    expect(after!.at - before.at).toBeGreaterThan(2_000 - 300);
    expect(after!.at - before.at).toBeLessThan(2_000 + 700);
    expect(sessionGets(await server.stats(), oldLabel)).toBe(1);
  });

  e2e("focus: a tab brought to front refreshes once; other tabs focusing within the throttle add nothing", async () => {
    const context = await newContext();
    const tabs = await openTabs(context, server.url, 3, "?poll=60&throttle=2");
    await signedIn(tabs);
    // With focus emulation off, bringToFront() moves real window focus (blur/focus events).
    for (const page of tabs) await (await context.newCDPSession(page)).send("Emulation.setFocusEmulationEnabled", { enabled: false });

    await sleep(2_300); // the sign-in's sync is now older than the 2 s throttle
    await server.resetStats();
    await tabs[1]!.bringToFront();
    await sleep(400); // its refresh has reached the other tabs
    await tabs[2]!.bringToFront();
    await tabs[0]!.bringToFront();
    await sleep(400);
    expect(sessionGets(await server.stats())).toBe(1);

    // The same with a visibility change (what a real tab switch fires).
    await sleep(2_300);
    await server.resetStats();
    await tabs[2]!.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
    await sleep(400);
    await tabs[1]!.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
    await tabs[0]!.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
    await sleep(400);
    expect(sessionGets(await server.stats())).toBe(1);
  });

  e2e(
    "server answering 503 for 10 s: every tab stays authenticated and shows it stale with the error, and all are fresh within about one interval after",
    async () => {
      const tabs = await openTabs(await newContext(), server.url, 4, "?poll=2");
      await signedIn(tabs);

      await server.setOutage(true, 10);
      const until = Date.now() + 10_000;
      const staleSeen = new Set<Page>();
      while (Date.now() < until) {
        for (const page of tabs) {
          const state = await statusOf(page);
          expect(state.status).toBe("authenticated");
          if (state.isStale) staleSeen.add(page);
        }
        await sleep(250);
      }
      // Every tab admitted the outage, not just the leader.
      expect(staleSeen.size).toBe(4);
      for (const page of tabs) {
        const code = await page.evaluate(() => (window as unknown as PlaygroundWindow).__playground.client.getSnapshot().error?.code);
        expect(code).toBe("server");
      }
      const failed = (await server.stats()).sessionRequests.filter((request) => request.status === 503).length;
      expect(failed).toBeGreaterThanOrEqual(3);

      // Retries are capped at the poll interval: fresh again within about one interval of the end.
      await Promise.all(tabs.map((page) => page.waitForSelector('[data-testid="page"][data-stale="false"]', { timeout: 6_000 })));
      figures.outage = { failedRequests: failed, recoveredAfterOutageEndMs: Date.now() - until };
      expect(Date.now() - until).toBeLessThan(2_000 + 1_500);
      for (const page of tabs) expect(await statusOf(page)).toMatchObject({ status: "authenticated", isStale: false });
    },
    60_000,
  );

  e2e(
    "10 tabs opened at once: the leader keeps polling (one poll per interval for the browser)",
    async () => {
      const context = await newContext();
      const pages = await Promise.all(Array.from({ length: 10 }, () => context.newPage()));
      await Promise.all(pages.map((page) => page.goto(`${server.url}/?poll=2`)));
      await Promise.all(pages.map((page) => page.waitForSelector('[data-testid="page"]:not([data-status="loading"])')));
      await signedIn(pages);
      await sleep(500);
      await server.resetStats();
      await sleep(10_000);
      const polls = sessionGets(await server.stats());
      figures.tenTabsAtOnceTenSecondsPolls = polls;
      expect(polls).toBeGreaterThanOrEqual(4);
      expect(polls).toBeLessThanOrEqual(6);
    },
    90_000,
  );

  e2e(
    "a hung leader (JavaScript paused, Web Lock kept): one follower keeps the session fresh, and the leader yields when it resumes",
    async () => {
      const context = await newContext();
      const tabs = await openTabs(context, server.url, 3, "?poll=2");
      await signedIn(tabs);
      const leader = await leaderOf(tabs);
      const leaderLabel = await tabLabel(leader);
      const followers = tabs.filter((page) => page !== leader);
      const cdp = await context.newCDPSession(leader);
      await cdp.send("Debugger.enable");
      await server.resetStats();
      await cdp.send("Debugger.pause");
      await sleep(14_000);
      const during = (await server.stats()).sessionRequests;
      await cdp.send("Debugger.resume");
      figures.hungLeader = { requestsWhilePaused: during.length, byTab: during.map((request) => request.tab) };
      // Standby after interval + grace (2 s + 3 s): about two reads in 14 s, none by the paused leader.
      expect(during.length).toBeGreaterThanOrEqual(2);
      expect(during.every((request) => request.tab !== leaderLabel)).toBe(true);
      for (const page of followers) expect(await statusOf(page)).toMatchObject({ status: "authenticated", isStale: false });
      // Resumed: one poller again.
      await sleep(1_000);
      await server.resetStats();
      await sleep(6_000);
      const after = (await server.stats()).sessionRequests;
      expect(after.length).toBeGreaterThanOrEqual(2);
      expect(after.length).toBeLessThanOrEqual(4);
    },
    90_000,
  );

  for (const [name, jump] of [
    ["back a day", -86_400_000],
    ["ahead a day", 86_400_000],
  ] as const) {
    e2e(`the browser's clock set ${name}: polling goes on, and a sign-out shows in every tab`, async () => {
      const context = await newContext();
      // The wall clock (Date.now) of every tab, movable at run time; performance.now() goes on, as on a real clock change.
      await context.addInitScript(() => {
        const realNow = Date.now.bind(Date);
        const clock = window as unknown as { __clockOffset: number };
        clock.__clockOffset = 0;
        Date.now = () => realNow() + clock.__clockOffset;
      });
      const tabs = await openTabs(context, server.url, 3, "?poll=2");
      await signedIn(tabs);
      await Promise.all(tabs.map((page) => page.evaluate((ms) => ((window as unknown as { __clockOffset: number }).__clockOffset = ms), jump)));
      await server.resetStats();
      await sleep(8_000);
      expect(sessionGets(await server.stats())).toBeGreaterThanOrEqual(3);
      for (const page of tabs) expect((await statusOf(page)).status).toBe("authenticated");
      await tabs[1]!.evaluate(() => (window as unknown as PlaygroundWindow).__playground.client.signOut({ redirect: false }));
      await waitForStatus(tabs, "unauthenticated", 2_000);
    });
  }

  e2e(
    "forged channel messages change nothing: another user's session re-posted, a forged sign-out, garbage",
    async () => {
      const tabs = await openTabs(await newContext(), server.url, 4, "?poll=2");
      await signedIn(tabs);
      const errors: string[] = [];
      for (const page of tabs) page.on("pageerror", (error) => errors.push(error.message));
      const forge = (page: Page, messages: unknown[]) =>
        page.evaluate((list) => {
          const channel = new BroadcastChannel("sessionpulse");
          for (const message of list) channel.postMessage(message);
          channel.close();
        }, messages);
      const admin = { user: { id: "admin", name: "Root", email: "root@example.com" }, expires: new Date(Date.now() + 3_600_000).toISOString() };
      const userIds = () =>
        Promise.all(tabs.map((page) => page.evaluate(() => (window as unknown as PlaygroundWindow).__playground.client.getSnapshot().data?.user.id ?? null)));
      const real = (await userIds())[0];

      await server.resetStats();
      for (let i = 0; i < 10; i++) {
        await forge(tabs[i % 4]!, [{ v: 2, type: "state", id: `forged-${i}`, reason: i % 2 ? "refresh" : "signin", seen: [], session: admin }]);
        await sleep(100);
        expect(await userIds()).toEqual([real, real, real, real]);
        await sleep(200);
      }
      // Checks are limited to one per throttle window (5 s) after a refuted one; polls go on meanwhile (every 2 s).
      expect(sessionGets(await server.stats())).toBeLessThanOrEqual(6);

      await forge(tabs[0]!, [{ v: 2, type: "state", id: "forged-out", reason: "signout", seen: [], session: null }]);
      await sleep(6_000);
      for (const page of tabs) expect((await statusOf(page)).status).toBe("authenticated");

      await server.resetStats();
      await forge(tabs[2]!, [null, "x", 42, [], { type: null }, { forEach: 1 }]);
      await forge(tabs[2]!, [{ v: 99, type: "state", id: "from-the-future", reason: "refresh" }]);
      await sleep(1_000);
      expect(errors).toEqual([]);
      // A version this client does not know: the leader checks with the server once, the others wait for its answer.
      expect(sessionGets(await server.stats())).toBeLessThanOrEqual(2);
    },
    60_000,
  );

  e2e("offline (all tabs): no requests while offline, one request for the browser when back", async () => {
    const tabs = await openTabs(await newContext(), server.url, 3, "?poll=2");
    await signedIn(tabs);
    await press(tabs[2]!, "offline");
    await server.resetStats();
    await sleep(4_500);
    expect(sessionGets(await server.stats())).toBe(0);
    for (const page of tabs) expect((await statusOf(page)).status).toBe("authenticated");

    await press(tabs[2]!, "offline");
    await sleep(600);
    expect(sessionGets(await server.stats())).toBe(1);
  });

  e2e("OpenID Connect: sign in through a real provider (oidc-provider: login and consent pages) and every tab is signed in as its user", async () => {
    const tabs = await openTabs(await newContext(), server.url, 2, "?poll=60");
    await waitForStatus(tabs, "unauthenticated");
    const [acting, other] = tabs as [Page, Page];
    await acting.getByTestId("sign-in-openid").waitFor();
    await press(acting, "sign-in-openid");
    await acting.waitForSelector('input[name="login"]', { timeout: 10_000 });
    await acting.fill('input[name="login"]', "eve");
    await acting.fill('input[name="password"]', "anything");
    await acting.locator('button[type="submit"]').click();
    // The consent page of the provider.
    await acting.locator('button[type="submit"]').click({ timeout: 10_000 });
    // Back on the page it started from (callbackUrl: the page's own URL).
    await acting.waitForURL((url) => url.href === `${server.url}/?poll=60`, { timeout: 10_000 });
    await waitForStatus([acting, other], "authenticated", 10_000);
    for (const page of [acting, other]) {
      const user = await page.evaluate(() => (window as unknown as PlaygroundWindow).__playground.client.getSnapshot().data?.user);
      expect(user).toMatchObject({ id: "oidc-eve", email: "eve@example.com" });
    }
  });

  e2e("a magic link (the server API's signIn) opened in a new tab signs every tab in; a used link does not work twice", async () => {
    const context = await newContext();
    const tabs = await openTabs(context, server.url, 2, "?poll=60");
    await waitForStatus(tabs, "unauthenticated");
    await press(tabs[0]!, "magic-link");
    const link = await tabs[0]!.getByTestId("magic-link-sent").locator("a").getAttribute("href");
    expect(link).toContain("/demo/magic-link/callback?token=");
    expect(server.output()).toContain(link!);
    const landed = await context.newPage();
    await landed.goto(link!);
    await waitForStatus([landed, ...tabs], "authenticated", 5_000);
    const used = await context.newPage();
    await used.goto(link!);
    expect(used.url()).toContain("error=MagicLinkInvalid");
  });

  e2e("switching the server between database and JWT keeps every tab signed in", async () => {
    const tabs = await openTabs(await newContext(), server.url, 2, "?poll=60");
    await signedIn(tabs);
    const strategyIn = (page: Page) => page.evaluate(() => (window as unknown as PlaygroundWindow).__playground.client.getSnapshot().data?.strategy);
    expect(await strategyIn(tabs[1]!)).toBe("database");

    for (const strategy of ["jwt", "database"] as const) {
      await press(tabs[0]!, `strategy-${strategy}`);
      await expect.poll(() => strategyIn(tabs[1]!)).toBe(strategy);
      for (const page of tabs) expect((await statusOf(page)).status).toBe("authenticated");
    }
  });

  e2e("screenshot of three tabs", async () => {
    const tabs = await openTabs(await newContext(), server.url, 3, "?poll=2");
    await signedIn(tabs);
    await press(tabs[1]!, "accent-teal");
    await sleep(2_500); // a poll by the leader, received by the others
    mkdirSync(ARTIFACTS, { recursive: true });
    const shots: Array<{ label: string; leader: boolean; png: Buffer }> = [];
    for (const page of tabs) {
      const png = await page.screenshot({ fullPage: false });
      const label = await tabLabel(page);
      writeFileSync(join(ARTIFACTS, `playground-${label.replace(" ", "-").toLowerCase()}.png`), png);
      shots.push({ label, leader: (await statusOf(page)).isLeader, png });
    }
    // One picture: the three tabs side by side.
    const sheet = await (await newContext()).newPage();
    await sheet.setViewportSize({ width: 3 * 760 + 4 * 20, height: 600 });
    await sheet.setContent(
      `<body style="margin:0;padding:20px;display:flex;gap:20px;background:#0f172a;font:600 18px system-ui,sans-serif;color:#e2e8f0">${shots
        .map(
          (shot) =>
            `<figure style="margin:0;width:760px"><figcaption style="margin-bottom:10px">${shot.label}${shot.leader ? " ★ leader" : " · follower"}</figcaption><img style="width:760px;border-radius:10px;display:block" src="data:image/png;base64,${shot.png.toString("base64")}"></figure>`,
        )
        .join("")}</body>`,
    );
    const path = join(ARTIFACTS, "playground-three-tabs.png");
    await sheet.screenshot({ path, fullPage: true });
    expect(shots.filter((shot) => shot.leader)).toHaveLength(1);
  });
});

import { describe, expect, it } from "vitest";
import { createBrowser } from "./harness.ts";

const MINUTE = 60_000;

describe("one poller per browser", () => {
  it("10 linked tabs with refetchInterval 60 make exactly 10 requests in 10 minutes", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 10 }, () => browser.openTab({ refetchInterval: 60, initialSession }));
    await browser.time.advance(10 * MINUTE);
    expect(browser.server.sessionReads()).toBe(10);
    expect(new Set(browser.server.state.requests.map((request) => request.tab))).toEqual(new Set(["tab1"]));
    expect(tabs.filter((tab) => tab.client.getSnapshot().isLeader)).toHaveLength(1);
    // Followers took every result from the channel.
    for (const tab of tabs) expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", isStale: false });
    for (const tab of tabs) expect(tab.client.getSnapshot().data).toEqual(browser.server.session);
  });

  it("tabs opening at the same moment load the session once even when the answer reaches them after the lock does", async () => {
    const browser = createBrowser({ messageDelayMs: 3 });
    browser.server.signInDirectly();
    const tabs = Array.from({ length: 10 }, () => browser.openTab({ refetchInterval: 0 }));
    await browser.time.advance(2000);
    expect(browser.server.sessionReads()).toBe(1);
    for (const tab of tabs) expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", data: browser.server.session });
  });

  it("a tab opening beside others gets the session from them, not from the server", async () => {
    const browser = createBrowser();
    browser.server.signInDirectly();
    const first = browser.openTab({ refetchInterval: 60 });
    await browser.time.advance(1000);
    expect(browser.server.sessionReads()).toBe(1);
    const later = Array.from({ length: 4 }, () => browser.openTab({ refetchInterval: 60 }));
    await browser.time.advance(1000);
    expect(browser.server.sessionReads()).toBe(1);
    for (const tab of later) expect(tab.client.getSnapshot().data).toEqual(first.client.getSnapshot().data);
  });

  it("hands polling to another tab within the detection time when the leader dies", async () => {
    const browser = createBrowser({ crashDetectMs: 1000 });
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 3 }, () => browser.openTab({ refetchInterval: 60, initialSession }));
    await browser.time.advance(MINUTE + 100);
    expect(browser.hub.leaderName).toBe("tab1");
    tabs[0]!.kill();
    const crashedAt = browser.time.now();
    await browser.time.advance(2 * MINUTE);
    const polls = browser.server.state.requests.filter((request) => request.at > crashedAt);
    expect(polls.length).toBe(2);
    expect(polls.every((request) => request.tab === "tab2")).toBe(true);
    // The new leader kept the schedule of the old one: next poll one interval after the last sync.
    expect(polls[0]!.at - crashedAt).toBeLessThanOrEqual(MINUTE);
    expect(tabs[1]!.client.getSnapshot().isLeader).toBe(true);
  });

  it("a leader that closes cleanly hands over at once", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const [first, second] = [browser.openTab({ refetchInterval: 60, initialSession }), browser.openTab({ refetchInterval: 60, initialSession })];
    await browser.time.advance(10);
    expect(first.client.getSnapshot().isLeader).toBe(true);
    const leaderEvents: string[] = [];
    second.client.on("leader", (event) => leaderEvents.push(event.source));
    first.client.destroy();
    await browser.time.advance(0);
    expect(second.client.getSnapshot().isLeader).toBe(true);
    expect(leaderEvents).toEqual(["local"]);
  });

  it("a hidden follower makes no request, even across focus-throttle windows", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    browser.openTab({ refetchInterval: 0, initialSession });
    const follower = browser.openTab({ refetchInterval: 0, initialSession });
    follower.page.hide();
    await browser.time.advance(30 * MINUTE);
    expect(browser.server.state.requests.filter((request) => request.tab === "tab2")).toEqual([]);
  });
});

describe("focus", () => {
  it("10 tabs focusing within one second make one request", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 10 }, () => browser.openTab({ refetchInterval: 0, initialSession }));
    await browser.time.advance(MINUTE);
    for (const tab of tabs) {
      tab.page.focus();
      await browser.time.advance(100);
    }
    await browser.time.advance(1000);
    expect(browser.server.sessionReads()).toBe(1);
  });

  it("tabs focusing at the same moment make one request even when the answer reaches them after the lock does", async () => {
    const browser = createBrowser({ messageDelayMs: 3 });
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 10 }, () => browser.openTab({ refetchInterval: 0, initialSession }));
    await browser.time.advance(MINUTE);
    for (const tab of tabs) tab.page.focus();
    await browser.time.advance(2000);
    expect(browser.server.sessionReads()).toBe(1);
  });

  it("skips the refresh when any tab synced within focusThrottle", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const [a, b] = [browser.openTab({ refetchInterval: 0, initialSession }), browser.openTab({ refetchInterval: 0, initialSession })];
    await browser.time.advance(4000);
    a.page.focus();
    await browser.time.advance(10);
    expect(browser.server.sessionReads()).toBe(0);
    await browser.time.advance(2000);
    a.page.focus();
    await browser.time.advance(100);
    expect(browser.server.sessionReads()).toBe(1);
    b.page.focus();
    await browser.time.advance(100);
    expect(browser.server.sessionReads()).toBe(1);
  });

  it("refetchOnWindowFocus: false ignores focus", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, refetchOnWindowFocus: false, initialSession });
    await browser.time.advance(MINUTE);
    tab.page.focus();
    await browser.time.advance(1000);
    expect(browser.server.sessionReads()).toBe(0);
  });
});

describe("network", () => {
  it("1 hour offline makes 0 requests and reconnecting makes 1, whatever the number of tabs", async () => {
    const browser = createBrowser({ maxAge: 86_400 });
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 5 }, () => browser.openTab({ refetchInterval: 60, initialSession }));
    await browser.time.advance(10);
    for (const tab of tabs) tab.page.setOnline(false);
    const offlineAt = browser.time.now();
    for (let i = 0; i < 60; i++) {
      tabs[i % 5]!.page.focus();
      await browser.time.advance(MINUTE);
    }
    expect(browser.server.sessionReads(offlineAt)).toBe(0);
    expect(tabs[0]!.client.getSnapshot()).toMatchObject({ status: "authenticated", isStale: true });
    const back = browser.time.now();
    for (const tab of tabs) tab.page.setOnline(true);
    await browser.time.advance(1000);
    expect(browser.server.sessionReads(back)).toBe(1);
    for (const tab of tabs) expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", isStale: false });
  });

  it("refetchWhenOffline: true keeps polling while the browser reports offline", async () => {
    const browser = createBrowser({ maxAge: 86_400 });
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 60, refetchWhenOffline: true, initialSession });
    tab.page.setOnline(false);
    await browser.time.advance(5 * MINUTE);
    expect(browser.server.sessionReads()).toBe(5);
    expect(tab.client.getSnapshot().isStale).toBe(false);
  });

  it("10 minutes of 503s keep the session authenticated and stale, retrying with capped backoff", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 60, initialSession });
    const errors: string[] = [];
    tab.client.on("error", (event) => errors.push(event.error!.code));
    await browser.time.advance(30_000);
    browser.server.state.mode = "503";
    const failingFrom = browser.time.now();
    await browser.time.advance(10 * MINUTE);
    const attempts = browser.server.state.requests.filter((request) => request.at >= failingFrom).map((request) => request.at);
    expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", isStale: true, data: initialSession });
    expect(tab.client.getSnapshot().error?.code).toBe("server");
    const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
    // Each wait is at least half its ceiling (1 s, 2 s, 4 s … capped at 60 s) and never above it.
    gaps.forEach((gap, i) => {
      const ceiling = Math.min(60_000, 1000 * 2 ** i);
      expect(gap).toBeGreaterThanOrEqual(ceiling / 2);
      expect(gap).toBeLessThanOrEqual(ceiling + 100);
    });
    expect(attempts.length).toBeGreaterThanOrEqual(10);
    expect(attempts.length).toBeLessThanOrEqual(25);
    expect(errors.length).toBe(attempts.length);
    browser.server.state.mode = "ok";
    await browser.time.advance(61_000);
    expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", isStale: false, error: null });
  });
});

describe("tabs starting together (issue 11, 4b)", () => {
  it.each([
    [0, 0],
    [3, 0],
    [3, 150],
    [3, 105],
  ])(
    "10 tabs opened at once (message delay %i ms, election after %i ms): the leader's first poll is armed, and polling goes on",
    async (messageDelayMs, electionDelayMs) => {
      const browser = createBrowser({ messageDelayMs, electionDelayMs });
      browser.server.signInDirectly();
      Array.from({ length: 10 }, () => browser.openTab({ refetchInterval: 2 }));
      await browser.time.advance(1_000);
      const from = browser.time.now();
      await browser.time.advance(20_000);
      // One poll per 2 s for the browser.
      expect(browser.server.sessionReads(from)).toBeGreaterThanOrEqual(9);
      expect(browser.server.sessionReads(from)).toBeLessThanOrEqual(11);
    },
  );
});

import { describe, expect, it } from "vitest";
import { createBrowser } from "./harness.ts";

const SECOND = 1000;

describe("an outage, in every tab", () => {
  it("every tab shows the session stale, with the error, while the leader's reads fail, and fresh again after", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 4 }, () => browser.openTab({ refetchInterval: 2, initialSession }));
    await browser.time.advance(3 * SECOND);
    browser.server.state.mode = "503";
    await browser.time.advance(5 * SECOND);
    for (const tab of tabs) {
      expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", isStale: true });
      expect(tab.client.getSnapshot().error).toMatchObject({ code: "server", status: 503 });
    }
    // Followers heard about it; they did not each ask.
    expect(new Set(browser.server.state.requests.map((request) => request.tab))).toEqual(new Set(["tab1"]));
    browser.server.state.mode = "ok";
    await browser.time.advance(3 * SECOND);
    for (const tab of tabs) expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", isStale: false, error: null });
  });

  it("after a 60 s outage the tabs are fresh again within about one poll interval, and retries never come faster than backoff allows", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 4 }, () => browser.openTab({ refetchInterval: 2, initialSession }));
    await browser.time.advance(3 * SECOND);
    browser.server.state.mode = "503";
    const outageStart = browser.time.now();
    await browser.time.advance(60 * SECOND);
    const during = browser.server.sessionReads(outageStart);
    browser.server.state.mode = "ok";
    const recovered = browser.time.now();
    await browser.time.advance(2.5 * SECOND);
    for (const tab of tabs) expect(tab.client.getSnapshot()).toMatchObject({ isStale: false, error: null });
    const firstAfter = browser.server.state.requests.find((request) => request.at >= recovered)!;
    expect(firstAfter.at - recovered).toBeLessThanOrEqual(2 * SECOND);
    // Backoff capped at the interval: no more than one retry per ~interval (jitter: half to all of it), none faster than 1 s apart.
    expect(during).toBeLessThanOrEqual(60);
    expect(during).toBeGreaterThanOrEqual(25);
  });

  it("obeys the server's Retry-After, even beyond the poll interval", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 2, initialSession });
    await browser.time.advance(3 * SECOND);
    let retryAfter = true;
    tab.client.destroy();
    const fetch = browser.server.fetchFor("tab9");
    const answered: number[] = [];
    const other = browser.openTab({
      refetchInterval: 2,
      initialSession,
      env: {
        fetch: async (input, init) => {
          answered.push(browser.time.now());
          if (retryAfter) return new Response("{}", { status: 503, headers: { "retry-after": "30" } });
          return fetch(input, init);
        },
      },
    });
    await browser.time.advance(29 * SECOND);
    expect(answered).toHaveLength(1);
    retryAfter = false;
    await browser.time.advance(6 * SECOND);
    expect(answered.length).toBeGreaterThanOrEqual(2);
    expect(answered[1]! - answered[0]!).toBeGreaterThanOrEqual(30 * SECOND);
    expect(other.client.getSnapshot()).toMatchObject({ isStale: false });
  });
});

describe("a tab whose first load failed", () => {
  it("retries on its own when the leader is signed out (found by the model-based test)", async () => {
    const browser = createBrowser({ electionDelayMs: 7 });
    browser.server.state.mode = "network";
    const leader = browser.openTab({ refetchInterval: 2, initialSession: null });
    const loading = browser.openTab({ refetchInterval: 2 });
    await browser.time.advance(200);
    expect(loading.client.getSnapshot()).toMatchObject({ status: "loading", error: { code: "network" } });
    browser.server.state.mode = "ok";
    await browser.time.advance(3 * SECOND);
    expect(leader.client.getSnapshot().isLeader).toBe(true);
    expect(loading.client.getSnapshot()).toMatchObject({ status: "unauthenticated", error: null });
  });
});

describe("back online", () => {
  it("one request for the browser: the leader's; followers do not stand in for a leader that was only offline", async () => {
    // Channel messages lag a little, as between processes: a follower's timers can run before the leader's "poll" arrives.
    const browser = createBrowser({ messageDelayMs: 3 });
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 3 }, () => browser.openTab({ refetchInterval: 2, initialSession }));
    await browser.time.advance(3 * SECOND);
    for (const tab of tabs) tab.page.setOnline(false);
    await browser.time.advance(6 * SECOND);
    const back = browser.time.now();
    for (const tab of [...tabs].reverse()) tab.page.setOnline(true);
    await browser.time.advance(500);
    expect(browser.server.sessionReads(back)).toBe(1);
  });
});

import { describe, expect, it } from "vitest";
import { createBrowser } from "./harness.ts";

const SECOND = 1000;

describe("a hung leader", () => {
  it("one follower keeps the session fresh while the leader's JavaScript is paused, and the leader yields when it resumes", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 4 }, () => browser.openTab({ refetchInterval: 2, initialSession }));
    await browser.time.advance(5 * SECOND);
    expect(browser.hub.leaderName).toBe("tab1");
    tabs[0]!.pause();
    const pausedAt = browser.time.now();
    await browser.time.advance(30 * SECOND);
    const during = browser.server.state.requests.filter((request) => request.at > pausedAt);
    // The leader is silent; followers stepped in, one at a time, roughly every interval plus grace.
    expect(during.length).toBeGreaterThanOrEqual(5);
    expect(during.every((request) => request.tab !== "tab1")).toBe(true);
    for (let i = 1; i < during.length; i++) expect(during[i]!.at - during[i - 1]!.at).toBeGreaterThanOrEqual(2 * SECOND);
    for (const tab of tabs.slice(1)) expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", isStale: false });
    expect(tabs[1]!.client.getSnapshot().data?.expires).toBe(browser.server.session!.expires);
    tabs[0]!.resume();
    const resumedAt = browser.time.now();
    await browser.time.advance(20 * SECOND);
    const after = browser.server.state.requests.filter((request) => request.at > resumedAt + 3 * SECOND);
    // Back to one poller (the leader), about one request per interval.
    expect(new Set(after.map((request) => request.tab))).toEqual(new Set(["tab1"]));
    expect(after.length).toBeLessThanOrEqual(9);
  });
});

import { describe, expect, it } from "vitest";
import { createBrowser } from "./harness.ts";

const SECOND = 1000;
const admin = { user: { id: "admin", name: "Root", role: "admin" }, expires: "2030-01-01T00:00:00.000Z" };
let sequence = 0;
const forged = (overrides: Record<string, unknown>) => ({ v: 2, type: "state", id: `forged-${++sequence}`, seen: [], reason: "signin", ...overrides });

describe("forged messages change nothing", () => {
  it("a well-formed message carrying another user's session, re-posted every second, is never shown; one read refutes it", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 4 }, () => browser.openTab({ refetchInterval: 60, initialSession }));
    await browser.time.advance(100);
    const seen: string[] = [];
    for (const tab of tabs) tab.client.subscribe(() => seen.push(String(tab.client.getSnapshot().data?.user.id)));
    const before = browser.server.sessionReads();
    for (let i = 0; i < 20; i++) {
      browser.hub.inject(forged({ session: admin, reason: i % 2 ? "refresh" : "signin" }));
      await browser.time.advance(SECOND);
    }
    expect(seen.filter((id) => id === "admin")).toEqual([]);
    for (const tab of tabs) expect(tab.client.getSnapshot().data?.user.id).toBe("u1");
    // A check per throttle window at most (5 s by default), for the whole browser.
    expect(browser.server.sessionReads() - before).toBeLessThanOrEqual(4);
    expect(tabs[1]!.client.droppedMessages).toBeGreaterThanOrEqual(19);
  });

  it("a forged sign-out leaves every tab signed in and polling", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 4 }, () => browser.openTab({ refetchInterval: 2, initialSession }));
    await browser.time.advance(100);
    browser.hub.inject(forged({ session: null, reason: "signout" }));
    await browser.time.advance(500);
    for (const tab of tabs) expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", data: { user: { id: "u1" } } });
    const after = browser.time.now();
    await browser.time.advance(10 * SECOND);
    expect(browser.server.sessionReads(after)).toBeGreaterThanOrEqual(4);
  });

  it("a genuine sign-out elsewhere (another tab's message) is confirmed and shown, with one read for all", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 4 }, () => browser.openTab({ refetchInterval: 60, initialSession }));
    await browser.time.advance(100);
    browser.server.session = null; // signed out at the server by a tab of this browser not modelled here
    browser.hub.inject(forged({ session: null, reason: "signout" }));
    await browser.time.advance(500);
    for (const tab of tabs) expect(tab.client.getSnapshot().status).toBe("unauthenticated");
    expect(browser.server.sessionReads()).toBe(1);
  });

  it("a message that moves the expiry earlier is checked before a tab can expire on it", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 2 }, () => browser.openTab({ refetchInterval: 60, initialSession }));
    await browser.time.advance(100);
    browser.hub.inject(forged({ reason: "refresh", session: { ...initialSession, expires: new Date(browser.time.now() + 1000).toISOString() } }));
    await browser.time.advance(5 * SECOND);
    for (const tab of tabs) expect(tab.client.getSnapshot().status).toBe("authenticated");
  });

  it("garbage on the channel never throws; a foreign version makes one tab ask, not every tab", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 4 }, () => browser.openTab({ refetchInterval: 0, initialSession }));
    await browser.time.advance(100);
    for (const tab of tabs) tab.page.focus();
    await browser.time.advance(100);
    const before = browser.server.sessionReads();
    for (const raw of [null, "x", 42, [], { forEach: 1 }, { type: null }]) browser.hub.inject(raw);
    browser.hub.inject({ v: 3, type: "state", id: "next", reason: "refresh" });
    await browser.time.advance(SECOND);
    expect(browser.time.uncaught).toEqual([]);
    expect(browser.server.sessionReads() - before).toBe(1);
  });
});

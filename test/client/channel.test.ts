import { describe, expect, it } from "vitest";
import { readMessage } from "../../src/client/messages.ts";
import { createBrowser } from "./harness.ts";

const valid = (overrides: Record<string, unknown> = {}) => ({
  v: 1,
  type: "session",
  from: "other",
  at: 1_000,
  reason: "refresh",
  session: { user: { name: "Ada" }, expires: "2030-01-01T00:00:00.000Z" },
  offset: 0,
  ...overrides,
});

describe("channel message validation", () => {
  it("accepts a well-formed message", () => {
    expect(readMessage(valid(), "self", 2_000)).toMatchObject({ ok: true });
    expect(readMessage({ v: 1, type: "hello", from: "other" }, "self", 0)).toMatchObject({ ok: true });
  });

  it.each([
    ["null", null],
    ["a string", "session"],
    ["a number", 42],
    ["an unknown type", { v: 1, type: "admin", from: "x" }],
    ["the foreign shape of catalogue 29", { type: "session", user: { role: "admin" } }],
  ])("refuses %s as not ours", (_, raw) => {
    expect(readMessage(raw, "self", 2_000)).toEqual({
      ok: false,
      ours: raw !== null && typeof raw === "object" && (raw as { type?: unknown }).type === "session",
    });
  });

  it.each([
    ["another version", valid({ v: 2 })],
    ["a message claiming to come from this tab", valid({ from: "self" })],
    ["a 100-character sender", valid({ from: "x".repeat(100) })],
    ["an unknown reason", valid({ reason: "elevate" })],
    ["a timestamp from the future", valid({ at: 60_000 })],
    ["a non-numeric timestamp", valid({ at: "1000" })],
    ["an infinite offset", valid({ offset: Infinity })],
    ["a session without user", valid({ session: { expires: "2030-01-01T00:00:00.000Z" } })],
    ["a session with a bad expiry", valid({ session: { user: {}, expires: "soon" } })],
    ["a session array", valid({ session: [] })],
    ["a 1 MB session", valid({ session: { user: { blob: "x".repeat(1_000_000) }, expires: "2030-01-01T00:00:00.000Z" } })],
  ])("refuses %s", (_, raw) => {
    expect(readMessage(raw, "self", 2_000).ok).toBe(false);
  });
});

describe("forged and malformed messages in a running tab", () => {
  it("drops and counts them, never throws, and triggers at most one refresh per throttle window", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, initialSession });
    const garbage: unknown[] = [
      null,
      "x",
      1,
      { type: "session", user: { role: "admin" } },
      valid({ v: 99 }),
      valid({ at: Number.MAX_SAFE_INTEGER }),
      new Uint8Array(4),
      { v: 1, type: "session", from: {} },
    ];
    for (let i = 0; i < 10_000; i++) browser.hub.inject(garbage[i % garbage.length]);
    await browser.time.advance(1000);
    expect(tab.client.droppedMessages).toBe(10_000);
    expect(browser.server.sessionReads()).toBe(1);
    expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", data: browser.server.session });
    expect(browser.hub.stats.messages).toBe(1); // the refresh result, broadcast once; no re-broadcast loop
  });

  it("never adopts data from a message that fails validation", async () => {
    const browser = createBrowser();
    const tab = browser.openTab({ refetchInterval: 0, initialSession: null });
    browser.hub.inject({ v: 1, type: "session", from: "evil", at: browser.time.now(), reason: "signin", session: { user: { role: "admin" } }, offset: 0 });
    await browser.time.advance(100);
    expect(tab.client.getSnapshot().data).toBeNull();
  });

  it("a hidden follower ignores forged messages entirely (no request)", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    browser.openTab({ refetchInterval: 0, initialSession });
    const follower = browser.openTab({ refetchInterval: 0, initialSession });
    await browser.time.advance(10);
    follower.page.hide();
    browser.hub.inject(valid({ v: 2 }));
    await browser.time.advance(100);
    expect(browser.server.state.requests.filter((request) => request.tab === "tab2")).toEqual([]);
  });
});

describe("normalised payloads", () => {
  it("treats a relayed {} session as signed out, not as a session", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, initialSession });
    browser.hub.inject({ v: 1, type: "session", from: "v4-tab", at: browser.time.now(), reason: "signout", session: {}, offset: 0 });
    await browser.time.advance(10);
    expect(tab.client.getSnapshot()).toMatchObject({ status: "unauthenticated", data: null });
  });
});

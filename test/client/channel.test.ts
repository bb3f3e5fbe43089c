import { describe, expect, it } from "vitest";
import { readMessage } from "../../src/client/messages.ts";
import { readSession } from "../../src/client/session-shape.ts";

/** A channel message checked as a tab checks it (sessions with the client's check of server answers). */
const readChannel = (raw: unknown) => readMessage(raw, readSession);
import { createBrowser } from "./harness.ts";

const valid = (overrides: Record<string, unknown> = {}) => ({
  v: 2,
  type: "state",
  id: "m-1",
  reason: "refresh",
  seen: [],
  session: { user: { name: "Ada" }, expires: "2030-01-01T00:00:00.000Z" },
  server: 1_000,
  ...overrides,
});

describe("channel message validation", () => {
  it("accepts a well-formed message", () => {
    expect(readChannel(valid())).toMatchObject({ ok: true });
    expect(readChannel({ v: 2, type: "hello", id: "h" })).toMatchObject({ ok: true });
    expect(readChannel({ v: 2, type: "poll", id: "p" })).toMatchObject({ ok: true });
    expect(readChannel({ v: 2, type: "failure", id: "f", code: "server", status: 503 })).toMatchObject({ ok: true });
  });

  it.each([
    ["null", null],
    ["a string", "session"],
    ["a number", 42],
    ["an unknown type", { v: 2, type: "admin", id: "x" }],
    ["the foreign shape of catalogue 29", { type: "session", user: { role: "admin" } }],
  ])("refuses %s as not ours", (_, raw) => {
    expect(readChannel(raw)).toEqual({ ok: false, ours: false });
  });

  it.each([
    ["another version", valid({ v: 1 })],
    ["a message without id", valid({ id: undefined })],
    ["a 100-character id", valid({ id: "x".repeat(100) })],
    ["an unknown reason", valid({ reason: "elevate" })],
    ["a non-array seen", valid({ seen: "w" })],
    ["a seen list of 17 writes", valid({ seen: Array.from({ length: 17 }, (_, i) => `w${i}`) })],
    ["a non-numeric server time", valid({ server: "1000" })],
    ["an infinite server time", valid({ server: Infinity })],
    ["an unknown failure code", { v: 2, type: "failure", id: "f", code: "elevate" }],
    ["a failure with a bogus status", { v: 2, type: "failure", id: "f", code: "server", status: 9999 }],
    ["a session without user", valid({ session: { expires: "2030-01-01T00:00:00.000Z" } })],
    ["a session with a bad expiry", valid({ session: { user: {}, expires: "soon" } })],
    ["a session array", valid({ session: [] })],
    ["a 1 MB session", valid({ session: { user: { blob: "x".repeat(1_000_000) }, expires: "2030-01-01T00:00:00.000Z" } })],
  ])("refuses %s", (_, raw) => {
    expect(readChannel(raw).ok).toBe(false);
  });
});

describe("forged and malformed messages in a running tab", () => {
  it("drops and counts them, never throws, and triggers at most one refresh per throttle window", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, initialSession });
    await browser.time.settle(); // the tabs link up once their tab protocol (a chunk of its own) has loaded
    const garbage: unknown[] = [
      null,
      "x",
      1,
      { type: "session", user: { role: "admin" } },
      valid({ v: 99 }),
      valid({ server: "soon" }),
      new Uint8Array(4),
      { v: 2, type: "state", id: {} },
    ];
    for (let i = 0; i < 10_000; i++) browser.hub.inject(garbage[i % garbage.length]);
    await browser.time.advance(1000);
    expect(tab.client.droppedMessages).toBe(10_000);
    expect(browser.server.sessionReads()).toBe(1);
    expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", data: browser.server.session });
    // The leader's "poll" sign of life and the refresh result, each once: no re-broadcast loop.
    expect(browser.hub.stats.messages).toBe(2);
  });

  it("never adopts data from a message that fails validation", async () => {
    const browser = createBrowser();
    const tab = browser.openTab({ refetchInterval: 0, initialSession: null });
    browser.hub.inject({ v: 2, type: "state", id: "evil", seen: [], reason: "signin", session: { user: { role: "admin" } } });
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
    browser.hub.inject(valid({ v: 3 }));
    await browser.time.advance(100);
    expect(browser.server.state.requests.filter((request) => request.tab === "tab2")).toEqual([]);
  });
});

describe("normalised payloads", () => {
  it("treats a relayed {} session as signed out, not as a session", async () => {
    const browser = createBrowser();
    const tab = browser.openTab({ refetchInterval: 0 });
    await browser.time.settle(); // the tabs link up once their tab protocol (a chunk of its own) has loaded
    // A loading tab checks a "signed out" it hears with the server (here: signed out too).
    browser.hub.inject({ v: 2, type: "state", id: "v4-tab", seen: [], reason: "sync", session: {} });
    await browser.time.advance(100);
    expect(tab.client.getSnapshot()).toMatchObject({ status: "unauthenticated", data: null });
  });
});

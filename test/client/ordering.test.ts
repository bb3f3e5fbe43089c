import { describe, expect, it } from "vitest";
import { createBrowser } from "./harness.ts";

describe("ordering", () => {
  it("ignores a response overtaken by a newer one", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    // Without Web Locks (older browsers) reads from two tabs can overlap.
    const options = { refetchInterval: 0, initialSession, env: { withLock: undefined } };
    const [slow, fast] = [browser.openTab(options), browser.openTab(options)];
    browser.server.state.latencyOf.tab1 = 4000;
    browser.server.state.stamp = 1;
    const slowRead = slow.client.refresh(); // the server answers stamp 1 at +2 s, the tab sees it at +4 s
    await browser.time.advance(2500);
    browser.server.state.stamp = 2;
    void fast.client.refresh(); // started later, answered sooner, broadcast to the slow tab
    await browser.time.advance(100);
    expect(slow.client.getSnapshot().data?.stamp).toBe(2);
    await browser.time.advance(5000);
    await slowRead;
    expect(slow.client.getSnapshot().data?.stamp).toBe(2);
    expect(fast.client.getSnapshot().data?.stamp).toBe(2);
  });

  it("never lets a read that was in flight undo a sign-out", async () => {
    const browser = createBrowser({ latency: 400 });
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, initialSession });
    const read = tab.client.refresh();
    await browser.time.advance(100); // the read reached the server and will answer with the session
    const out = tab.client.signOut({ redirect: false });
    await browser.time.advance(2000);
    await Promise.all([read, out]);
    expect(tab.client.getSnapshot()).toMatchObject({ status: "unauthenticated", data: null });
  });

  it("a read sent while a sign-out is on its way and answered after it does not undo it, in a tab with no tab link", async () => {
    const browser = createBrowser({ latency: 400 });
    const initialSession = browser.server.signInDirectly();
    const serverFetch = browser.server.fetchFor("tab1");
    // Reads come back a second late (a slow proxy, say): the server answered with the session before the sign-out.
    const fetch = async (input: string, init: RequestInit = {}) => {
      const response = await serverFetch(input, init);
      if (input.endsWith("/session") && !init.method) await new Promise((resolve) => browser.time.setTimeout(() => resolve(undefined), 1_000));
      return response;
    };
    const tab = browser.openTab({ refetchInterval: 0, initialSession, crossTab: false, env: { fetch } });
    const out = tab.client.signOut({ redirect: false });
    await browser.time.advance(100);
    const read = tab.client.refresh(); // after the write began, so the write does not abandon it
    await browser.time.advance(1_000);
    expect(tab.client.getSnapshot().status).toBe("unauthenticated"); // the sign-out's answer came first
    await browser.time.advance(2_000);
    await Promise.all([read, out]);
    expect(browser.server.state.requests.map((request) => `${request.method} ${request.path}`)).toContain("GET /session");
    expect(tab.client.getSnapshot()).toMatchObject({ status: "unauthenticated", data: null });
  });

  it("ignores a read answered before a write this tab has seen, and applies a newer one", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, initialSession });
    await browser.time.advance(10);
    const state = (overrides: Record<string, unknown>) => ({ v: 2, type: "state", id: "m" + Math.random().toString(36).slice(2), seen: [], ...overrides });
    const update = { ...initialSession, user: initialSession.user, marker: "after-write" };
    browser.hub.inject(state({ id: "write-1", reason: "update", session: update }));
    await browser.time.advance(10);
    expect(tab.client.getSnapshot().data?.marker).toBe("after-write");
    browser.hub.inject(state({ id: "write-2", reason: "update", session: { ...update, marker: "second" } }));
    await browser.time.advance(10);
    // A read that went out after write-1 but before write-2: older than what the tab shows.
    browser.hub.inject(state({ reason: "refresh", seen: ["write-1"], session: { ...update, marker: "stale" } }));
    await browser.time.advance(10);
    expect(tab.client.getSnapshot().data?.marker).toBe("second");
    browser.hub.inject(state({ reason: "refresh", seen: ["write-1", "write-2"], session: { ...update, marker: "fresh" } }));
    await browser.time.advance(10);
    expect(tab.client.getSnapshot().data?.marker).toBe("fresh");
  });
});

describe("expiry", () => {
  it("refreshes ahead of expiry, judged by the server clock, with a client clock 10 minutes off", async () => {
    for (const clientSkew of [10 * 60_000, -10 * 60_000]) {
      const browser = createBrowser({ maxAge: 300, clientSkew });
      browser.server.signInDirectly();
      const tab = browser.openTab({ refetchInterval: 3600 });
      const expired: string[] = [];
      tab.client.on("expired", () => expired.push("expired"));
      await browser.time.advance(1000);
      const first = tab.client.getSnapshot().data!;
      const expiresServer = Date.parse(first.expires);
      await browser.time.advance(300_000);
      const reads = browser.server.state.requests.filter((request) => request.path === "/session");
      expect(reads.length).toBeGreaterThanOrEqual(2);
      // The refresh reached the server before the session expired there (server time = real time here).
      expect(reads[1]!.at).toBeLessThan(expiresServer);
      expect(reads[1]!.at).toBeGreaterThan(expiresServer - 61_000);
      expect(tab.client.getSnapshot().status).toBe("authenticated");
      expect(expired).toEqual([]);
      tab.client.destroy();
    }
  });

  it("a session expiring in 30 days (beyond setTimeout's 24.8-day ceiling) arms no early timer: no request, no expired event", async () => {
    const browser = createBrowser({ maxAge: 30 * 86_400 });
    browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0 });
    const events: string[] = [];
    tab.client.on("expired", (event) => events.push(event.type));
    await browser.time.advance(1000);
    expect(browser.server.sessionReads()).toBe(1);
    await browser.time.advance(60 * 60_000);
    expect(browser.server.sessionReads()).toBe(1);
    expect(events).toEqual([]);
    expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", isStale: false });
  });

  it("goes unauthenticated and emits expired when the session lapses without a refresh", async () => {
    const browser = createBrowser({ maxAge: 120 });
    browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0 });
    const events: string[] = [];
    tab.client.on("expired", (event) => events.push(`${event.type}:${event.source}`));
    await browser.time.advance(1000);
    tab.page.setOnline(false);
    await browser.time.advance(130_000);
    expect(tab.client.getSnapshot()).toMatchObject({ status: "unauthenticated", data: null });
    expect(events).toEqual(["expired:local"]);
  });

  it("does not loop when a refresh ahead of expiry returns the same expiry", async () => {
    const browser = createBrowser({ maxAge: 120 });
    const fixed = browser.server.signInDirectly();
    const tab = browser.openTab({
      refetchInterval: 0,
      initialSession: fixed,
      env: { fetch: async () => new Response(JSON.stringify(fixed), { headers: { date: new Date(browser.time.now()).toUTCString() } }) },
    });
    let reads = 0;
    tab.client.on("refresh", () => reads++);
    await browser.time.advance(200_000);
    expect(reads).toBe(1);
    expect(tab.client.getSnapshot().status).toBe("unauthenticated");
  });
});

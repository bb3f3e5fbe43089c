import { describe, expect, it } from "vitest";
import { SessionError } from "../../src/client/index.ts";
import { createBrowser } from "./harness.ts";

describe("sign-in, update and sign-out across tabs", () => {
  it("a sign-in in one tab reaches the others with its data, confirmed by one read for the whole browser", async () => {
    const browser = createBrowser();
    const tabs = Array.from({ length: 3 }, () => browser.openTab({ refetchInterval: 0, initialSession: null }));
    const events: string[] = [];
    tabs.forEach((tab) => tab.client.on("signin", (event) => events.push(`${tab.name}:${event.source}`)));
    const signingIn = tabs[0]!.client.signIn("credentials", { username: "ada", password: "pw" }, { redirect: false });
    await browser.time.advance(200);
    expect(await signingIn).toEqual({ ok: true, error: null, status: 200, url: "http://localhost/current" });
    for (const tab of tabs) expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", data: browser.server.session });
    // The channel is not trusted with a change of user: one other tab confirms it with the server, for all.
    const others = browser.server.state.requests.filter((request) => request.tab !== "tab1");
    expect(others.map((request) => `${request.method} ${request.path}`)).toEqual(["GET /session"]);
    expect(events.sort()).toEqual(["tab1:local", "tab2:remote", "tab3:remote"]);
    expect(tabs[0]!.page.navigations).toEqual([]);
  });

  it("tells the other tabs before this tab's own listeners render", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const [a] = [browser.openTab({ refetchInterval: 0, initialSession }), browser.openTab({ refetchInterval: 0, initialSession })];
    await browser.time.advance(10);
    const postedWhenNotified: number[] = [];
    a.client.subscribe(() => postedWhenNotified.push(browser.hub.stats.messages));
    const before = browser.hub.stats.messages;
    const out = a.client.signOut({ redirect: false });
    await browser.time.advance(200);
    await out;
    expect(postedWhenNotified[0]).toBe(before + 1);
  });

  it("refresh() after a change made elsewhere answers with a read that started after the call, not one already in flight", async () => {
    const browser = createBrowser({ latency: 100 });
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, initialSession });
    // A read is on its way (say a focus refresh) when the app revokes the session by its own request and asks again.
    const inFlight = tab.client.refresh();
    await browser.time.advance(60);
    browser.server.session = null;
    const after = tab.client.refresh();
    await browser.time.advance(400);
    expect((await inFlight).status).toBe("authenticated");
    expect((await after).status).toBe("unauthenticated");
    expect(browser.server.sessionReads()).toBe(2);
  });

  it("concurrent refresh() calls share one read", async () => {
    const browser = createBrowser();
    const tab = browser.openTab({ refetchInterval: 0, initialSession: browser.server.signInDirectly() });
    const calls = [tab.client.refresh(), tab.client.refresh(), tab.client.refresh()];
    await browser.time.advance(200);
    await Promise.all(calls);
    expect(browser.server.sessionReads()).toBe(1);
  });

  it("a failed sign-in reports CredentialsSignin and changes nothing", async () => {
    const browser = createBrowser();
    const tab = browser.openTab({ refetchInterval: 0, initialSession: null });
    const attempt = tab.client.signIn("credentials", { password: "wrong" }, { redirect: false });
    await browser.time.advance(200);
    expect(await attempt).toMatchObject({ ok: false, error: "CredentialsSignin", status: 401 });
    expect(tab.client.getSnapshot().status).toBe("unauthenticated");
  });

  it("sign-in with redirect navigates to the answered url", async () => {
    const browser = createBrowser();
    const tab = browser.openTab({ refetchInterval: 0, initialSession: null });
    const attempt = tab.client.signIn("credentials", { password: "pw" }, { callbackUrl: "http://localhost/home" });
    await browser.time.advance(200);
    await attempt;
    expect(tab.page.navigations).toEqual(["http://localhost/home"]);
  });

  it("a sign-out reaches every tab, confirmed by one read for the whole browser", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 3 }, () => browser.openTab({ refetchInterval: 0, initialSession }));
    const events: string[] = [];
    tabs.forEach((tab) => tab.client.on("signout", (event) => events.push(`${tab.name}:${event.source}`)));
    const out = tabs[1]!.client.signOut({ redirect: false });
    await browser.time.advance(200);
    await out;
    for (const tab of tabs) expect(tab.client.getSnapshot()).toMatchObject({ status: "unauthenticated", data: null });
    const requests = browser.server.state.requests.map((request) => `${request.method} ${request.path}`);
    expect(requests).toEqual(["GET /csrf", "POST /signout", "GET /session"]);
    expect(browser.server.state.requests[2]!.tab).not.toBe("tab2");
    expect(events.sort()).toEqual(["tab1:remote", "tab2:local", "tab3:remote"]);
  });

  it("update() posts with one CSRF token, runs concurrent calls in order, and broadcasts the result", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const [a, b] = [browser.openTab({ refetchInterval: 0, initialSession }), browser.openTab({ refetchInterval: 0, initialSession })];
    const updates: string[] = [];
    b.client.on("update", (event) => updates.push(`${event.source}:${String(event.session?.theme)}`));
    const first = a.client.update({ theme: "dark" });
    const second = a.client.update({ theme: "light" });
    await browser.time.advance(500);
    await Promise.all([first, second]);
    const writes = browser.server.state.requests.map((request) => `${request.method} ${request.path}`);
    expect(writes).toEqual(["GET /csrf", "POST /session", "POST /session"]);
    expect(b.client.getSnapshot().data?.theme).toBe("light");
    expect(updates).toEqual(["remote:dark", "remote:light"]);
    // Data stays visible during the update: no `loading` flash.
    expect(a.client.getSnapshot().status).toBe("authenticated");
  });

  it("fetches a new CSRF token once when the server refuses the cached one", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, initialSession });
    const original = tab.client.update({ n: 1 });
    await browser.time.advance(200);
    await original;
    let refusals = 1;
    const fetch = browser.server.fetchFor("tab1");
    tab.client.destroy();
    const again = browser.openTab({
      refetchInterval: 0,
      initialSession,
      env: {
        fetch: async (input, init = {}) => {
          if (init.method === "POST" && refusals-- > 0) return new Response(JSON.stringify({ error: "csrf_invalid" }), { status: 403 });
          return fetch(input, init);
        },
      },
    });
    const retried = again.client.update({ n: 2 });
    await browser.time.advance(500);
    expect((await retried)?.n).toBe(2);
  });

  it("a write cancels this tab's read still queued behind another tab's lock: no GET from it", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const [holder, writer] = [browser.openTab({ refetchInterval: 0, initialSession }), browser.openTab({ refetchInterval: 0, initialSession })];
    await browser.time.settle(); // the tabs link up once their tab protocol (a chunk of its own) has loaded
    browser.server.state.latencyOf.tab1 = 500; // tab1 holds the refresh lock for half a second
    void holder.client.refresh();
    await browser.time.advance(10);
    const queued = writer.client.refresh(); // waits for the lock
    const updated = writer.client.update({ theme: "dark" });
    await browser.time.advance(2000);
    await Promise.all([queued, updated]);
    expect(browser.server.state.requests.filter((request) => request.tab === "tab2").map((request) => `${request.method} ${request.path}`)).toEqual([
      "GET /csrf",
      "POST /session",
    ]);
    expect(writer.client.getSnapshot().data?.theme).toBe("dark");
  });

  it("update() without a session rejects with code unauthenticated", async () => {
    const browser = createBrowser();
    const tab = browser.openTab({ refetchInterval: 0, initialSession: null });
    await expect(tab.client.update({})).rejects.toMatchObject({ code: "unauthenticated" });
    expect(browser.server.state.requests).toEqual([]);
  });

  it("a destroyed client refuses writes with code destroyed", async () => {
    const browser = createBrowser();
    const tab = browser.openTab({ refetchInterval: 0, initialSession: null });
    tab.client.destroy();
    await expect(tab.client.signOut()).rejects.toBeInstanceOf(SessionError);
  });
});

describe("a page opened after a sign-in by navigation", () => {
  it("does not take the other tabs' stale 'signed out': it checks it with the server (one request), and they follow", async () => {
    const browser = createBrowser();
    const [first, second] = [browser.openTab({ refetchInterval: 60 }), browser.openTab({ refetchInterval: 60 })];
    await browser.time.advance(1000);
    expect(first.client.getSnapshot().status).toBe("unauthenticated");
    // A magic link or an OAuth callback signed the browser in: the cookie is set, no tab was told.
    browser.server.signInDirectly();
    const landed = browser.openTab({ refetchInterval: 60 });
    const before = browser.server.sessionReads();
    await browser.time.advance(1000);
    expect(landed.client.getSnapshot().status).toBe("authenticated");
    expect(browser.server.state.requests.filter((request) => request.tab === landed.name && request.path === "/session")).toHaveLength(1);
    // Its answer reaches the others as an announced change, checked once for them (one more read for the browser).
    for (const tab of [first, second]) expect(tab.client.getSnapshot().status).toBe("authenticated");
    expect(browser.server.sessionReads() - before).toBeLessThanOrEqual(2);
  });

  it("a page opened beside signed-in tabs still takes their state without a request", async () => {
    const browser = createBrowser();
    browser.server.signInDirectly();
    browser.openTab({ refetchInterval: 60 });
    await browser.time.advance(1000);
    const before = browser.server.sessionReads();
    const later = browser.openTab({ refetchInterval: 60 });
    await browser.time.advance(1000);
    expect(later.client.getSnapshot().status).toBe("authenticated");
    expect(browser.server.sessionReads() - before).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import type { ServerMode } from "./fake-server.ts";
import { createBrowser } from "./harness.ts";

describe("a failed refresh keeps the last good session", () => {
  it.each<[ServerMode, string, number | undefined]>([
    ["503", "server", 503],
    ["network", "network", undefined],
    ["html", "invalid_response", 200],
    ["redirect", "redirected", 302],
    ["401", "http", 401],
    ["404", "http", 404],
  ])("%s → error code %s, still authenticated, stale", async (mode, code, status) => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, initialSession });
    browser.server.state.mode = mode;
    const refreshed = tab.client.refresh();
    await browser.time.advance(100);
    const snapshot = await refreshed;
    expect(snapshot).toMatchObject({ status: "authenticated", data: initialSession, isStale: true });
    expect(snapshot.error).toMatchObject({ name: "SessionError", code, status });
  });

  it("a hanging server times out with code timeout", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, timeout: 3000, initialSession });
    browser.server.state.mode = "hang";
    const refreshed = tab.client.refresh();
    await browser.time.advance(3000);
    expect((await refreshed).error?.code).toBe("timeout");
    expect(tab.client.getSnapshot().status).toBe("authenticated");
  });

  it("timeout: Infinity means no practical limit, not a timer that fires at once (setTimeout's ceiling)", async () => {
    const browser = createBrowser({ latency: 5000 });
    browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, timeout: Infinity });
    await browser.time.advance(6000);
    expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", error: null });
  });

  it("a 200 that is not a session is invalid_response, never 'authenticated' with an error object", async () => {
    const browser = createBrowser();
    const tab = browser.openTab({ refetchInterval: 0, env: { fetch: async () => new Response(JSON.stringify({ message: "Internal error" })) } });
    await browser.time.advance(1000);
    expect(tab.client.getSnapshot()).toMatchObject({ status: "loading", data: null });
    expect(tab.client.getSnapshot().error?.code).toBe("invalid_response");
  });

  it("only a successful null signs the tab out; {} (next-auth v4) counts as null", async () => {
    for (const body of ["null", "{}"]) {
      const browser = createBrowser();
      const initialSession = browser.server.signInDirectly();
      const tab = browser.openTab({ refetchInterval: 0, initialSession, env: { fetch: async () => new Response(body) } });
      const events: string[] = [];
      tab.client.on("signout", (event) => events.push(event.source));
      await tab.client.refresh();
      expect(tab.client.getSnapshot()).toMatchObject({ status: "unauthenticated", data: null, error: null });
      expect(events).toEqual(["local"]);
    }
  });

  it("recovers on the next success and clears the error", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, initialSession });
    browser.server.state.mode = "network";
    const failing = tab.client.refresh();
    await browser.time.advance(100);
    await failing;
    browser.server.state.mode = "ok";
    const ok = tab.client.refresh();
    await browser.time.advance(100);
    expect(await ok).toMatchObject({ status: "authenticated", isStale: false, error: null });
  });

  it("concurrent refresh() calls in one tab share one request", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, initialSession });
    const calls = [tab.client.refresh(), tab.client.refresh(), tab.client.refresh()];
    await browser.time.advance(100);
    const results = await Promise.all(calls);
    expect(browser.server.sessionReads()).toBe(1);
    expect(new Set(results).size).toBe(1);
  });

  it("a stuck tab holding the lock cannot block the others beyond the bounded hold", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const [stuck, other] = [
      browser.openTab({ refetchInterval: 0, timeout: 2000, initialSession }),
      browser.openTab({ refetchInterval: 0, timeout: 2000, initialSession }),
    ];
    await browser.time.settle(); // the tabs link up once their tab protocol (a chunk of its own) has loaded
    browser.server.state.latencyOf.tab1 = 1_000_000; // tab1's request never returns
    void stuck.client.refresh();
    await browser.time.advance(10);
    const waiting = other.client.refresh();
    await browser.time.advance(3100);
    await waiting;
    expect(browser.server.state.requests.filter((request) => request.tab === "tab2")).toHaveLength(1);
    expect(other.client.getSnapshot()).toMatchObject({ status: "authenticated", isStale: false });
  });
});

import { describe, expect, it } from "vitest";
import { createSessionClient } from "../../src/client/index.ts";
import { createFakeEnv } from "./fake-env.ts";
import { createBrowser } from "./harness.ts";

function standalone() {
  const { env, ...fakes } = createFakeEnv();
  const client = createSessionClient({ basePath: "http://localhost/api/auth", refetchInterval: 60, env });
  return { ...fakes, client };
}

describe("lifecycle", () => {
  it("does no work until subscribed", async () => {
    const { time, server, client, page } = standalone();
    await time.advance(10 * 60_000);
    expect(server.state.requests).toEqual([]);
    expect(time.pending).toBe(0);
    expect(page.listenerCount).toBe(0);
    expect(client.getSnapshot().status).toBe("loading");
  });

  it("loads once on the first subscriber: loading, then the answer", async () => {
    const { time, server, client } = standalone();
    server.signInDirectly();
    const statuses: string[] = [];
    client.subscribe(() => statuses.push(client.getSnapshot().status));
    await time.advance(1000);
    expect(statuses.at(-1)).toBe("authenticated");
    expect(statuses).not.toContain("unauthenticated");
    expect(server.sessionReads()).toBe(1);
  });

  it("a server-rendered initial session causes no request on mount", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 60, initialSession });
    await browser.time.advance(59_000);
    expect(browser.server.state.requests).toEqual([]);
    expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", data: initialSession });
  });

  it("a Strict Mode double mount (subscribe, unsubscribe, subscribe) starts once", async () => {
    const { time, server, client, links } = standalone();
    const first = client.subscribe(() => {});
    first();
    const second = client.subscribe(() => {});
    await time.advance(1000);
    expect(links).toEqual({ opened: 1, closed: 0 });
    expect(server.sessionReads()).toBe(1);
    second();
  });

  it("stops after the last subscriber leaves, after a grace period, leaving no timer or listener", async () => {
    const { time, client, page, links, server } = standalone();
    server.signInDirectly();
    const unsubscribe = client.subscribe(() => {});
    await time.advance(1000);
    unsubscribe();
    expect(links.closed).toBe(0);
    await time.advance(1000);
    expect(links).toEqual({ opened: 1, closed: 1 });
    expect(time.pending).toBe(0);
    expect(page.listenerCount).toBe(0);
    const reads = server.sessionReads();
    await time.advance(10 * 60_000);
    expect(server.sessionReads()).toBe(reads);
  });

  it("destroy() leaves no timer, listener or channel behind", async () => {
    const { time, client, page, links, server } = standalone();
    server.signInDirectly();
    client.subscribe(() => {});
    client.on("refresh", () => {});
    await time.advance(1000);
    client.destroy();
    expect(time.pending).toBe(0);
    expect(page.listenerCount).toBe(0);
    expect(links).toEqual({ opened: 1, closed: 1 });
  });

  it("keeps the snapshot object across polls that bring the same data", async () => {
    const browser = createBrowser();
    const fixed = { user: { id: "u1" }, expires: "2030-01-01T00:00:00.000Z" };
    const tab = browser.openTab({ refetchInterval: 60, env: { fetch: async () => new Response(JSON.stringify(fixed)) } });
    await browser.time.advance(1000);
    const before = tab.client.getSnapshot();
    let notifications = 0;
    tab.client.subscribe(() => notifications++);
    let polls = 0;
    tab.client.on("refresh", () => polls++);
    await browser.time.advance(5 * 60_000);
    expect(polls).toBe(5);
    expect(tab.client.getSnapshot()).toBe(before);
    expect(notifications).toBe(0);
  });

  it("a throwing listener does not break the others", async () => {
    const { time, server, client } = standalone();
    server.signInDirectly();
    const seen: string[] = [];
    client.subscribe(() => {
      throw new Error("listener bug");
    });
    client.subscribe(() => seen.push(client.getSnapshot().status));
    await time.advance(500);
    expect(seen.at(-1)).toBe("authenticated");
    expect(time.uncaught.map((error) => (error as Error).message)).toContain("listener bug");
  });

  it("rejects invalid options with a TypeError at creation", () => {
    expect(() => createSessionClient({ refetchInterval: -1 })).toThrow(TypeError);
    expect(() => createSessionClient({ focusThrottle: Number.NaN })).toThrow(/focusThrottle/);
    // `timeout` is in milliseconds (the other durations are seconds) and must leave time for an answer.
    for (const timeout of [-1, 0, Number.NaN, "5000"]) expect(() => createSessionClient({ timeout: timeout as number })).toThrow(TypeError);
    expect(() => createSessionClient({ timeout: 0 })).toThrow(/timeout must be a positive number of ms/);
    expect(() => createSessionClient({ timeout: 5000 })).not.toThrow();
  });
});

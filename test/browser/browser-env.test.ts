import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { browserEnv, createSessionClient, type SessionClient } from "../../src/client/index.ts";

const session = { user: { id: "u1", name: "Ada" }, expires: "2030-01-01T00:00:00.000Z" };
let signedIn = true;
const requests: string[] = [];

const server = setupServer(
  http.get("*/api/auth/session", () => {
    requests.push("GET /session");
    return HttpResponse.json(signedIn ? session : null);
  }),
  http.get("*/api/auth/csrf", () => HttpResponse.json({ csrfToken: "token" })),
  http.post("*/api/auth/signout", async ({ request }) => {
    requests.push(`POST /signout ${new URLSearchParams(await request.text()).get("csrfToken")}`);
    signedIn = false;
    return HttpResponse.json({ url: "http://localhost:3000/" });
  }),
);

beforeAll(() => server.listen({ onUnhandledFrame: "error" }));
afterEach(() => {
  server.resetHandlers();
  requests.length = 0;
  signedIn = true;
});
afterAll(() => server.close());

async function until(condition: () => boolean, timeoutMs = 3000) {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("default browser sources", () => {
  it("report visibility changes and window focus as focus", () => {
    const env = browserEnv();
    const onFocus = vi.fn();
    const stop = env.onFocus(onFocus);
    Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
    expect(env.isVisible()).toBe(false);
    expect(onFocus).not.toHaveBeenCalled();
    Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
    window.dispatchEvent(new Event("focus"));
    expect(onFocus).toHaveBeenCalledTimes(2);
    stop();
    window.dispatchEvent(new Event("focus"));
    expect(onFocus).toHaveBeenCalledTimes(2);
  });

  it("report online and offline", () => {
    const env = browserEnv();
    const changes: boolean[] = [];
    const stop = env.onOnline((online) => changes.push(online));
    window.dispatchEvent(new Event("offline"));
    window.dispatchEvent(new Event("online"));
    stop();
    window.dispatchEvent(new Event("offline"));
    expect(changes).toEqual([false, true]);
  });

  it("hold the Web Lock while the task runs and leave no timer once it settles", async () => {
    const held: string[] = [];
    const locks = { request: async (name: string, task: () => Promise<unknown>) => (held.push(name), task()) };
    const original = navigator.locks;
    Object.defineProperty(navigator, "locks", { value: locks, configurable: true });
    vi.useFakeTimers();
    try {
      expect(await browserEnv().withLock!("refresh", 11_000, async () => "done")).toBe("done");
      await expect(browserEnv().withLock!("refresh", 11_000, async () => Promise.reject(new Error("failed")))).rejects.toThrow("failed");
      expect(held).toEqual(["refresh", "refresh"]);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
      Object.defineProperty(navigator, "locks", { value: original, configurable: true });
    }
  });

  it("give the page URL as the default callbackUrl", () => {
    expect(browserEnv().href()).toBe(window.location.href);
  });
});

describe("a client on the default sources", () => {
  const clients: SessionClient[] = [];
  afterEach(() => clients.splice(0).forEach((client) => client.destroy()));

  it("works as the only tab when the tab channel cannot be opened", async () => {
    const client = createSessionClient({
      env: {
        openTabLink: () => {
          throw new Error("storage blocked");
        },
      },
    });
    clients.push(client);
    client.subscribe(() => {});
    await until(() => client.getSnapshot().status !== "loading");
    expect(client.getSnapshot()).toMatchObject({ status: "authenticated", isLeader: true });
  });

  it("loads the session through fetch from a relative basePath", async () => {
    const client = createSessionClient({ crossTab: false });
    clients.push(client);
    client.subscribe(() => {});
    await until(() => client.getSnapshot().status !== "loading");
    expect(client.getSnapshot()).toMatchObject({ status: "authenticated", data: session, isLeader: true });
  });

  it("syncs a sign-out between two clients over broadcast-channel (loaded on demand without Web Locks), confirmed by one read", async () => {
    // happy-dom reports `navigator.locks` as null, which broadcast-channel's Web Locks probe trips on; no Web Locks, as in older browsers.
    Object.defineProperty(navigator, "locks", { value: undefined, configurable: true });
    const [a, b] = [createSessionClient({ initialSession: session, refetchInterval: 0 }), createSessionClient({ initialSession: session, refetchInterval: 0 })];
    clients.push(a, b);
    a.subscribe(() => {});
    b.subscribe(() => {});
    // The package loads on demand: wait until both links are up (one of the two was elected) before acting.
    await until(() => a.getSnapshot().isLeader || b.getSnapshot().isLeader, 5000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await a.signOut({ redirect: false });
    await until(() => b.getSnapshot().status === "unauthenticated");
    // The other tab does not take a sign-out from the channel on trust: it asks the server once.
    expect(requests).toEqual(["POST /signout token", "GET /session"]);
    // One of the two was elected leader (message-based election here: happy-dom has no Web Locks).
    await until(() => a.getSnapshot().isLeader || b.getSnapshot().isLeader, 5000);
    expect(a.getSnapshot().isLeader && b.getSnapshot().isLeader).toBe(false);
  });

  it("refreshes when the page becomes visible, and destroy() removes its listeners", async () => {
    const added = vi.spyOn(window, "addEventListener");
    const removed = vi.spyOn(window, "removeEventListener");
    const client = createSessionClient({ crossTab: false, focusThrottle: 0, initialSession: session, refetchInterval: 0 });
    clients.push(client);
    client.subscribe(() => {});
    document.dispatchEvent(new Event("visibilitychange"));
    await until(() => requests.length === 1);
    client.destroy();
    const windowTypes = (spy: typeof added) => spy.mock.calls.map(([type]) => type).sort();
    expect(windowTypes(removed)).toEqual(windowTypes(added));
    added.mockRestore();
    removed.mockRestore();
  });
});

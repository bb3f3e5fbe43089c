import { act, cleanup, render, screen } from "@testing-library/react";
import { StrictMode, type ReactNode } from "react";
import { hydrateRoot } from "react-dom/client";
import { renderToString } from "react-dom/server";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Session, SessionClient } from "../../src/client/index.ts";
import { SessionProvider, useSession, useSessionClient } from "../../react/index.ts";
import { createFakeEnv } from "../client/fake-env.ts";
import { createBrowser } from "../client/harness.ts";

const session: Session = { user: { id: "u1", name: "Ada" }, expires: "2030-01-01T00:00:00.000Z" };

function Status({ onRender }: { onRender?: (status: string) => void }) {
  const { data, status, isStale } = useSession();
  onRender?.(status);
  return <p data-testid="status">{`${status}${data ? `:${data.user.name}` : ""}${isStale ? ":stale" : ""}`}</p>;
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe("SessionProvider + useSession", () => {
  it("renders authenticated from the server session at once: no fetch, no loading flash", async () => {
    const { env, server, time } = createFakeEnv();
    const statuses: string[] = [];
    render(
      <SessionProvider session={session} env={env} basePath="http://localhost/api/auth">
        <Status onRender={(status) => statuses.push(status)} />
      </SessionProvider>,
    );
    await act(() => time.advance(1000));
    expect(screen.getByTestId("status").textContent).toBe("authenticated:Ada");
    expect(statuses.every((status) => status === "authenticated")).toBe(true);
    expect(server.state.requests).toEqual([]);
  });

  it("hydrates server-rendered markup without a mismatch warning", async () => {
    const { env } = createFakeEnv();
    const app = (
      <SessionProvider session={session} env={env} basePath="http://localhost/api/auth">
        <Status />
      </SessionProvider>
    );
    const container = document.createElement("div");
    container.innerHTML = renderToString(app);
    expect(container.textContent).toBe("authenticated:Ada");
    const errors = vi.spyOn(console, "error");
    const recoverable: unknown[] = [];
    await act(async () => void hydrateRoot(container, app, { onRecoverableError: (error) => recoverable.push(error) }));
    expect(errors).not.toHaveBeenCalled();
    expect(recoverable).toEqual([]);
    expect(container.textContent).toBe("authenticated:Ada");
  });

  it("re-renders when another tab signs out", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const [other, mine] = [browser.openTab({ refetchInterval: 0, initialSession }), browser.openTab({ refetchInterval: 0, initialSession })];
    render(
      <SessionProvider client={mine.client}>
        <Status />
      </SessionProvider>,
    );
    expect(screen.getByTestId("status").textContent).toBe("authenticated:Ada");
    await act(async () => {
      const out = other.client.signOut({ redirect: false });
      await browser.time.advance(200);
      await out;
    });
    expect(screen.getByTestId("status").textContent).toBe("unauthenticated");
  });

  it("re-renders each subscribed component once per session change", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tab = browser.openTab({ refetchInterval: 0, initialSession });
    const renders = { a: 0, b: 0 };
    render(
      <SessionProvider client={tab.client}>
        <Status onRender={() => renders.a++} />
        <Status onRender={() => renders.b++} />
      </SessionProvider>,
    );
    expect(tab.client.getSnapshot().isLeader).toBe(false);
    await act(() => browser.time.advance(10)); // this tab becomes the leader: not a session change, so no render
    expect(tab.client.getSnapshot().isLeader).toBe(true);
    expect(renders).toEqual({ a: 1, b: 1 });
    const before = { ...renders };
    await act(async () => {
      const updated = tab.client.update({ theme: "dark" });
      await browser.time.advance(200);
      await updated;
    });
    expect(renders.a - before.a).toBe(1);
    expect(renders.b - before.b).toBe(1);
  });

  it("a change of leader re-renders no useSession consumer", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const [leader, follower] = [browser.openTab({ refetchInterval: 0, initialSession }), browser.openTab({ refetchInterval: 0, initialSession })];
    await browser.time.advance(10);
    let renders = 0;
    render(
      <SessionProvider client={follower.client}>
        <Status onRender={() => renders++} />
      </SessionProvider>,
    );
    const leaderEvents: string[] = [];
    follower.client.on("leader", (event) => leaderEvents.push(event.type));
    await act(async () => {
      leader.client.destroy();
      await browser.time.advance(10);
    });
    expect(leaderEvents).toEqual(["leader"]);
    expect(follower.client.getSnapshot().isLeader).toBe(true);
    expect(renders).toBe(1);
    expect(screen.getByTestId("status").textContent).toBe("authenticated:Ada");
  });

  it("follows a swapped client prop and never destroys a client it did not create", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const [first, second] = [browser.openTab({ refetchInterval: 0, initialSession }), browser.openTab({ refetchInterval: 0, initialSession: null })];
    const destroyed = [vi.spyOn(first.client, "destroy"), vi.spyOn(second.client, "destroy")];
    const seen: { client?: SessionClient } = {};
    const see = (client: SessionClient) => void (seen.client = client);
    function Probe() {
      see(useSessionClient());
      return <Status />;
    }
    const view = render(
      <SessionProvider client={first.client}>
        <Probe />
      </SessionProvider>,
    );
    expect(screen.getByTestId("status").textContent).toBe("authenticated:Ada");
    view.rerender(
      <SessionProvider client={second.client}>
        <Probe />
      </SessionProvider>,
    );
    expect(seen.client).toBe(second.client);
    expect(screen.getByTestId("status").textContent).toBe("unauthenticated");
    view.unmount();
    await new Promise((resolve) => setTimeout(resolve, 5)); // when the provider would destroy a client of its own
    for (const destroy of destroyed) expect(destroy).not.toHaveBeenCalled();
  });

  it("required: never hands unauthenticated to the component and calls onUnauthenticated", async () => {
    const { env, time } = createFakeEnv();
    const onUnauthenticated = vi.fn();
    const seen: string[] = [];
    function Guarded() {
      const { status } = useSession({ required: true, onUnauthenticated });
      seen.push(status);
      return null;
    }
    render(
      <SessionProvider session={null} env={env} basePath="http://localhost/api/auth">
        <Guarded />
      </SessionProvider>,
    );
    await act(() => time.advance(100));
    expect(onUnauthenticated).toHaveBeenCalledTimes(1);
    expect(seen).not.toContain("unauthenticated");
    expect(seen).toContain("loading");
  });

  it("required with redirectTo goes to the app's sign-in page with callbackUrl (this server has no sign-in page of its own)", async () => {
    const { env, time } = createFakeEnv();
    const assign = vi.fn();
    vi.spyOn(window, "location", "get").mockReturnValue({ ...window.location, href: "http://localhost:3000/private", assign });
    function Guarded() {
      useSession({ required: true, redirectTo: "/login" });
      return null;
    }
    render(
      <SessionProvider session={null} env={env} basePath="/api/auth">
        <Guarded />
      </SessionProvider>,
    );
    await act(() => time.advance(100));
    expect(assign).toHaveBeenCalledWith("http://localhost:3000/login?callbackUrl=http%3A%2F%2Flocalhost%3A3000%2Fprivate");
  });

  it("required with neither onUnauthenticated nor redirectTo is a clear error, not a redirect to a page that does not exist", () => {
    const { env } = createFakeEnv();
    function Guarded() {
      useSession({ required: true } as never);
      return null;
    }
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(() =>
      render(
        <SessionProvider session={null} env={env} basePath="/api/auth">
          <Guarded />
        </SessionProvider>,
      ),
    ).toThrow(/onUnauthenticated or redirectTo/);
  });

  it("the result narrows as components are written (a compile-time check, run by the type checker)", () => {
    function Account() {
      const { data, status } = useSession();
      if (status === "loading") return null;
      if (status === "unauthenticated") return <p>{String(data satisfies null)}</p>;
      return <p>{data.user.name}</p>;
    }
    expect(Account).toBeTypeOf("function");
  });

  it("Strict Mode's double mount starts one poller, not two", async () => {
    const { env, server, time, links } = createFakeEnv();
    server.signInDirectly();
    render(
      <StrictMode>
        <SessionProvider env={env} basePath="http://localhost/api/auth" refetchInterval={60}>
          <Status />
        </SessionProvider>
      </StrictMode>,
    );
    await act(() => time.advance(10 * 60_000 + 1000));
    expect(links).toEqual({ opened: 1, closed: 0 });
    expect(server.sessionReads()).toBe(11); // the first load, then one poll a minute
    expect(screen.getByTestId("status").textContent).toBe("authenticated:Ada");
  });

  it("unmounting a provider that created its client leaves no timer, listener or channel", async () => {
    const { env, time, links, server } = createFakeEnv();
    server.signInDirectly();
    const view = render(
      <SessionProvider env={env} basePath="http://localhost/api/auth" refetchInterval={60}>
        <Status />
      </SessionProvider>,
    );
    await act(() => time.advance(1000));
    view.unmount();
    await new Promise((resolve) => setTimeout(resolve, 5)); // the provider destroys its client a tick after unmount
    await time.advance(0);
    expect(time.pending).toBe(0);
    expect(links).toEqual({ opened: 1, closed: 1 });
  });

  it("useSessionClient gives the client; outside a provider the hooks say what is wrong", () => {
    const { env } = createFakeEnv();
    const seen: { client?: SessionClient } = {};
    const see = (client: SessionClient) => void (seen.client = client);
    function Probe() {
      see(useSessionClient());
      return null;
    }
    const wrapper = ({ children }: { children: ReactNode }) => <SessionProvider env={env}>{children}</SessionProvider>;
    render(<Probe />, { wrapper });
    expect(typeof seen.client?.signOut).toBe("function");
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(() => render(<Status />)).toThrow(/inside <SessionProvider>/);
  });
});

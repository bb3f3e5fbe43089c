import type { Session } from "../../src/shared/session.ts";
import type { FakeTime } from "./fake-time.ts";

export type ServerMode = "ok" | "503" | "network" | "hang" | "html" | "redirect" | "401" | "404";

export interface RecordedRequest {
  method: string;
  path: string;
  tab: string;
  at: number;
}

/**
 * An Auth.js-shaped session server on the fake clock: one session shared by
 * every tab (the browser's cookie jar), answers after `latency` ms, `Date`
 * header from the server's own clock (which may differ from the tabs').
 */
export function createFakeServer(time: FakeTime, { latency = 20, maxAge = 3600, skew = 0 } = {}) {
  let session: Session | null = null;
  const state = {
    mode: "ok" as ServerMode,
    requests: [] as RecordedRequest[],
    /** Extra data the next session answers carry, to tell answers apart. */
    stamp: 0,
    csrfIssued: 0,
    /** Round-trip time per tab, ms, where it differs from `latency`. */
    latencyOf: {} as Record<string, number>,
  };
  const serverNow = () => time.now() - skew;
  const makeSession = (): Session => ({ user: { id: "u1", name: "Ada" }, expires: new Date(serverNow() + maxAge * 1000).toISOString(), stamp: state.stamp });

  function answer(method: string, path: string, body: string): Response {
    const json = (value: unknown, status = 200) =>
      new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json", date: new Date(serverNow()).toUTCString() } });
    if (state.mode === "503") return json({ message: "unavailable" }, 503);
    if (state.mode === "html") return new Response("<html>login</html>", { status: 200, headers: { "content-type": "text/html" } });
    if (state.mode === "redirect") return new Response(null, { status: 302, headers: { location: "/login" } });
    if (state.mode === "401") return json({ message: "no" }, 401);
    if (state.mode === "404") return json({ message: "not found" }, 404);
    const fields = Object.fromEntries(new URLSearchParams(body));
    if (method === "GET" && path === "/session") {
      if (session) session = makeSession();
      return json(session);
    }
    if (method === "GET" && path === "/csrf") return json({ csrfToken: `csrf-${++state.csrfIssued}` });
    if (method === "POST" && path === "/callback/credentials") {
      if (fields.password !== "pw") return json({ url: "http://localhost/api/auth/signin?error=CredentialsSignin&code=credentials" }, 401);
      session = makeSession();
      return json({ url: fields.callbackUrl });
    }
    if (method === "POST" && path === "/signout") {
      session = null;
      return json({ url: fields.callbackUrl });
    }
    if (method === "POST" && path === "/session") {
      const { csrfToken, data } = JSON.parse(body) as { csrfToken: string; data: Record<string, unknown> };
      if (!csrfToken?.startsWith("csrf-")) return json({ error: "csrf_invalid" }, 403);
      if (!session) return json({ error: "unauthenticated" }, 401);
      session = { ...makeSession(), ...data };
      return json(session);
    }
    return json({ error: "not_found" }, 404);
  }

  /** A `fetch` for one tab; requests are recorded with the tab's name. */
  function fetchFor(tab: string) {
    return (input: string, init: RequestInit = {}): Promise<Response> => {
      const url = new URL(input, "http://localhost");
      const method = init.method ?? "GET";
      const path = url.pathname.replace(/^\/api\/auth/, "");
      state.requests.push({ method, path, tab, at: time.now() });
      const body = typeof init.body === "string" ? init.body : "";
      return new Promise((resolve, reject) => {
        const fail = () => reject(new DOMException("aborted", "AbortError"));
        if (init.signal?.aborted) return fail();
        init.signal?.addEventListener("abort", fail);
        if (state.mode === "hang") return;
        // The server answers half a round trip after the request; the client sees it the other half later.
        const roundTrip = state.latencyOf[tab] ?? latency;
        time.setTimeout(() => {
          if (state.mode === "network") return reject(new TypeError("Failed to fetch"));
          const response = answer(method, path, body);
          time.setTimeout(() => resolve(response), roundTrip / 2);
        }, roundTrip / 2);
      });
    };
  }

  return {
    state,
    fetchFor,
    signInDirectly() {
      session = makeSession();
      return session;
    },
    get session() {
      return session;
    },
    set session(value: Session | null) {
      session = value;
    },
    /** Session GETs so far, optionally since a time. */
    sessionReads(since = -Infinity) {
      return state.requests.filter((request) => request.method === "GET" && request.path === "/session" && request.at >= since).length;
    },
  };
}

export type FakeServer = ReturnType<typeof createFakeServer>;

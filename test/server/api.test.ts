import { describe, expect, it } from "vitest";
import { memoryStore, SessionServerError } from "../../src/server/index.ts";
import { BASE, CookieJar, createTestHandler, get, signIn } from "./helpers.ts";

type Handler = (request: Request) => Promise<Response>;
const user = { id: "user-9", name: "Grace", email: "grace@example.com" };

/** A request from a browser with these cookies (a magic-link callback, an API route of the app). */
const from = (jar: CookieJar, path = "/magic/callback") => new Request(`http://localhost:3000${path}`, { headers: { cookie: jar.header() } });

async function read(handler: Handler, jar: CookieJar) {
  const response = await handler(get("/session", jar));
  jar.apply(response);
  return (await response.json()) as { user: { id: string; name?: string } } | null;
}

/** What a browser does with an answer: applies its Set-Cookie lines. */
function receive(jar: CookieJar, cookies: string[]) {
  const headers = new Headers();
  for (const cookie of cookies) headers.append("set-cookie", cookie);
  jar.apply(new Response(null, { headers }));
}

describe.each(["jwt", "database"] as const)("auth.api (%s strategy)", (strategy) => {
  const setup = (session: Record<string, unknown> = {}) => createTestHandler({ session: { strategy, ...session }, store: memoryStore() });

  it("signIn starts a session for a user the app authenticated: its cookie works at GET /session, the callbacks ran with trigger signIn", async () => {
    const triggers: unknown[] = [];
    const { auth } = createTestHandler({
      session: { strategy },
      store: memoryStore(),
      callbacks: { jwt: ({ token, trigger }) => (triggers.push(trigger), token) },
    });
    const jar = new CookieJar();
    const result = await auth.api.signIn(from(jar), user);
    expect(result.value).toMatchObject({ user: { id: "user-9", name: "Grace" } });
    expect(result.cookies.length).toBeGreaterThan(0);
    receive(jar, result.cookies);
    expect(await read(auth.handler, jar)).toMatchObject({ user: { id: "user-9" } });
    expect(triggers[0]).toBe("signIn");
  });

  it("signIn over an existing session ends that one (no fixation), and applyTo adds the cookies even to an immutable redirect", async () => {
    const { auth } = setup();
    const { jar } = await signIn(auth.handler);
    const before = new CookieJar();
    for (const [name, value] of jar.cookies) before.cookies.set(name, value);
    const result = await auth.api.signIn(from(jar), user);
    const response = result.applyTo(Response.redirect("http://localhost:3000/", 303));
    expect(response.status).toBe(303);
    expect(response.headers.getSetCookie()).toEqual(result.cookies);
    jar.apply(response);
    expect(await read(auth.handler, jar)).toMatchObject({ user: { id: "user-9" } });
    expect(await read(auth.handler, before)).toBeNull();
  });

  it("signIn refused by the jwt callback: value null, no session cookie", async () => {
    const { auth } = createTestHandler({ session: { strategy }, store: memoryStore(), callbacks: { jwt: () => null } });
    const result = await auth.api.signIn(from(new CookieJar()), user);
    expect(result.value).toBeNull();
    expect(result.cookies.filter((cookie) => cookie.includes("session-token") && !/Max-Age=0/.test(cookie))).toEqual([]);
  });

  it("signIn without a user id is a TypeError (a caller's mistake, not a request's)", async () => {
    const { auth } = setup();
    await expect(auth.api.signIn(from(new CookieJar()), { id: "" })).rejects.toThrow(TypeError);
    await expect(auth.api.signIn(from(new CookieJar()), {} as never)).rejects.toThrow(/non-empty string `id`/);
  });

  it("getSession reads with the side effects of GET /session (a due re-issue or slide comes back as a cookie)", async () => {
    const { auth, clock } = setup({ updateAge: 60 });
    const { jar } = await signIn(auth.handler);
    clock.advance(120);
    const result = await auth.api.getSession(from(jar));
    expect(result.value).toMatchObject({ user: { id: "user-1" } });
    expect(result.cookies.some((cookie) => cookie.includes("session-token"))).toBe(true);
    expect(await auth.getSession(from(jar))).toMatchObject({ user: { id: "user-1" } });
  });

  it("signOut ends the session and clears its cookie", async () => {
    const { auth } = setup();
    const { jar } = await signIn(auth.handler);
    const copy = new CookieJar();
    for (const [name, value] of jar.cookies) copy.cookies.set(name, value);
    const result = await auth.api.signOut(from(jar));
    expect(result.value).toEqual({ revoked: true });
    receive(jar, result.cookies);
    expect(await read(auth.handler, jar)).toBeNull();
    expect(await read(auth.handler, copy)).toBeNull();
  });

  it("revokeUserSessions ends every session of a user by id, from code without a request", async () => {
    const { auth } = setup();
    const a = await signIn(auth.handler);
    const b = await signIn(auth.handler);
    await auth.api.revokeUserSessions("user-1");
    expect(await read(auth.handler, a.jar)).toBeNull();
    expect(await read(auth.handler, b.jar)).toBeNull();
    await expect(auth.api.revokeUserSessions("")).rejects.toThrow(TypeError);
  });

  it("revokeOtherSessions keeps this one; listSessions and revokeSession work on the request's user", async () => {
    const { auth } = setup();
    const here = await signIn(auth.handler);
    const other = await signIn(auth.handler);
    const result = await auth.api.revokeOtherSessions(from(here.jar));
    receive(here.jar, result.cookies);
    expect(await read(auth.handler, here.jar)).toMatchObject({ user: { id: "user-1" } });
    expect(await read(auth.handler, other.jar)).toBeNull();
    const listed = await auth.api.listSessions(from(here.jar));
    expect(listed.map((session) => session.current)).toEqual([true]);
    const revoked = await auth.api.revokeSession(from(here.jar), listed[0]!.id);
    receive(here.jar, revoked.cookies);
    expect(await read(auth.handler, here.jar)).toBeNull();
  });

  it("requireFreshSession: the session within freshAge; session_not_fresh after; unauthenticated without one", async () => {
    const { auth, clock } = setup({ freshAge: 600, maxAge: 86_400, updateAge: 3600 });
    const { jar } = await signIn(auth.handler);
    await expect(auth.api.requireFreshSession(from(jar))).resolves.toMatchObject({ user: { id: "user-1" } });
    clock.advance(601);
    const stale = await auth.api.requireFreshSession(from(jar)).catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(SessionServerError);
    expect(stale).toMatchObject({ code: "session_not_fresh", status: 403 });
    await expect(auth.api.requireFreshSession(from(new CookieJar()))).rejects.toMatchObject({ code: "unauthenticated" });
  });
});

describe("auth.api without a store (JWT)", () => {
  it("revokeUserSessions says a store is needed", async () => {
    const { auth } = createTestHandler();
    await expect(auth.api.revokeUserSessions("user-1")).rejects.toMatchObject({ code: "store_required" });
  });

  it("a session cookie from auth.api.signIn is what the client reads (same names, same format)", async () => {
    const { auth } = createTestHandler();
    const result = await auth.api.signIn(new Request(`${BASE}/magic`), user);
    const jar = new CookieJar();
    receive(jar, result.cookies);
    expect(await read(auth.handler, jar)).toMatchObject({ user: { id: "user-9", email: "grace@example.com" } });
  });
});

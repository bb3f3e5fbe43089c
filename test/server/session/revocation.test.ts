import { describe, expect, it } from "vitest";
import { createSessionHandler, memoryStore, type Store } from "../../../src/server/index.ts";
import type { SessionHandlerConfig } from "../../../src/server/types.ts";
import { CookieJar, SECRET, createTestHandler, demoUser, get, manualClock, postJson, recordingLogger, setCookies, signIn } from "../helpers.ts";

/**
 * "A session that was signed out or revoked never comes back": each case here
 * is one way it once did (issue 10), written as the attacker tried it. The
 * model-based property test (revocation.property.test.ts) searches for the
 * ones nobody wrote down.
 */

const MAX_AGE = 3600;
const UPDATE_AGE = 600;
const session = { maxAge: MAX_AGE, updateAge: UPDATE_AGE };

type Handler = (request: Request) => Promise<Response>;

async function read(handler: Handler, jar: CookieJar) {
  const response = await handler(get("/session", jar));
  jar.apply(response);
  return (await response.json()) as { user: { id: string } } | null;
}

/** A copy of the browser's cookies, as an attacker keeps one: applies its own answers from then on. */
function copyOf(jar: CookieJar): CookieJar {
  const copy = new CookieJar();
  for (const [name, value] of jar.cookies) copy.cookies.set(name, value);
  return copy;
}

async function signOut(handler: Handler, jar: CookieJar, csrfToken: string) {
  const response = await handler(postJson("/signout", { csrfToken }, jar));
  jar.apply(response);
  return response;
}

async function revokeAll(handler: Handler, jar: CookieJar, csrfToken: string) {
  const response = await handler(postJson("/sessions/revoke", { csrfToken, all: true }, jar));
  jar.apply(response);
  return response;
}

describe("a fresher copy never outlives a revocation (JWT with a store)", () => {
  it("a copy re-issued before sign-out is refused after the signed-out token's exp", async () => {
    const { auth, clock } = createTestHandler({ store: memoryStore(), session });
    const { jar, csrfToken } = await signIn(auth.handler);
    const stolen = copyOf(jar);
    clock.advance(UPDATE_AGE + 1);
    expect(await read(auth.handler, stolen)).not.toBeNull(); // re-issued: a later exp than the victim's
    await signOut(auth.handler, jar, csrfToken);
    clock.advance(MAX_AGE - UPDATE_AGE + 60); // past the victim's exp, before the copy's
    expect(await read(auth.handler, stolen)).toBeNull();
    clock.advance(10 * 86400);
    expect(await read(auth.handler, stolen)).toBeNull();
  });
});

describe("the clock tolerance never re-issues a dead token", () => {
  it("a signed-out token inside the tolerance after its exp is refused", async () => {
    const { auth, clock } = createTestHandler({ store: memoryStore(), session });
    const { jar, csrfToken } = await signIn(auth.handler);
    const copy = copyOf(jar);
    await signOut(auth.handler, jar, csrfToken);
    clock.advance(MAX_AGE + 5);
    expect(await read(auth.handler, copy)).toBeNull();
    expect(await auth.getSession(get("/session", copy))).toBeNull();
  });

  it("after sign out everywhere, a token inside the tolerance is refused", async () => {
    const { auth, clock } = createTestHandler({ store: memoryStore(), session });
    const { jar, csrfToken } = await signIn(auth.handler);
    const copy = copyOf(jar);
    await revokeAll(auth.handler, jar, csrfToken);
    clock.advance(MAX_AGE + 5);
    expect(await read(auth.handler, copy)).toBeNull();
    expect(await auth.getSession(get("/session", copy))).toBeNull();
  });

  it("an idle token past its exp is not re-issued, even inside the tolerance", async () => {
    const { auth, clock } = createTestHandler({ session });
    const { jar } = await signIn(auth.handler);
    clock.advance(MAX_AGE + 5);
    const response = await auth.handler(get("/session", jar));
    expect(setCookies(response).get("authjs.session-token") ?? "").toBe("");
  });
});

describe('"sign out everywhere" is ordered by the store, not by a node\'s clock', () => {
  it("a session signed in on a node 10 s ahead, 3 s before the revocation, is revoked", async () => {
    const store = memoryStore();
    const truth = manualClock();
    const node = (skewMs: number) =>
      createSessionHandler({
        secret: SECRET,
        store,
        session,
        clock: () => truth.now() + skewMs,
        logger: recordingLogger().logger,
        authorize: async (credentials) => (credentials.password === "correct horse" ? demoUser : null),
      });
    const ahead = node(10_000);
    const onTime = node(0);
    const laptop = await signIn(onTime.handler);
    const phone = await signIn(ahead.handler);
    truth.advance(3);
    await revokeAll(onTime.handler, laptop.jar, laptop.csrfToken);
    expect(await read(onTime.handler, phone.jar)).toBeNull();
    expect(await read(ahead.handler, phone.jar)).toBeNull();
    // A sign-in after the revocation is a new session, on either node.
    const later = await signIn(ahead.handler);
    expect(await read(onTime.handler, later.jar)).toMatchObject({ user: { id: "user-1" } });
  });
});

describe("strategy migration passes the same revocation checks", () => {
  function pair(overrides: Partial<SessionHandlerConfig> = {}) {
    const store = memoryStore();
    const clock = manualClock();
    const make = (config: Partial<SessionHandlerConfig>) =>
      createTestHandler({ store, clock: clock.now, ...config, session: { ...session, ...config.session } }).auth;
    return {
      store,
      clock,
      jwt: make({ ...overrides, session: { migrateFrom: "database" } }),
      database: make({ ...overrides, session: { strategy: "database", migrateFrom: "jwt" } }),
    };
  }

  it("JWT → database: a signed-out JWT copy is not converted into a fresh database session", async () => {
    const { jwt, database, store } = pair();
    const { jar, csrfToken } = await signIn(jwt.handler);
    const copy = copyOf(jar);
    await signOut(jwt.handler, jar, csrfToken);
    expect(await read(database.handler, copy)).toBeNull();
    expect(await store.listByUser("user-1", Date.now())).toEqual([]);
  });

  it("JWT → database: after sign out everywhere in database mode, unconverted JWT copies are refused", async () => {
    const { jwt, database } = pair();
    const old = await signIn(jwt.handler);
    const fresh = await signIn(database.handler);
    await revokeAll(database.handler, fresh.jar, fresh.csrfToken);
    expect(await read(database.handler, old.jar)).toBeNull();
    expect(await database.getSession(get("/session", old.jar))).toBeNull();
  });

  it("JWT → database: one JWT cookie replayed a thousand times converts into one row", async () => {
    const { jwt, database } = pair();
    const { jar } = await signIn(jwt.handler);
    const header = jar.header();
    for (let i = 0; i < 1000; i++) {
      const response = await database.handler(get("/session", undefined, { cookie: header }));
      expect(await response.json()).toMatchObject({ user: { id: "user-1" } });
    }
    expect(await databaseRows(database.handler, header)).toBe(1);
  });

  it("database → JWT: after sign out everywhere, an old database cookie gets no session, from GET /session or getSession", async () => {
    const { jwt, database } = pair();
    const old = await signIn(database.handler);
    const fresh = await signIn(jwt.handler);
    await revokeAll(jwt.handler, fresh.jar, fresh.csrfToken);
    expect(await jwt.getSession(get("/session", old.jar))).toBeNull();
    expect(await read(jwt.handler, copyOf(old.jar))).toBeNull();
    expect(await jwt.getSession(get("/session", old.jar))).toBeNull();
  });

  it("database → JWT: a signed-out database cookie is not converted", async () => {
    const { jwt, database } = pair();
    const { jar, csrfToken } = await signIn(database.handler);
    const copy = copyOf(jar);
    await signOut(database.handler, jar, csrfToken);
    expect(await read(jwt.handler, copy)).toBeNull();
  });

  it("a session converted to the other strategy and then signed out stays signed out in both", async () => {
    const { jwt, database } = pair();
    const { jar } = await signIn(jwt.handler);
    // Two independent copies: reading one clears its cookie, which must not decide the other's fate.
    const [forDatabase, forJwt] = [copyOf(jar), copyOf(jar)];
    expect(await read(database.handler, jar)).not.toBeNull(); // converted: the jar now holds a database cookie
    const csrf = await database.handler(get("/csrf", jar));
    jar.apply(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    await signOut(database.handler, jar, csrfToken);
    expect(await read(database.handler, forDatabase)).toBeNull();
    expect(await read(jwt.handler, forJwt)).toBeNull();
  });
});

/** How many rows the store holds for user-1, seen through a database handler's GET /sessions. */
async function databaseRows(handler: Handler, cookie: string): Promise<number> {
  const response = await handler(get("/sessions", undefined, { cookie }));
  return ((await response.json()) as unknown[]).length;
}

describe("an explicit sign-out always clears the browser's cookie", () => {
  function downStore() {
    const inner = memoryStore();
    const state = { down: false };
    const store = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => (state.down ? Promise.reject(new Error("ECONNREFUSED")) : (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    }) as Store;
    return { store, state };
  }

  for (const strategy of ["jwt", "database"] as const) {
    it(`${strategy}: while the store is down, sign-out clears the cookie and says the revocation was not recorded`, async () => {
      const { store, state } = downStore();
      const { auth, log } = createTestHandler({ store, session: { strategy } });
      const { jar, csrfToken } = await signIn(auth.handler);
      state.down = true;
      const response = await auth.handler(postJson("/signout", { csrfToken, json: true }, jar));
      expect(response.status).toBe(200);
      expect(setCookies(response).get("authjs.session-token")).toBe("");
      expect(await response.json()).toMatchObject({ url: expect.any(String), revoked: false, error: "store_unavailable" });
      expect(log.entries.some((entry) => entry.level === "error" && entry.code === "revocation_not_recorded")).toBe(true);
      // Once the store is back, a copy of the cookie may still work: that is what the answer warned of.
      state.down = false;
      jar.apply(response);
      expect(await read(auth.handler, jar)).toBeNull();
    });
  }
});

describe("signing in over an existing session ends it, in both strategies", () => {
  for (const strategy of ["jwt", "database"] as const) {
    it(`${strategy}: the replaced session's copies are refused`, async () => {
      const { auth } = createTestHandler({ store: memoryStore(), session: { strategy } });
      const first = await signIn(auth.handler);
      const copy = copyOf(first.jar);
      await signIn(auth.handler, first.jar);
      expect(await read(auth.handler, first.jar)).toMatchObject({ user: { id: "user-1" } });
      expect(await read(auth.handler, copy)).toBeNull();
    });
  }
});

describe("the user id is managed like iat and exp", () => {
  const merging: SessionHandlerConfig["callbacks"] = {
    jwt: ({ token, trigger, session: data }) => (trigger === "update" && typeof data === "object" && data !== null ? { ...token, ...data } : token),
  };
  for (const strategy of ["jwt", "database"] as const) {
    it(`${strategy}: update({ sub }) through a merging jwt callback never changes the user`, async () => {
      const store = memoryStore();
      const { auth } = createTestHandler({ store, session: { strategy }, callbacks: merging });
      const { jar, csrfToken } = await signIn(auth.handler);
      const response = await auth.handler(postJson("/session", { csrfToken, data: { sub: "user-2", theme: "dark" } }, jar));
      jar.apply(response);
      expect(await response.json()).toMatchObject({ user: { id: "user-1" }, expires: expect.any(String) });
      expect(await read(auth.handler, jar)).toMatchObject({ user: { id: "user-1" } });
      if (strategy === "database") {
        const [row] = await store.listByUser("user-1", Date.UTC(2026, 10, 28, 12));
        expect(row?.data.sub ?? "user-1").toBe("user-1");
        expect(await store.listByUser("user-2", Date.UTC(2026, 10, 28, 12))).toEqual([]);
      }
    });
  }
});

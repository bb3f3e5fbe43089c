import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { memoryStore, type Store } from "../../../src/server/index.ts";
import { storeIdOf } from "../../../src/server/database/token.ts";
import { BASE, CookieJar, ORIGIN, createTestHandler, get, postJson, setCookies, signIn } from "../helpers.ts";

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

/** A memory store that counts the writes that happened. */
function countingStore() {
  const inner = memoryStore();
  const writes = { touch: 0, create: 0, update: 0, delete: 0 };
  const store: Store = {
    ...inner,
    create: async (session) => (writes.create++, inner.create(session)),
    touch: async (...args) => {
      const wrote = await inner.touch(...args);
      if (wrote) writes.touch++;
      return wrote;
    },
    update: async (...args) => (writes.update++, inner.update(...args)),
    delete: async (id) => (writes.delete++, inner.delete(id)),
  };
  return { store, inner, writes };
}

function databaseHandler(overrides: Parameters<typeof createTestHandler>[0] = {}) {
  const counted = countingStore();
  const test = createTestHandler({ session: { strategy: "database", maxAge: 3600, updateAge: 600 }, store: counted.store, ...overrides });
  return { ...test, ...counted };
}

describe("database strategy", () => {
  it("keeps an opaque 256-bit token in the cookie and only its SHA-256 in the store", async () => {
    const { auth, inner } = databaseHandler();
    const { jar } = await signIn(auth.handler, new CookieJar());
    const token = jar.cookies.get("authjs.session-token")!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await inner.get(token, Date.now())).toBeNull();
    const stored = await inner.listByUser("user-1", Date.UTC(2026, 10, 28, 12));
    expect(stored.map((row) => row.id)).toEqual([sha256(token)]);
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(await (await auth.handler(get("/session", jar))).json()).toMatchObject({ user: { id: "user-1", name: "Ada Lovelace" } });
  });

  it("computes the store id as the SHA-256 hex of the token's UTF-8 bytes, for any text", () => {
    for (const token of ["A".repeat(43), "abc_DEF-123", "", "ünïcode ✓ 🍪", "\u007f\u0080"]) {
      expect(storeIdOf(token)).toBe(sha256(token));
    }
  });

  it("touches the expiry at most once per updateAge, with a Set-Cookie only when it did", async () => {
    const { auth, clock, writes } = databaseHandler();
    const { jar } = await signIn(auth.handler);
    clock.advance(599);
    const early = await auth.handler(get("/session", jar));
    expect(early.headers.getSetCookie()).toEqual([]);
    expect(writes.touch).toBe(0);
    clock.advance(1);
    const due = await auth.handler(get("/session", jar));
    expect(writes.touch).toBe(1);
    expect(setCookies(due).has("authjs.session-token")).toBe(true);
    expect(Date.parse(((await due.json()) as { expires: string }).expires)).toBe(clock.now() + 3600_000);
    jar.apply(due);
    expect((await auth.handler(get("/session", jar))).headers.getSetCookie()).toEqual([]);
  });

  it("100 concurrent requests with the same cookie past updateAge write exactly once", async () => {
    const { auth, clock, writes } = databaseHandler();
    const { jar } = await signIn(auth.handler);
    clock.advance(601);
    const responses = await Promise.all(Array.from({ length: 100 }, () => auth.handler(get("/session", jar))));
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(writes.touch).toBe(1);
  });

  it("with updateAge unelapsed 1000 requests write nothing", async () => {
    const { auth, clock, writes } = databaseHandler();
    const { jar } = await signIn(auth.handler);
    const before = { ...writes };
    for (let i = 0; i < 1000; i++) {
      clock.advance(0.5);
      await auth.handler(get("/session", jar));
    }
    expect(writes).toEqual(before);
  });

  it("answers null and clears the cookie for an expired, deleted or unknown session", async () => {
    const { auth, clock, log, inner } = databaseHandler();
    const { jar } = await signIn(auth.handler);
    clock.advance(3600);
    const response = await auth.handler(get("/session", jar));
    expect(await response.json()).toBeNull();
    expect(setCookies(response).get("authjs.session-token")).toBe("");
    expect(inner.size).toBe(0); // deleted on the way
    const unknown = await auth.handler(get("/session", undefined, { cookie: `authjs.session-token=${"A".repeat(43)}` }));
    expect(await unknown.json()).toBeNull();
    expect(log.entries.map((entry) => entry.code)).toEqual(["session_unknown", "session_unknown"]);
  });

  it("prune() removes expired rows", async () => {
    const { auth, clock, inner } = databaseHandler();
    await signIn(auth.handler);
    await signIn(auth.handler);
    expect(await inner.prune(clock.now() + 3600_000)).toBe(2);
  });

  it("ends a session at maxLifetime from sign-in however active", async () => {
    const { auth, clock, inner } = databaseHandler({ session: { strategy: "database", maxAge: 3600, updateAge: 0, maxLifetime: 5000 } });
    const { jar } = await signIn(auth.handler);
    clock.advance(3000);
    const renewed = await auth.handler(get("/session", jar));
    expect(Date.parse(((await renewed.json()) as { expires: string }).expires)).toBe(clock.now() + 2000_000);
    jar.apply(renewed);
    clock.advance(2000);
    expect(await (await auth.handler(get("/session", jar))).json()).toBeNull();
    expect(inner.size).toBe(0);
  });

  it("ends sessions made before maxLifetime was lowered: refused, logged and deleted", async () => {
    const store = memoryStore();
    const before = createTestHandler({ session: { strategy: "database", maxAge: 3600, updateAge: 600 }, store });
    const { jar } = await signIn(before.auth.handler);
    // Same store, now with a 10-minute lifetime; the row (made without one) still expires in an hour.
    const after = createTestHandler({ session: { strategy: "database", maxAge: 3600, updateAge: 600, maxLifetime: 600 }, store });
    after.clock.advance(601);
    expect(await (await after.auth.handler(get("/session", jar))).json()).toBeNull();
    expect(after.log.entries.map((entry) => entry.code)).toContain("session_lifetime_exceeded");
    expect(store.size).toBe(0);
  });

  it("sign-out deletes the row; the old cookie replayed is refused", async () => {
    const { auth, inner } = databaseHandler();
    const { jar, csrfToken } = await signIn(auth.handler);
    const copy = jar.header();
    const out = await auth.handler(postJson("/signout", { csrfToken }, jar));
    expect(out.status).toBe(302);
    expect(inner.size).toBe(0);
    expect(await (await auth.handler(get("/session", undefined, { cookie: copy }))).json()).toBeNull();
  });

  it("a new sign-in never adopts the incoming session id (fixation) and ends the old one", async () => {
    const { auth, inner } = databaseHandler();
    const jar = new CookieJar();
    await signIn(auth.handler, jar);
    const first = jar.cookies.get("authjs.session-token");
    await signIn(auth.handler, jar);
    expect(jar.cookies.get("authjs.session-token")).not.toBe(first);
    expect(inner.size).toBe(1);
  });

  it("update() stores the data the jwt callback shapes; a session deleted meanwhile answers 401", async () => {
    const { auth } = databaseHandler({
      callbacks: {
        jwt: ({ token, trigger, session }) => (trigger === "update" ? { ...token, theme: (session as { theme: string }).theme } : token),
        session: ({ session, token }) => ({ ...session, theme: token.theme }),
      },
    });
    const { jar, csrfToken } = await signIn(auth.handler);
    const updated = await auth.handler(postJson("/session", { csrfToken, data: { theme: "dark" } }, jar));
    expect(await updated.json()).toMatchObject({ theme: "dark" });
    expect(await (await auth.handler(get("/session", jar))).json()).toMatchObject({ theme: "dark" });
  });

  it("an update racing a sign-out elsewhere answers 401 and writes nothing back", async () => {
    const during: { update?: () => Promise<void> } = {};
    const { auth, inner, writes } = databaseHandler({
      callbacks: {
        // The session ends (another tab signs out) between the read and the write of this update.
        jwt: async ({ token, trigger }) => {
          if (trigger === "update") await during.update?.();
          return token;
        },
      },
    });
    const { jar, csrfToken } = await signIn(auth.handler);
    const [row] = await inner.listByUser("user-1", Date.UTC(2026, 10, 28, 12));
    during.update = () => inner.delete(row!.id);
    const response = await auth.handler(postJson("/session", { csrfToken, data: { theme: "dark" } }, jar));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: "unauthenticated" });
    expect(writes.update).toBe(1);
    expect(inner.size).toBe(0);
  });
});

describe("listing and revoking sessions", () => {
  async function twoDevices(overrides: Parameters<typeof createTestHandler>[0] = {}) {
    const handler = databaseHandler(overrides);
    const laptop = await signIn(handler.auth.handler, new CookieJar());
    const phone = await signIn(handler.auth.handler, new CookieJar());
    return { ...handler, laptop, phone };
  }

  it("lists the user's sessions with times, user agent and the current one, no tokens", async () => {
    const { auth, laptop, phone } = await twoDevices();
    const response = await auth.handler(get("/sessions", laptop.jar, { "user-agent": "Laptop" }));
    const list = (await response.json()) as Array<Record<string, unknown>>;
    expect(list).toHaveLength(2);
    expect(list.filter((entry) => entry.current)).toHaveLength(1);
    expect(Object.keys(list[0]!).sort()).toEqual(["createdAt", "current", "expires", "id", "updatedAt", "userAgent"]);
    const text = JSON.stringify(list);
    for (const jar of [laptop.jar, phone.jar]) expect(text).not.toContain(jar.cookies.get("authjs.session-token"));
  });

  it("revokes another of the user's sessions; that device is signed out, this one is not", async () => {
    const { auth, laptop, phone } = await twoDevices();
    const list = (await (await auth.handler(get("/sessions", laptop.jar))).json()) as Array<{ id: string; current: boolean }>;
    const other = list.find((entry) => !entry.current)!;
    const response = await auth.handler(postJson("/sessions/revoke", { csrfToken: laptop.csrfToken, id: other.id }, laptop.jar));
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await (await auth.handler(get("/session", phone.jar))).json()).toBeNull();
    expect(await (await auth.handler(get("/session", laptop.jar))).json()).not.toBeNull();
  });

  it("sign out everywhere ends every session of the user, and only theirs", async () => {
    const { auth, laptop, phone, inner, clock } = await twoDevices();
    await inner.create({
      id: "e".repeat(64),
      userId: "user-2",
      data: {},
      createdAt: clock.now(),
      updatedAt: clock.now(),
      expires: clock.now() + 3600_000,
      userAgent: null,
    });
    const response = await auth.handler(postJson("/sessions/revoke", { csrfToken: laptop.csrfToken, all: true }, laptop.jar));
    expect(setCookies(response).get("authjs.session-token")).toBe("");
    for (const device of [laptop, phone]) expect(await (await auth.handler(get("/session", device.jar))).json()).toBeNull();
    expect(await inner.get("e".repeat(64), clock.now())).not.toBeNull();
  });

  it("cannot revoke a session of another user: 404, nothing deleted", async () => {
    const { auth, laptop, inner, clock } = await twoDevices();
    await inner.create({
      id: "f".repeat(64),
      userId: "user-2",
      data: {},
      createdAt: clock.now(),
      updatedAt: clock.now(),
      expires: clock.now() + 3600_000,
      userAgent: null,
    });
    const response = await auth.handler(postJson("/sessions/revoke", { csrfToken: laptop.csrfToken, id: "f".repeat(64) }, laptop.jar));
    expect(response.status).toBe(404);
    expect(await inner.get("f".repeat(64), clock.now())).not.toBeNull();
  });

  it("revoking needs CSRF, and listing needs a session", async () => {
    const { auth, laptop } = await twoDevices();
    expect((await auth.handler(postJson("/sessions/revoke", { all: true }, laptop.jar))).status).toBe(403);
    expect((await auth.handler(get("/sessions"))).status).toBe(401);
    expect((await auth.handler(postJson("/sessions/revoke", { csrfToken: laptop.csrfToken }, laptop.jar))).status).toBe(400);
  });
});

describe("JWT strategy with a store (deny-list)", () => {
  function jwtWithStore() {
    const store = memoryStore();
    return { store, ...createTestHandler({ store }) };
  }

  it("a cookie copied before sign-out is refused afterwards", async () => {
    const { auth } = jwtWithStore();
    const { jar, csrfToken } = await signIn(auth.handler);
    const copy = jar.header();
    await auth.handler(postJson("/signout", { csrfToken }, jar));
    const replay = await auth.handler(get("/session", undefined, { cookie: copy }));
    expect(await replay.json()).toBeNull();
  });

  it("sign out everywhere refuses every token signed in until then; a later sign-in works", async () => {
    const { auth, clock } = jwtWithStore();
    const laptop = await signIn(auth.handler, new CookieJar());
    const phone = await signIn(auth.handler, new CookieJar());
    const list = (await (await auth.handler(get("/sessions", laptop.jar))).json()) as Array<{ current: boolean }>;
    expect(list).toHaveLength(2); // each JWT session has a listing row in the store
    expect(list.filter((row) => row.current)).toHaveLength(1);
    await auth.handler(postJson("/sessions/revoke", { csrfToken: laptop.csrfToken, all: true }, laptop.jar));
    expect(await (await auth.handler(get("/session", phone.jar))).json()).toBeNull();
    // A sign-in right after, within the same second, is a new session and stays valid.
    clock.advance(0.001);
    const again = await signIn(auth.handler, new CookieJar());
    expect(await (await auth.handler(get("/session", again.jar))).json()).not.toBeNull();
  });

  it("lists every session of the user (a listing row per session in the store) and revokes one by id, which ends it on its next request", async () => {
    const { auth, clock } = createTestHandler({
      store: memoryStore(),
      authorize: (credentials) => ({ id: credentials.email === "bob@example.com" ? "bob" : "user-1" }),
    });
    const laptop = await signIn(auth.handler, new CookieJar());
    const phone = await signIn(auth.handler, new CookieJar(), {}, { "user-agent": "Phone/1.0" });
    type Listed = { id: string; current: boolean; userAgent: string | null; expires: string };
    const listed = async (jar: CookieJar) => (await (await auth.handler(get("/sessions", jar))).json()) as Listed[];
    const fromLaptop = await listed(laptop.jar);
    expect(fromLaptop).toHaveLength(2);
    const other = fromLaptop.find((row) => !row.current)!;
    expect(other.userAgent).toBe("Phone/1.0");
    // A re-issue (after updateAge) moves the listed expiry with the token.
    clock.advance(86_400 + 1);
    await auth.handler(get("/session", phone.jar)).then((response) => phone.jar.apply(response));
    const later = (await listed(laptop.jar)).find((row) => row.id === other.id)!;
    expect(Date.parse(later.expires)).toBeGreaterThan(Date.parse(other.expires));
    const revoked = await auth.handler(postJson("/sessions/revoke", { csrfToken: laptop.csrfToken, id: other.id }, laptop.jar));
    expect(revoked.status).toBe(200);
    expect(await (await auth.handler(get("/session", phone.jar))).json()).toBeNull();
    expect((await listed(laptop.jar)).map((row) => row.current)).toEqual([true]);
    // Another user's session id is not found, and a sign-out drops its own row.
    const bob = await signIn(auth.handler, new CookieJar(), { email: "bob@example.com" });
    const bobsId = (await listed(bob.jar))[0]!.id;
    expect((await auth.handler(postJson("/sessions/revoke", { csrfToken: laptop.csrfToken, id: bobsId }, laptop.jar))).status).toBe(404);
    await auth.handler(postJson("/signout", { csrfToken: laptop.csrfToken }, laptop.jar));
    const again = await signIn(auth.handler, new CookieJar());
    expect((await listed(again.jar)).map((row) => row.current)).toEqual([true]);
  });

  it("a listing row written back after its session was revoked (a re-issue racing the revocation) is not listed", async () => {
    const { auth, store } = jwtWithStore();
    const laptop = await signIn(auth.handler, new CookieJar());
    await signIn(auth.handler, new CookieJar());
    const rows = await store.listByUser("user-1", 0);
    const listed = (await (await auth.handler(get("/sessions", laptop.jar))).json()) as Array<{ id: string; current: boolean }>;
    const other = listed.find((row) => !row.current)!;
    const row = (await store.listByUser("user-1", 0)).find((candidate) => candidate.id === other.id)!;
    expect(rows.length).toBeGreaterThanOrEqual(2);
    await auth.handler(postJson("/sessions/revoke", { csrfToken: laptop.csrfToken, id: other.id }, laptop.jar));
    await store.create(row); // the racing re-issue's write lands after the revocation's delete
    const after = (await (await auth.handler(get("/sessions", laptop.jar))).json()) as Array<{ id: string }>;
    expect(after.map((entry) => entry.id)).not.toContain(other.id);
  });

  it("without a store, revoking answers 400 store_required", async () => {
    const { auth } = createTestHandler();
    const { jar, csrfToken } = await signIn(auth.handler);
    const response = await auth.handler(postJson("/sessions/revoke", { csrfToken, all: true }, jar));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "store_required" });
  });
});

describe("strategy migration (opt-in migrateFrom)", () => {
  it("a valid JWT cookie at a database-strategy server becomes a database session", async () => {
    const jwtServer = createTestHandler();
    const { jar } = await signIn(jwtServer.auth.handler);
    const store = memoryStore();
    const dbServer = createTestHandler({ session: { strategy: "database", migrateFrom: "jwt" }, store });
    const response = await dbServer.auth.handler(get("/session", jar));
    expect(await response.json()).toMatchObject({ user: { id: "user-1", email: "ada@example.com" } });
    jar.apply(response);
    expect(jar.cookies.get("authjs.session-token")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.size).toBe(1);
    expect(await (await dbServer.auth.handler(get("/session", jar))).json()).toMatchObject({ user: { id: "user-1" } });
  });

  it("without migrateFrom the JWT cookie is refused and cleared", async () => {
    const { jar } = await signIn(createTestHandler().auth.handler);
    const dbServer = createTestHandler({ session: { strategy: "database" }, store: memoryStore() });
    const response = await dbServer.auth.handler(get("/session", jar));
    expect(await response.json()).toBeNull();
    expect(setCookies(response).get("authjs.session-token")).toBe("");
  });

  it("a database session at a JWT server with migrateFrom database becomes a token named after its row; ending the token ends the row", async () => {
    const store = memoryStore();
    const dbServer = createTestHandler({ session: { strategy: "database" }, store });
    const { jar } = await signIn(dbServer.auth.handler);
    const jwtServer = createTestHandler({ session: { migrateFrom: "database" }, store });
    const response = await jwtServer.auth.handler(get("/session", jar));
    expect(await response.json()).toMatchObject({ user: { id: "user-1" } });
    const dbCookie = jar.header();
    jar.apply(response);
    expect(jar.cookies.get("authjs.session-token")).toMatch(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/);
    // The row stays, so a request racing this one (same old cookie) converts to the same session, not a second one.
    expect(store.size).toBe(1);
    const [listed] = (await (await jwtServer.auth.handler(get("/sessions", jar))).json()) as Array<{ id: string }>;
    const [row] = await store.listByUser("user-1", Date.UTC(2026, 10, 28, 12));
    expect(listed!.id).toBe(row!.id);
    const csrf = await jwtServer.auth.handler(get("/csrf", jar));
    jar.apply(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    jar.apply(await jwtServer.auth.handler(postJson("/signout", { csrfToken }, jar)));
    expect(store.size).toBe(0);
    expect(await (await jwtServer.auth.handler(get("/session", undefined, { cookie: dbCookie }))).json()).toBeNull();
  });
});

describe("getSession only reads (its answer carries no cookie)", () => {
  const page = (jar: CookieJar) => new Request(`${ORIGIN}/dashboard`, { headers: { cookie: jar.header() } });

  it("a database session at a JWT server with migrateFrom database stays in the store until GET /session converts it", async () => {
    const store = memoryStore();
    const { jar } = await signIn(createTestHandler({ session: { strategy: "database" }, store }).auth.handler);
    const jwtServer = createTestHandler({ session: { migrateFrom: "database" }, store });
    // Server rendering twice: each sees the session, neither ends the row the browser still points at.
    expect(await jwtServer.auth.getSession(page(jar))).toMatchObject({ user: { id: "user-1", email: "ada@example.com" } });
    expect(await jwtServer.auth.getSession(page(jar))).toMatchObject({ user: { id: "user-1" } });
    expect(store.size).toBe(1);
    const response = await jwtServer.auth.handler(get("/session", jar));
    expect(await response.json()).toMatchObject({ user: { id: "user-1" } });
    expect(response.headers.getSetCookie().some((line) => line.startsWith("authjs.session-token=ey"))).toBe(true);
  });

  it("a JWT cookie at a database server with migrateFrom jwt makes no row", async () => {
    const { jar } = await signIn(createTestHandler().auth.handler);
    const store = memoryStore();
    const dbServer = createTestHandler({ session: { strategy: "database", migrateFrom: "jwt" }, store });
    expect(await dbServer.auth.getSession(page(jar))).toMatchObject({ user: { id: "user-1", email: "ada@example.com" } });
    expect(await dbServer.auth.getSession(page(jar))).toMatchObject({ user: { id: "user-1" } });
    expect(store.size).toBe(0);
  });

  it("does not slide a database session's expiry: the next GET /session does, with its cookie", async () => {
    const { auth, clock, inner, writes } = databaseHandler();
    const { jar } = await signIn(auth.handler);
    clock.advance(700);
    const [before] = await inner.listByUser("user-1", clock.now());
    expect(await auth.getSession(page(jar))).toMatchObject({ user: { id: "user-1" } });
    expect(writes.touch).toBe(0);
    expect((await inner.listByUser("user-1", clock.now()))[0]!.expires).toBe(before!.expires);
    const due = await auth.handler(get("/session", jar));
    expect(writes.touch).toBe(1);
    expect(setCookies(due).has("authjs.session-token")).toBe(true);
  });
});

describe("a store that is down", () => {
  function flakyStore() {
    const inner = memoryStore();
    const state = { mode: "up" as "up" | "down" | "hang" | "throw" | "thenable" };
    const store = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (state.mode === "down") return Promise.reject(new Error("ECONNREFUSED 127.0.0.1:5432"));
          if (state.mode === "hang") return new Promise(() => {});
          // A hand-written store that breaks its contract: throws before it returns a promise.
          if (state.mode === "throw") throw new Error("driver blew up synchronously");
          const result = value.apply(target, args) as Promise<unknown>;
          // A hand-written store whose answers are thenables, not native promises.
          return state.mode === "thenable" ? { then: (ok: (v: unknown) => void, fail: (e: unknown) => void) => void result.then(ok, fail) } : result;
        };
      },
    });
    return { store, state };
  }

  it("answers 503 store_unavailable with Retry-After, keeps the cookie, grants nothing, and recovers", async () => {
    const { store, state } = flakyStore();
    const { auth, log } = createTestHandler({ session: { strategy: "database" }, store });
    const { jar } = await signIn(auth.handler);
    state.mode = "down";
    const down = await auth.handler(get("/session", jar));
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("5");
    expect(await down.json()).toMatchObject({ error: "store_unavailable" });
    expect(down.headers.getSetCookie()).toEqual([]);
    expect(JSON.stringify(log.entries)).not.toContain(jar.cookies.get("authjs.session-token"));
    state.mode = "up";
    expect(await (await auth.handler(get("/session", jar))).json()).toMatchObject({ user: { id: "user-1" } });
  });

  it("answers 503 within storeTimeout when the store hangs", async () => {
    const { store, state } = flakyStore();
    const { auth } = createTestHandler({ session: { strategy: "database" }, store, storeTimeout: 200 });
    const { jar } = await signIn(auth.handler);
    state.mode = "hang";
    const started = performance.now();
    const response = await auth.handler(get("/session", jar));
    expect(response.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("a store method that throws instead of rejecting is a 503 too, and one answering with thenables works", async () => {
    const { store, state } = flakyStore();
    const { auth } = createTestHandler({ session: { strategy: "database" }, store });
    const { jar } = await signIn(auth.handler);
    state.mode = "throw";
    const thrown = await auth.handler(get("/session", jar));
    expect(thrown.status).toBe(503);
    expect(await thrown.json()).toMatchObject({ error: "store_unavailable" });
    state.mode = "thenable";
    expect(await (await auth.handler(get("/session", jar))).json()).toMatchObject({ user: { id: "user-1" } });
  });

  it("sign-in fails closed too: 503 and no cookie", async () => {
    const { store, state } = flakyStore();
    const { auth } = createTestHandler({ session: { strategy: "database" }, store });
    state.mode = "down";
    const { response } = await signIn(auth.handler);
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie().filter((line) => line.startsWith("authjs.session-token="))).toEqual([]);
  });
});

describe("configuration", () => {
  it("requires a store for the database strategy and a valid migrateFrom", () => {
    expect(() => createTestHandler({ session: { strategy: "database" } })).toThrow(/needs a `store`/);
    expect(() => createTestHandler({ session: { migrateFrom: "jwt" } })).toThrow(/other strategy/);
    expect(() => createTestHandler({ session: { migrateFrom: "database" } })).toThrow(/needs the `store`/);
    expect(() => createTestHandler({ store: {} as Store })).toThrow(/Store interface/);
    // Every method of the interface, including the two only the app calls.
    const withoutPrune: Partial<Store> = { ...memoryStore() };
    delete withoutPrune.prune;
    expect(() => createTestHandler({ store: withoutPrune as Store })).toThrow(/Store interface.*prune/);
  });
});

void BASE;
void ORIGIN;

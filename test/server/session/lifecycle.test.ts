import { EncryptJWT } from "jose";
import { describe, expect, it } from "vitest";
import { storeIdOf } from "../../../src/server/database/token.ts";
import { memoryStore, type Store } from "../../../src/server/index.ts";
import { deriveEncryptionKey } from "../../../src/server/jwt/keys.ts";
import { userRevocationKey } from "../../../src/server/session/revocation.ts";
import type { SessionHandlerConfig } from "../../../src/server/types.ts";
import { BASE, CookieJar, SECRET, createTestHandler, demoUser, get, manualClock, postJson, recordingLogger, setCookies, signIn } from "../helpers.ts";

/**
 * The lifecycle's decisions one at a time: what a request may read, what it
 * must write, and what it must refuse. The revocation promises themselves are
 * searched for in revocation.property.test.ts; these pin each branch.
 */

const COOKIE = "authjs.session-token";
const OTHER_SECRET = "another-secret-abcdefghijklmnopqrstuvwxyz-0123";
const session = { maxAge: 3600, updateAge: 600 };
type Handler = (request: Request) => Promise<Response>;

/** The session cookie lines of a response (set or cleared). */
const sessionLines = (response: Response) => response.headers.getSetCookie().filter((line) => line.startsWith(`${COOKIE}=`));

async function read(handler: Handler, jar: CookieJar) {
  const response = await handler(get("/session", jar));
  jar.apply(response);
  return { response, body: (await response.json()) as { user?: { id: string }; expires?: string } | null };
}

function copyOf(jar: CookieJar): CookieJar {
  const copy = new CookieJar();
  for (const [name, value] of jar.cookies) copy.cookies.set(name, value);
  return copy;
}

async function csrf(handler: Handler, jar: CookieJar): Promise<string> {
  const response = await handler(get("/csrf", jar));
  jar.apply(response);
  return ((await response.json()) as { csrfToken: string }).csrfToken;
}

/** A JWT server and a database server (each migrating from the other) over one store and clock. */
function pair(overrides: Partial<SessionHandlerConfig> = {}, store: Store = memoryStore()) {
  const clock = manualClock();
  const log = recordingLogger();
  const make = (config: Partial<SessionHandlerConfig>) =>
    createTestHandler({ store, clock: clock.now, logger: log.logger, ...overrides, ...config, session: { ...session, ...config.session } }).auth;
  return {
    store,
    clock,
    log,
    jwt: make({ session: { migrateFrom: "database" } }),
    database: make({ session: { strategy: "database", migrateFrom: "jwt" } }),
  };
}

/** A token under `secret` for the plain session cookie, as this server (or Auth.js) mints it. */
async function mint(claims: Record<string, unknown>, secret = SECRET) {
  const key = await deriveEncryptionKey(secret, COOKIE);
  return new EncryptJWT(claims).setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: key.kid }).encrypt(key.key);
}
const nowSeconds = () => Math.floor(manualClock().now() / 1000);

describe("conversion between strategies", () => {
  it("JWT → database writes one cookie, logs it, and lists the converted row as the current session", async () => {
    const { jwt, database, log } = pair();
    const { jar } = await signIn(jwt.handler);
    const { response, body } = await read(database.handler, jar);
    expect(body).toMatchObject({ user: { id: "user-1" } });
    expect(sessionLines(response)).toHaveLength(1);
    expect(log.entries).toContainEqual({ level: "debug", code: "session_migrated", details: { from: "jwt" } });
    const listed = (await (await database.handler(get("/sessions", jar))).json()) as Array<{ id: string; current: boolean }>;
    expect(listed).toEqual([expect.objectContaining({ id: storeIdOf(jar.cookies.get(COOKIE)!), current: true })]);
  });

  it("database → JWT writes one cookie and logs it", async () => {
    const { jwt, database, log } = pair();
    const { jar } = await signIn(database.handler);
    const { response, body } = await read(jwt.handler, jar);
    expect(body).toMatchObject({ user: { id: "user-1" } });
    expect(sessionLines(response)).toHaveLength(1);
    expect(log.entries).toContainEqual({ level: "debug", code: "session_migrated", details: { from: "database" } });
  });

  it("a JWT without a user cannot become a database session: null, token_claims", async () => {
    const { database, log } = pair();
    const now = nowSeconds();
    const token = await mint({ iat: now, exp: now + 3600, jti: "j-1", sid: "s-1", gen: 0 });
    const response = await database.handler(get("/session", undefined, { cookie: `${COOKIE}=${token}` }));
    expect(await response.json()).toBeNull();
    expect(log.entries.map((entry) => entry.code)).toContain("token_claims");
  });

  it("JWT → database loses a race with a sign-out that denies the new row while it is written", async () => {
    const inner = memoryStore();
    const { jwt, log } = pair({}, inner);
    const { jar } = await signIn(jwt.handler);
    // While the conversion writes its row, a sign-out of that row (in another request) lands first.
    const racing: Store = {
      ...inner,
      create: async (row) => {
        await inner.revokeToken(row.id, Date.UTC(2030, 0, 1), row.createdAt);
        return inner.create(row);
      },
    };
    const raced = createTestHandler({ store: racing, session: { ...session, strategy: "database", migrateFrom: "jwt" }, logger: log.logger }).auth;
    const response = await raced.handler(get("/session", jar));
    expect(await response.json()).toBeNull();
    expect(log.entries.map((entry) => entry.code)).toContain("session_revoked");
    expect(await inner.listByUser("user-1", Date.UTC(2026, 10, 28, 12))).toEqual([]);
  });

  it("database → JWT loses a race with sign out everywhere that deletes the row between its two reads", async () => {
    const inner = memoryStore();
    const { database } = pair({}, inner);
    const { jar } = await signIn(database.handler);
    const rowId = storeIdOf(jar.cookies.get(COOKIE)!);
    const racing: Store = {
      ...inner,
      revokedAt: async (key, now) => {
        // Reading the user's generation: "sign out everywhere" deletes the rows right then.
        if (key === userRevocationKey("user-1")) await inner.deleteByUser("user-1");
        return inner.revokedAt(key, now);
      },
    };
    const { auth: raced, log } = createTestHandler({ store: racing, session: { ...session, migrateFrom: "database" } });
    expect(await (await raced.handler(get("/session", jar))).json()).toBeNull();
    expect(log.entries.map((entry) => entry.code)).toContain("session_revoked");
    expect(await inner.get(rowId, Date.UTC(2026, 10, 28, 12))).toBeNull();
  });

  it("database → JWT refuses a row whose id is already on the deny-list (a sign-out between its deny and its delete)", async () => {
    const { jwt, database, store } = pair();
    const { jar } = await signIn(database.handler);
    await store.revokeToken(storeIdOf(jar.cookies.get(COOKIE)!), Date.UTC(2030, 0, 1), Date.UTC(2026, 10, 28, 12));
    expect((await read(jwt.handler, jar)).body).toBeNull();
  });

  it("a JWT converted to the database and signed out there: its JWT copies are refused by a JWT server too", async () => {
    const { jwt, database } = pair();
    const { jar } = await signIn(jwt.handler);
    const copies = [copyOf(jar), copyOf(jar)];
    await read(database.handler, jar);
    const csrfToken = await csrf(database.handler, jar);
    jar.apply(await database.handler(postJson("/signout", { csrfToken }, jar)));
    expect((await read(jwt.handler, copies[0]!)).body).toBeNull();
    expect((await read(database.handler, copies[1]!)).body).toBeNull();
  });

  it("a converted session keeps what it continues through an update: signing out its database cookie still ends its JWT copies", async () => {
    const { jwt, database } = pair();
    const { jar } = await signIn(jwt.handler);
    const jwtCopy = copyOf(jar);
    const csrfToken = await csrf(database.handler, jar);
    jar.apply(await database.handler(postJson("/session", { csrfToken, data: { theme: "dark" } }, jar))); // converts, then updates the row
    const token = await csrf(jwt.handler, jar);
    await jwt.handler(postJson("/signout", { csrfToken: token, json: true }, jar));
    expect((await read(jwt.handler, jwtCopy)).body).toBeNull();
  });

  it("revoking another converted session from the database side ends its JWT copies", async () => {
    const { jwt, database } = pair();
    const laptop = (await signIn(jwt.handler)).jar;
    const laptopCopy = copyOf(laptop);
    await read(database.handler, laptop);
    const phone = await signIn(database.handler);
    const listed = (await (await database.handler(get("/sessions", phone.jar))).json()) as Array<{ id: string; current: boolean }>;
    const other = listed.find((entry) => !entry.current)!;
    const response = await database.handler(postJson("/sessions/revoke", { csrfToken: phone.csrfToken, id: other.id }, phone.jar));
    expect(response.status).toBe(200);
    // The phone's own cookie stays.
    expect(sessionLines(response)).toEqual([]);
    expect((await read(jwt.handler, laptopCopy)).body).toBeNull();
    expect((await read(database.handler, phone.jar)).body).toMatchObject({ user: { id: "user-1" } });
  });
});

describe("conversion, continued", () => {
  it("a JWT copy replayed after its session was converted and updated leaves the row's data alone", async () => {
    const callbacks: SessionHandlerConfig["callbacks"] = {
      jwt: ({ token, trigger, session: data }) => (trigger === "update" && typeof data === "object" && data !== null ? { ...token, ...data } : token),
      session: ({ session: s, token }) => ({ ...s, theme: token.theme }),
    };
    const { jwt, database } = pair({ callbacks });
    const { jar } = await signIn(jwt.handler);
    const replay = copyOf(jar);
    await read(database.handler, jar);
    const csrfToken = await csrf(database.handler, jar);
    await database.handler(postJson("/session", { csrfToken, data: { theme: "dark" } }, jar));
    expect(await (await database.handler(get("/session", replay))).json()).toMatchObject({ theme: "dark" });
  });

  it("database → JWT with a jwt callback that changes the token still writes one cookie", async () => {
    let reads = 0;
    const { jwt, database } = pair({ callbacks: { jwt: ({ token }) => ({ ...token, reads: ++reads }) } });
    const { jar } = await signIn(database.handler);
    const { response } = await read(jwt.handler, jar);
    expect(sessionLines(response)).toHaveLength(1);
  });

  it("a sign-out with the old database cookie, after its row expired, still ends the JWT it became", async () => {
    const { jwt, database, clock } = pair();
    const { jar } = await signIn(database.handler);
    const oldCookie = copyOf(jar);
    await read(jwt.handler, jar); // converted; the row stays, and is no longer extended
    for (let i = 0; i < 8; i++) {
      clock.advance(601);
      await read(jwt.handler, jar); // the JWT slides on past the row's expiry
    }
    const csrfToken = await csrf(jwt.handler, oldCookie);
    await jwt.handler(postJson("/signout", { csrfToken, json: true }, oldCookie));
    expect((await read(jwt.handler, jar)).body).toBeNull();
  });

  it("a JWT kept fresh as a JWT, converted back to its earlier row, does not end with that row's older expiry", async () => {
    const { jwt, database, clock } = pair();
    const { jar } = await signIn(jwt.handler);
    await read(database.handler, jar); // JWT → row (expires in 3600 s)
    clock.advance(3580);
    await read(jwt.handler, jar); // row → JWT, fresh: 3600 s from now
    const { body } = await read(database.handler, jar); // JWT → the same row, which must now last as long
    expect(body?.expires).toBe(new Date(manualClock().now() + (3580 + 3600) * 1000).toISOString());
    clock.advance(30);
    expect((await read(database.handler, jar)).body).toMatchObject({ user: { id: "user-1" } });
  });

  it("signing in over a stale database cookie whose row went back to a JWT and on to a new row ends that new row too", async () => {
    const { jwt, database, store } = pair();
    const { jar } = await signIn(database.handler);
    const stale = copyOf(jar);
    await read(jwt.handler, jar); // row R → JWT (sid R)
    await read(database.handler, jar); // JWT → row R' (R goes)
    await signIn(database.handler, stale); // over the stale cookie of R
    expect((await read(database.handler, jar)).body).toBeNull();
    expect(await store.listByUser("user-1", Date.UTC(2026, 10, 28, 12))).toHaveLength(1);
  });

  it("a copy of a database cookie that went to a JWT and back lands on the same row: the other copy keeps working", async () => {
    const { jwt, database, store } = pair();
    const { jar } = await signIn(database.handler);
    const other = copyOf(jar);
    await read(jwt.handler, jar);
    await read(database.handler, jar);
    expect(jar.cookies.get(COOKIE)).toBe(other.cookies.get(COOKIE));
    expect((await read(database.handler, other)).body).toMatchObject({ user: { id: "user-1" } });
    expect(await store.listByUser("user-1", Date.UTC(2026, 10, 28, 12))).toHaveLength(1);
  });

  it("a session that goes database → JWT → database keeps one row", async () => {
    const { jwt, database, store } = pair();
    const { jar } = await signIn(database.handler);
    await read(jwt.handler, jar);
    await read(database.handler, jar);
    expect(await store.listByUser("user-1", Date.UTC(2026, 10, 28, 12))).toHaveLength(1);
    expect((await read(database.handler, jar)).body).toMatchObject({ user: { id: "user-1" } });
  });

  it("listing sessions with a JWT at a database server converts it first, so it lists itself as current", async () => {
    const { jwt, database } = pair();
    const { jar } = await signIn(jwt.handler);
    const response = await database.handler(get("/sessions", jar));
    expect(await response.json()).toEqual([expect.objectContaining({ current: true })]);
    expect(sessionLines(response)).toHaveLength(1);
  });

  it("a database session records the User-Agent, cut to 512 characters", async () => {
    const store = memoryStore();
    const { auth } = createTestHandler({ store, session: { strategy: "database" } });
    const jar = new CookieJar();
    const csrfToken = await csrf(auth.handler, jar);
    await auth.handler(
      new Request(`${BASE}/callback/credentials`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: jar.header(), origin: "http://localhost:3000", "user-agent": "A".repeat(600) },
        body: JSON.stringify({ password: "correct horse", csrfToken, json: true }),
      }),
    );
    const [row] = await store.listByUser("user-1", Date.UTC(2026, 10, 28, 12));
    expect(row?.userAgent).toBe("A".repeat(512));
  });

  it("getSession reports the expiry the cookie has: it re-issues nothing, so it extends nothing", async () => {
    const { auth, clock } = createTestHandler({ session });
    const { jar } = await signIn(auth.handler);
    clock.advance(601);
    const session1 = await auth.getSession(get("/session", jar));
    expect(session1?.expires).toBe(new Date(manualClock().now() + 3600_000).toISOString());
  });
});

describe("ending the session a request carries", () => {
  it("a sign-out from a stale copy (past its exp) still ends the copies kept fresh", async () => {
    const { auth, clock } = createTestHandler({ store: memoryStore(), session });
    const { jar } = await signIn(auth.handler);
    const stale = copyOf(jar);
    clock.advance(3000);
    await read(auth.handler, jar); // refreshed: a later exp
    clock.advance(700); // the stale copy is past its exp (and the tolerance)
    const csrfToken = await csrf(auth.handler, stale);
    const response = await auth.handler(postJson("/signout", { csrfToken, json: true }, stale));
    expect(response.status).toBe(200);
    expect((await read(auth.handler, jar)).body).toBeNull();
  });

  it("a sign-out with a cookie that is no token of ours answers 200, clears it and ends nothing", async () => {
    const { auth, log } = createTestHandler({ store: memoryStore() });
    const other = await signIn(auth.handler, new CookieJar());
    const jar = new CookieJar();
    jar.cookies.set(COOKIE, "not-a-token");
    const csrfToken = await csrf(auth.handler, jar);
    const response = await auth.handler(postJson("/signout", { csrfToken, json: true }, jar));
    expect(response.status).toBe(200);
    expect(setCookies(response).get(COOKIE)).toBe("");
    expect(log.entries.filter((entry) => entry.level === "error")).toEqual([]);
    expect((await read(auth.handler, other.jar)).body).toMatchObject({ user: { id: "user-1" } });
  });

  it("a sign-out that fails for any reason still clears the cookie and names the error", async () => {
    const inner = memoryStore();
    const broken: Store = { ...inner, revokeToken: async () => Promise.reject(new TypeError("driver bug")) };
    const { auth, log } = createTestHandler({ store: broken });
    const { jar, csrfToken } = await signIn(auth.handler);
    const response = await auth.handler(postJson("/signout", { csrfToken, json: true }, jar));
    expect(setCookies(response).get(COOKIE)).toBe("");
    expect(response.headers.get("x-session-revocation")).toBe("not-recorded");
    expect(await response.json()).toMatchObject({ revoked: false, error: "store_unavailable" });
    expect(log.entries).toContainEqual({
      level: "error",
      code: "revocation_not_recorded",
      details: expect.objectContaining({ path: "/api/auth/signout", error: "store_unavailable" }),
    });
  });

  it("a plain HTML sign-out form during an outage still redirects, with the header saying so", async () => {
    const inner = memoryStore();
    const state = { down: false };
    const store: Store = { ...inner, revokeToken: async (...args) => (state.down ? Promise.reject(new Error("down")) : inner.revokeToken(...args)) };
    const { auth } = createTestHandler({ store });
    const { jar, csrfToken } = await signIn(auth.handler);
    state.down = true;
    const response = await auth.handler(
      new Request(`${BASE}/signout`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar.header(), origin: "http://localhost:3000" },
        body: new URLSearchParams({ csrfToken }),
      }),
    );
    expect(response.status).toBe(302);
    expect(response.headers.get("x-session-revocation")).toBe("not-recorded");
    expect(setCookies(response).get(COOKIE)).toBe("");
  });
});

describe("re-issuing", () => {
  it("a token under an older secret is re-sealed under the first on its first read, even before updateAge", async () => {
    const { auth } = createTestHandler({ secret: [SECRET, OTHER_SECRET] });
    const now = nowSeconds();
    const token = await mint({ sub: "user-1", iat: now, exp: now + 30 * 86_400, jti: "j", sid: "s", auth_time: now, gen: 0 }, OTHER_SECRET);
    const response = await auth.handler(get("/session", undefined, { cookie: `${COOKIE}=${token}` }));
    expect(await response.json()).toMatchObject({ user: { id: "user-1" } });
    const reissued = setCookies(response).get(COOKIE)!;
    const primary = await deriveEncryptionKey(SECRET, COOKIE);
    expect(reissued.split(".")[0]).toBe(primary.encodedHeader);
  });

  it("never re-seals a token at or past its exp, even one under an older key or changed by the callback", async () => {
    const now = nowSeconds();
    const token = await mint({ sub: "user-1", iat: now - 3600, exp: now, jti: "j", sid: "s", auth_time: now - 3600, gen: 0 }, OTHER_SECRET);
    const { auth } = createTestHandler({ secret: [SECRET, OTHER_SECRET], callbacks: { jwt: ({ token: t }) => ({ ...t, seen: true }) } });
    const response = await auth.handler(get("/session", undefined, { cookie: `${COOKIE}=${token}` }));
    expect(await response.json()).toMatchObject({ user: { id: "user-1" } }); // read inside the tolerance
    expect(sessionLines(response)).toEqual([]);
  });

  it("a callback that grows the token past the budget keeps the current cookie and logs it", async () => {
    const { auth, clock, log } = createTestHandler({ session, callbacks: { jwt: ({ token }) => ({ ...token, big: "x".repeat(20_000) }) } });
    const { jar } = await signIn(createTestHandler({ session, clock: () => clock.now() }).auth.handler);
    clock.advance(601);
    const response = await auth.handler(get("/session", jar));
    expect(await response.json()).toMatchObject({ user: { id: "user-1" } });
    expect(sessionLines(response)).toEqual([]);
    expect(log.entries).toContainEqual({ level: "error", code: "session_too_large", details: expect.objectContaining({ path: "/api/auth/session" }) });
  });

  it("a callback whose token cannot be sealed is a server error, not a silent success", async () => {
    const { auth, clock } = createTestHandler({ session, callbacks: { jwt: ({ token }) => ({ ...token, big: 1n as unknown as number }) } });
    const { jar } = await signIn(createTestHandler({ session, clock: () => clock.now() }).auth.handler);
    clock.advance(601);
    const response = await auth.handler(get("/session", jar));
    expect(response.status).toBe(500);
    expect(sessionLines(response)).toEqual([]);
  });
});

describe("the database strategy", () => {
  it("after sign out everywhere, a new sign-in works (rows are their own check: the generation is for JWTs)", async () => {
    const { auth } = createTestHandler({ store: memoryStore(), session: { strategy: "database" } });
    const first = await signIn(auth.handler);
    await auth.handler(postJson("/sessions/revoke", { csrfToken: first.csrfToken, all: true }, first.jar));
    const again = await signIn(auth.handler, new CookieJar());
    expect((await read(auth.handler, again.jar)).body).toMatchObject({ user: { id: "user-1" } });
  });
});

describe("the database strategy's sliding expiry", () => {
  it("with updateAge unelapsed, 1000 requests make no write query at all", async () => {
    const inner = memoryStore();
    const calls = { touch: 0 };
    const store: Store = { ...inner, touch: async (...args) => (calls.touch++, inner.touch(...args)) };
    const { auth } = createTestHandler({ store, session: { ...session, strategy: "database" } });
    const { jar } = await signIn(auth.handler);
    for (let i = 0; i < 1000; i++) await auth.handler(get("/session", jar));
    expect(calls.touch).toBe(0);
  });
});

describe("updates", () => {
  it("at or inside the tolerance past exp an update is refused: nothing revives the session", async () => {
    const { auth, clock } = createTestHandler({ session });
    const { jar, csrfToken } = await signIn(auth.handler);
    clock.advance(3600);
    expect((await auth.handler(postJson("/session", { csrfToken, data: {} }, jar))).status).toBe(401);
    clock.advance(5);
    const response = await auth.handler(postJson("/session", { csrfToken, data: {} }, jar));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: "unauthenticated", message: "the session has expired" });
  });

  for (const strategy of ["jwt", "database"] as const) {
    it(`${strategy}: a jwt callback that ends the session on update ends every copy`, async () => {
      const { auth } = createTestHandler({
        store: memoryStore(),
        session: { strategy },
        callbacks: { jwt: ({ token, trigger }) => (trigger === "update" ? null : token) },
      });
      const { jar, csrfToken } = await signIn(auth.handler);
      const copy = copyOf(jar);
      const response = await auth.handler(postJson("/session", { csrfToken, data: {} }, jar));
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ message: "the jwt callback ended the session" });
      expect(setCookies(response).get(COOKIE)).toBe("");
      expect((await read(auth.handler, copy)).body).toBeNull();
    });
  }

  it("signed out, update, list and revoke say what to do", async () => {
    const { auth } = createTestHandler({ store: memoryStore() });
    const jar = new CookieJar();
    const csrfToken = await csrf(auth.handler, jar);
    expect(await (await auth.handler(postJson("/session", { csrfToken, data: {} }, jar))).json()).toMatchObject({ message: "sign in to update the session" });
    expect(await (await auth.handler(get("/sessions", jar))).json()).toMatchObject({ message: "sign in to list sessions" });
    expect(await (await auth.handler(postJson("/sessions/revoke", { csrfToken, all: true }, jar))).json()).toMatchObject({
      message: "sign in to revoke sessions",
    });
  });

  it("a database update that loses to a sign-out says the session ended", async () => {
    const inner = memoryStore();
    const store: Store = { ...inner, update: async () => false };
    const { auth } = createTestHandler({ store, session: { strategy: "database" } });
    const { jar, csrfToken } = await signIn(auth.handler);
    expect(await (await auth.handler(postJson("/session", { csrfToken, data: {} }, jar))).json()).toMatchObject({ message: "the session ended" });
  });

  it("the session callback sees trigger update and the data sent", async () => {
    const seen: unknown[] = [];
    const { auth } = createTestHandler({ callbacks: { session: ({ session: s, trigger, newSession }) => (seen.push({ trigger, newSession }), s) } });
    const { jar, csrfToken } = await signIn(auth.handler);
    await auth.handler(postJson("/session", { csrfToken, data: { theme: "dark" } }, jar));
    expect(seen).toContainEqual({ trigger: "update", newSession: { theme: "dark" } });
  });
});

describe("signing in", () => {
  it("a jwt callback that refuses the sign-in answers AccessDenied and sets no session", async () => {
    const { auth } = createTestHandler({ callbacks: { jwt: ({ trigger, token }) => (trigger === "signIn" ? null : token) } });
    const { response } = await signIn(auth.handler);
    expect(((await response.json()) as { url: string }).url).toContain("error=AccessDenied");
    expect(sessionLines(response)).toEqual([]);
  });

  it("a user whose data holds a NUL is refused with 400 session_data_invalid", async () => {
    const { auth } = createTestHandler({
      store: memoryStore(),
      session: { strategy: "database" },
      authorize: async () => ({ ...demoUser, name: "Ada\u0000" }),
    });
    const { response } = await signIn(auth.handler);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "session_data_invalid" });
  });
});

describe("revoking", () => {
  it("JWT without a store: revoking even the current session answers 400 store_required", async () => {
    const { auth } = createTestHandler();
    const { jar, csrfToken } = await signIn(auth.handler);
    const [current] = (await (await auth.handler(get("/sessions", jar))).json()) as Array<{ id: string }>;
    const response = await auth.handler(postJson("/sessions/revoke", { csrfToken, id: current!.id }, jar));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "store_required", message: "revoking JWT sessions needs a `store` for the deny-list" });
  });

  it("JWT: the current session can be revoked by its id, which clears its cookie; another id is not found", async () => {
    const { auth } = createTestHandler({ store: memoryStore() });
    const { jar, csrfToken } = await signIn(auth.handler);
    const copy = copyOf(jar);
    const [current] = (await (await auth.handler(get("/sessions", jar))).json()) as Array<{ id: string; updatedAt: string }>;
    expect(current!.updatedAt).toBe(new Date(manualClock().now()).toISOString());
    const missing = await auth.handler(postJson("/sessions/revoke", { csrfToken, id: "0".repeat(64) }, jar));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ message: "no such session" });
    const response = await auth.handler(postJson("/sessions/revoke", { csrfToken, id: current!.id }, jar));
    expect(response.status).toBe(200);
    expect(setCookies(response).get(COOKIE)).toBe("");
    expect((await read(auth.handler, copy)).body).toBeNull();
  });

  it("JWT with migrateFrom database: a database row of the same user is not the current session, so not revocable here", async () => {
    const { jwt, database, store } = pair();
    const old = await signIn(database.handler);
    const current = await signIn(jwt.handler);
    const rowId = storeIdOf(old.jar.cookies.get(COOKIE)!);
    const response = await jwt.handler(postJson("/sessions/revoke", { csrfToken: current.csrfToken, id: rowId }, current.jar));
    expect(response.status).toBe(404);
    expect(await store.get(rowId, Date.UTC(2026, 10, 28, 12))).not.toBeNull();
  });

  it("a token without a user cannot sign out everywhere: 404, saying why", async () => {
    const store = memoryStore();
    const { auth } = createTestHandler({ store });
    const now = nowSeconds();
    const token = await mint({ iat: now, exp: now + 3600, jti: "j", sid: "s", gen: 0 });
    const jar = new CookieJar();
    jar.cookies.set(COOKIE, token);
    const csrfToken = await csrf(auth.handler, jar);
    const response = await auth.handler(postJson("/sessions/revoke", { csrfToken, all: true }, jar));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ message: "this session has no user to sign out everywhere" });
  });

  it("JWT: sign out everywhere for one user leaves another user's sessions alone", async () => {
    const users: Record<string, string> = { ada: "user-ada", grace: "user-grace" };
    const { auth } = createTestHandler({ store: memoryStore(), authorize: async (credentials) => ({ id: users[String(credentials.email)]! }) });
    const ada = await signIn(auth.handler, new CookieJar(), { email: "ada" });
    const grace = await signIn(auth.handler, new CookieJar(), { email: "grace" });
    await auth.handler(postJson("/sessions/revoke", { csrfToken: ada.csrfToken, all: true }, ada.jar));
    expect((await read(auth.handler, grace.jar)).body).toMatchObject({ user: { id: "user-grace" } });
  });

  it("a revoke id that is not a session id never reaches the store", async () => {
    const inner = memoryStore();
    const asked: string[] = [];
    const store: Store = { ...inner, get: async (id, now) => (asked.push(id), inner.get(id, now)) };
    const { auth } = createTestHandler({ store, session: { strategy: "database" } });
    const { jar, csrfToken } = await signIn(auth.handler);
    asked.length = 0;
    for (const id of ["a\u0000", "\u0000a", "a b", "a".repeat(129), "é"]) {
      const response = await auth.handler(postJson("/sessions/revoke", { csrfToken, id }, jar));
      expect(response.status, JSON.stringify(id)).toBe(404);
    }
    // The only reads were of the request's own cookie.
    const own = storeIdOf(jar.cookies.get(COOKIE)!);
    expect(asked.filter((id) => id !== own)).toEqual([]);
  });
});

describe("what refusals log", () => {
  it("a JWT at a database server without migrateFrom: token_malformed; a revoked token: session_revoked", async () => {
    const { jar } = await signIn(createTestHandler().auth.handler);
    const database = createTestHandler({ store: memoryStore(), session: { strategy: "database" } });
    await database.auth.handler(get("/session", jar));
    expect(database.log.entries.map((entry) => entry.code)).toEqual(["token_malformed"]);

    const { auth, log } = createTestHandler({ store: memoryStore() });
    const signedIn = await signIn(auth.handler);
    const copy = copyOf(signedIn.jar);
    await auth.handler(postJson("/signout", { csrfToken: signedIn.csrfToken }, signedIn.jar));
    log.entries.length = 0;
    await auth.handler(get("/session", copy));
    expect(log.entries.map((entry) => entry.code)).toEqual(["session_revoked"]);
  });
});

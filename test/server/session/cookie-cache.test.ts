import { describe, expect, it } from "vitest";
import { SessionConfigError } from "../../../src/server/index.ts";
import { memoryStore } from "../../../src/server/stores/memory.ts";
import type { Store } from "../../../src/server/stores/store.ts";
import { sqliteStore } from "../../../src/server/stores/sqlite.ts";
import { CookieJar, createTestHandler, get, postJson, signIn } from "../helpers.ts";

const CACHE_AGE = 60;
const DATA_COOKIE = "authjs.session-data";

/** The store with its reads and writes counted. */
function counted(store: Store) {
  const counts = { get: 0, touch: 0, update: 0 };
  return {
    counts,
    store: {
      ...store,
      get: (id: string, now: number) => (counts.get++, store.get(id, now)),
      touch: (id: string, expires: number, now: number, ifAtMost: number) => (counts.touch++, store.touch(id, expires, now, ifAtMost)),
      update: (id: string, data: Record<string, unknown>, now: number) => (counts.update++, store.update(id, data, now)),
    } satisfies Store,
  };
}

function setUp(open: () => Store = memoryStore, cookieCache: boolean | { maxAge: number } = { maxAge: CACHE_AGE }) {
  const { store, counts } = counted(open());
  const test = createTestHandler({
    store,
    session: { strategy: "database", updateAge: 3_600, cookieCache },
    callbacks: {
      jwt: ({ token, trigger, session }) =>
        trigger === "update" && typeof (session as { theme?: unknown })?.theme === "string" ? { ...token, theme: (session as { theme: string }).theme } : token,
      session: ({ session, token }) => ({ ...session, theme: token.theme }),
    },
  });
  return { ...test, store, counts };
}

async function poll(handler: (request: Request) => Promise<Response>, jar: CookieJar) {
  const response = await handler(get("/session", jar));
  jar.apply(response);
  return (await response.json()) as { user?: { email?: string }; theme?: string } | null;
}

describe("session.cookieCache (database strategy): the row in a sealed cookie, so polls skip the store", () => {
  for (const [name, open] of [
    ["memory", memoryStore],
    ["SQLite", () => sqliteStore({ path: ":memory:" })],
  ] as const) {
    it(`${name}: 1,000 polls within the cache's age read the store 0 times; the next one after it reads once`, async () => {
      const { auth, clock, counts } = setUp(open);
      const { jar } = await signIn(auth.handler);
      expect(jar.cookies.has(DATA_COOKIE)).toBe(true);
      counts.get = 0;
      for (let i = 0; i < 1_000; i++) {
        if (i % 20 === 0) clock.advance((CACHE_AGE - 1) / 50);
        expect((await poll(auth.handler, jar))?.user?.email).toBe("ada@example.com");
      }
      expect(counts.get).toBe(0);
      clock.advance(CACHE_AGE);
      expect((await poll(auth.handler, jar))?.user?.email).toBe("ada@example.com");
      expect(counts.get).toBe(1);
      expect((await poll(auth.handler, jar))?.user?.email).toBe("ada@example.com");
      expect(counts.get).toBe(1);
    });
  }

  it("off by default: every poll reads the store", async () => {
    const { auth, counts } = setUp(memoryStore, false);
    const { jar } = await signIn(auth.handler);
    counts.get = 0;
    for (let i = 0; i < 10; i++) await poll(auth.handler, jar);
    expect(counts.get).toBe(10);
    expect(jar.cookies.has(DATA_COOKIE)).toBe(false);
  });

  it("the trade-off, asserted: a revocation made elsewhere reaches a cached browser only when its cache expires (without the cache, at once)", async () => {
    for (const cookieCache of [{ maxAge: CACHE_AGE }, false] as const) {
      const { auth, clock } = setUp(memoryStore, cookieCache);
      const { jar } = await signIn(auth.handler);
      await poll(auth.handler, jar);
      await auth.api.revokeUserSessions("user-1");
      clock.advance(CACHE_AGE - 1);
      const within = await poll(auth.handler, jar);
      if (cookieCache) expect(within?.user?.email).toBe("ada@example.com");
      else expect(within).toBeNull();
      clock.advance(2);
      expect(await poll(auth.handler, jar)).toBeNull();
      // Once refused, it stays refused.
      expect(await poll(auth.handler, jar)).toBeNull();
    }
  });

  it("a sign-out in the browser ends it at once and clears the cache cookie; a stolen copy of both cookies lasts at most the cache's age", async () => {
    const { auth, clock } = setUp();
    const { jar, csrfToken } = await signIn(auth.handler);
    const stolen = new CookieJar();
    for (const [name, value] of jar.cookies) stolen.cookies.set(name, value);
    const out = await auth.handler(postJson("/signout", { csrfToken }, jar));
    jar.apply(out);
    expect(out.headers.getSetCookie().some((line) => line.startsWith(`${DATA_COOKIE}=;`))).toBe(true);
    expect(jar.cookies.has(DATA_COOKIE)).toBe(false);
    expect(await poll(auth.handler, jar)).toBeNull();
    expect((await poll(auth.handler, stolen))?.user?.email).toBe("ada@example.com"); // the documented lag
    clock.advance(CACHE_AGE + 1);
    expect(await poll(auth.handler, stolen)).toBeNull();
  });

  it("is bound to its session: a cache cookie moved beside another session's cookie, or planted twice, vouches for nothing", async () => {
    const { auth, counts } = setUp();
    const ada = (await signIn(auth.handler)).jar;
    const other = (await signIn(auth.handler)).jar;
    counts.get = 0;
    const mixed = new CookieJar();
    mixed.cookies.set("authjs.session-token", other.cookies.get("authjs.session-token")!);
    mixed.cookies.set(DATA_COOKIE, ada.cookies.get(DATA_COOKIE)!);
    expect(await poll(auth.handler, mixed)).not.toBeNull();
    expect(counts.get).toBe(1); // read from the store: the foreign cache was not used
    const twice = new Request(get("/session").url, {
      headers: { cookie: `${ada.header()}; ${DATA_COOKIE}=${ada.cookies.get(DATA_COOKIE)!}` },
    });
    await auth.handler(twice);
    expect(counts.get).toBe(2);
  });

  it("update() rewrites the cache, so the next (cached) poll shows the new data in every tab", async () => {
    const { auth, counts } = setUp();
    const { jar, csrfToken } = await signIn(auth.handler);
    const updated = await auth.handler(postJson("/session", { csrfToken, data: { theme: "dark" } }, jar));
    jar.apply(updated);
    expect(updated.status).toBe(200);
    counts.get = 0;
    expect((await poll(auth.handler, jar))?.theme).toBe("dark");
    expect(counts.get).toBe(0);
  });

  it("the sliding expiry still writes at most once per updateAge, and the slid row is what gets cached", async () => {
    const { auth, clock, counts } = setUp(memoryStore, { maxAge: 7_200 });
    const { jar } = await signIn(auth.handler);
    counts.touch = 0;
    counts.get = 0;
    for (let minute = 0; minute < 180; minute++) {
      clock.advance(60);
      expect(await poll(auth.handler, jar)).not.toBeNull();
    }
    expect(counts.touch).toBe(3); // at 1 h, 2 h, 3 h
    expect(counts.get).toBe(0); // each slide re-cached the slid row, so the 2 h cache never ran out
  });

  it("is for the database strategy only: asked for with JWT it is a clear error at start-up", () => {
    expect(() => createTestHandler({ session: { cookieCache: true } })).toThrow(SessionConfigError);
    expect(() => createTestHandler({ store: memoryStore(), session: { strategy: "database", cookieCache: { maxAge: -1 } } })).toThrow(/cookieCache.maxAge/);
  });
});

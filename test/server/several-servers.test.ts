import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/server/index.ts";
import { postgresStore } from "../../src/server/stores/postgres.ts";
import { redisStore } from "../../src/server/stores/redis.ts";
import { CookieJar, createTestHandler, get, manualClock, postJson, signIn } from "./helpers.ts";
import { POSTGRES, REDIS, needService, runId } from "./services.ts";

const stores: Store[] = [];
const tablePrefixes: string[] = [];
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  if (tablePrefixes.length === 0) return;
  const client = new pg.Client({ connectionString: POSTGRES.url });
  await client.connect();
  for (const prefix of tablePrefixes) await client.query(`DROP TABLE IF EXISTS "${prefix}sessions", "${prefix}revoked_tokens"`);
  await client.end();
});

/** Two server nodes with their own store connection to one shared backend, as two processes would have. */
function twoNodes(strategy: "jwt" | "database", openStore: () => Store) {
  const clock = manualClock();
  const node = () => {
    const store = openStore();
    stores.push(store);
    return createTestHandler({ clock: clock.now, session: { strategy, maxAge: 3600, updateAge: 600 }, store }).auth;
  };
  return { a: node(), b: node(), clock };
}

const backends = [
  {
    name: "PostgreSQL",
    service: POSTGRES,
    open: (prefix: string) => {
      tablePrefixes.push(`sp_${prefix}_`);
      return () => postgresStore({ connectionString: POSTGRES.url }, { tablePrefix: `sp_${prefix}_` });
    },
  },
  { name: "Redis", service: REDIS, open: (prefix: string) => () => redisStore({ url: REDIS.url }, { keyPrefix: `sessionpulse-test:${prefix}:` }) },
];

describe.each(backends)("two server nodes sharing $name", ({ service, open }) => {
  it("database sessions: sign in on one, use on the other, revoke on the other, refused on the first", async (context) => {
    await needService(service, context);
    const { a, b } = twoNodes("database", open(runId()));
    const { jar, csrfToken } = await signIn(a.handler, new CookieJar());
    expect(await (await b.handler(get("/session", jar))).json()).toMatchObject({ user: { id: "user-1" } });
    const revoked = await b.handler(postJson("/sessions/revoke", { csrfToken, all: true }, jar));
    expect(revoked.status).toBe(200);
    const stale = new CookieJar();
    stale.cookies.set("authjs.session-token", jar.cookies.get("authjs.session-token")!);
    expect(await (await a.handler(get("/session", stale))).json()).toBeNull();
  });

  it("JWT sessions with the deny-list: a sign-out on one node is honoured by the other", async (context) => {
    await needService(service, context);
    const { a, b } = twoNodes("jwt", open(runId()));
    const { jar, csrfToken } = await signIn(a.handler, new CookieJar());
    const copy = jar.header();
    expect(await (await b.handler(get("/session", jar))).json()).toMatchObject({ user: { id: "user-1" } });
    await b.handler(postJson("/signout", { csrfToken }, jar));
    expect(await (await a.handler(get("/session", undefined, { cookie: copy }))).json()).toBeNull();
  });

  it("touches once across both nodes when updateAge has passed", async (context) => {
    await needService(service, context);
    const { a, b, clock } = twoNodes("database", open(runId()));
    const { jar } = await signIn(a.handler, new CookieJar());
    clock.advance(601);
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).handler(get("/session", jar))));
    const reissued = responses.filter((response) => response.headers.getSetCookie().length > 0);
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(reissued).toHaveLength(1);
  });
});

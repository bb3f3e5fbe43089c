import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startOidcProvider } from "../../../playground/demo-oidc-provider.ts";
import { createSessionHandler, oidc, SessionConfigError, SessionServerError } from "../../../src/server/index.ts";
import { memoryStore } from "../../../src/server/stores/memory.ts";
import type { Store } from "../../../src/server/stores/store.ts";
import type { SessionHandlerConfig } from "../../../src/server/types.ts";
import { BACKENDS, ready } from "../stores/backends.ts";
import { recordingLogger, SECRET } from "../helpers.ts";
import { Browser, signInThroughProvider } from "./browser.ts";

const APP = "http://localhost:3000";
/** Seconds an access token lives at the provider here: it is due for refresh halfway, after 1.5 s. */
const TTL = 3;

let idp: Awaited<ReturnType<typeof startOidcProvider>>;
beforeAll(async () => {
  idp = await startOidcProvider({ redirectUris: [`${APP}/api/auth/callback/demo`], accessTokenTtl: TTL });
});
afterAll(() => idp?.stop());
afterEach(() => {
  vi.restoreAllMocks();
});

function app(store: Store | undefined, overrides: Partial<SessionHandlerConfig> = {}) {
  const log = recordingLogger();
  const auth = createSessionHandler({
    secret: SECRET,
    url: APP,
    store,
    logger: log.logger,
    providers: [oidc({ id: "demo", name: "Demo OpenID", issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, keepTokens: true })],
    ...overrides,
  });
  return { auth, log };
}

/** Whether the provider accepts `accessToken` (its userinfo endpoint answers for it). */
async function accepted(accessToken: string): Promise<boolean> {
  const response = await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  await response.body?.cancel();
  return response.ok;
}

/** `auth.api.getProviderToken` for the browser's cookies, answered as JSON (or the error's code). */
const providerToken = (auth: ReturnType<typeof app>["auth"], browser: Browser) =>
  browser
    .fetch(`${APP}/token`, {}, async (request) => {
      try {
        return Response.json(await auth.api.getProviderToken(request));
      } catch (error) {
        if (!(error instanceof SessionServerError)) throw error;
        return Response.json({ error: error.code }, { status: error.status });
      }
    })
    .then((response) => response.json() as Promise<{ accessToken?: string; expiresAt?: string; error?: string } | null>);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("provider tokens: kept with the session, refreshed once per expiry, never in the browser", () => {
  it("keepTokens needs a store: a clear error at start-up", () => {
    expect(() => app(undefined)).toThrow(SessionConfigError);
    expect(() => app(undefined)).toThrow(/keepTokens: true.*needs a `store`/);
  });

  it("gives server code a token the provider accepts; the browser never sees it, and the store holds it sealed", async () => {
    const store = memoryStore();
    const puts: string[] = [];
    const putValue = store.putValue.bind(store);
    store.putValue = async (key, value, ...rest) => (puts.push(value), putValue(key, value, ...rest));
    const { auth } = app(store);
    const browser = new Browser();
    const back = await signInThroughProvider(auth.handler, browser, APP, "demo");
    expect(back.status).toBe(302);
    const token = await providerToken(auth, browser);
    expect(token).toMatchObject({ accessToken: expect.any(String), expiresAt: expect.any(String) });
    expect(await accepted(token!.accessToken!)).toBe(true);
    const session = await (await browser.fetch(`${APP}/api/auth/session`, {}, auth.handler)).text();
    expect(session).toContain("alice");
    expect(session).not.toContain(token!.accessToken);
    expect([...browser.cookies(APP).values()].join(";")).not.toContain(token!.accessToken);
    expect(puts.length).toBeGreaterThan(0);
    for (const sealed of puts) expect(sealed).not.toContain(token!.accessToken);
  });

  it("a session signed in another way has none (null); without a session it is unauthenticated", async () => {
    const { auth } = app(memoryStore(), { authorize: async () => ({ id: "bob" }) });
    expect(await providerToken(auth, new Browser())).toEqual({ error: "unauthenticated" });
    const browser = new Browser();
    const csrf = (await (await browser.fetch(`${APP}/api/auth/csrf`, {}, auth.handler)).json()) as { csrfToken: string };
    await browser.fetch(
      `${APP}/api/auth/callback/credentials`,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: APP },
        body: new URLSearchParams({ csrfToken: csrf.csrfToken, password: "x" }),
      },
      auth.handler,
    );
    expect(await providerToken(auth, browser)).toBeNull();
  });

  it("the polling tab's GET /session renews the token ahead of its expiry, once", async () => {
    const { auth } = app(memoryStore());
    const browser = new Browser();
    await signInThroughProvider(auth.handler, browser, APP, "demo");
    const first = await providerToken(auth, browser);
    const before = idp.grants.refreshes;
    await sleep(1_700); // past halfway: due
    await browser.fetch(`${APP}/api/auth/session`, {}, auth.handler);
    expect(idp.grants.refreshes).toBe(before + 1);
    await browser.fetch(`${APP}/api/auth/session`, {}, auth.handler);
    const second = await providerToken(auth, browser);
    expect(idp.grants.refreshes).toBe(before + 1);
    expect(second!.accessToken).not.toBe(first!.accessToken);
    expect(new Date(second!.expiresAt!).getTime()).toBeGreaterThan(new Date(first!.expiresAt!).getTime());
    expect(await accepted(second!.accessToken!)).toBe(true);
  });

  it("ends with the session: signing out drops the kept tokens from the store", async () => {
    const store = memoryStore();
    const deleted: string[] = [];
    const deleteValue = store.deleteValue.bind(store);
    store.deleteValue = async (key) => (deleted.push(key), deleteValue(key));
    const { auth } = app(store);
    const browser = new Browser();
    await signInThroughProvider(auth.handler, browser, APP, "demo");
    const csrf = (await (await browser.fetch(`${APP}/api/auth/csrf`, {}, auth.handler)).json()) as { csrfToken: string };
    await browser.fetch(
      `${APP}/api/auth/signout`,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: APP },
        body: new URLSearchParams({ csrfToken: csrf.csrfToken }),
      },
      auth.handler,
    );
    expect(deleted.filter((key) => key.startsWith("provider-tokens:"))).toHaveLength(1);
  });

  it("a refresh token the provider refuses (used by someone else first: rotation revokes the grant) is provider_token_refused, not a sign-out", async () => {
    // Record the tokens the provider hands out, to play the thief who uses the refresh token first.
    const realFetch = globalThis.fetch;
    const refreshTokens: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const response = await realFetch(input, init);
      const url = input instanceof Request ? input.url : String(input);
      if (url.startsWith(`${idp.issuer}/token`)) {
        const body = (await response.clone().json()) as { refresh_token?: string };
        if (body.refresh_token) refreshTokens.push(body.refresh_token);
      }
      return response;
    });
    const { auth, log } = app(memoryStore());
    const browser = new Browser();
    await signInThroughProvider(auth.handler, browser, APP, "demo");
    expect(refreshTokens).toHaveLength(1);
    const stolen = await realFetch(`${idp.issuer}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshTokens[0]!, client_id: idp.clientId, client_secret: idp.clientSecret }),
    });
    expect(stolen.status).toBe(200);
    await sleep(1_700);
    expect(await providerToken(auth, browser)).toEqual({ error: "provider_token_refused" });
    expect(log.entries.some((entry) => entry.code === "provider_token_refused")).toBe(true);
    // The session itself stays: the app decides (typically: sign in with the provider again).
    const session = (await (await browser.fetch(`${APP}/api/auth/session`, {}, auth.handler)).json()) as { user?: unknown } | null;
    expect(session?.user).toBeDefined();
  });

  it("a provider that cannot be reached: the current token while it is good, then provider_unavailable (503), and renewal once it is back", async () => {
    const { auth } = app(memoryStore());
    const browser = new Browser();
    await signInThroughProvider(auth.handler, browser, APP, "demo");
    const first = await providerToken(auth, browser);
    const realFetch = globalThis.fetch;
    let down = true;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (down && url.startsWith(`${idp.issuer}/token`)) throw new TypeError("fetch failed");
      return realFetch(input, init);
    });
    await sleep(1_700); // due, not yet expired
    expect((await providerToken(auth, browser))!.accessToken).toBe(first!.accessToken);
    await sleep(1_500); // expired; the lock of the failed try has not lapsed (it is not retried at once)
    expect(await providerToken(auth, browser)).toEqual({ error: "provider_unavailable" });
    down = false;
    await sleep(15_000 - 1_500); // the failed try's lock lapses
    const renewed = await providerToken(auth, browser);
    expect(renewed!.accessToken).not.toBe(first!.accessToken);
    expect(await accepted(renewed!.accessToken!)).toBe(true);
  }, 30_000);
});

describe("5 tabs × 2 servers polling at once: the provider sees one refresh per expiry, and a rotated refresh token is never used twice", () => {
  const cases = [
    ...BACKENDS.map((backend) => ({ backend, strategy: "database" as const })),
    ...BACKENDS.filter((backend) => backend.name === "memory" || backend.name === "Redis").map((backend) => ({ backend, strategy: "jwt" as const })),
  ];
  for (const { backend, strategy } of cases) {
    it(`${backend.name}, ${strategy} strategy`, async (context) => {
      await ready(backend, context);
      const store = backend.open();
      const nodes = [app(store, { session: { strategy } }), app(store, { session: { strategy } })];
      const browser = new Browser();
      await signInThroughProvider(nodes[0]!.auth.handler, browser, APP, "demo");
      const grantsBefore = { ...idp.grants };
      const tokens = new Set<string>();
      const failures: string[] = [];
      const deadline = Date.now() + 6_500;
      const tab = async (index: number) => {
        for (let round = 0; Date.now() < deadline; round++) {
          const node = nodes[(index + round) % 2]!.auth;
          const poll = await browser.fetch(`${APP}/api/auth/session`, {}, node.handler);
          const session = (await poll.json()) as { user?: { name?: string } } | null;
          if (poll.status !== 200 || !session?.user) failures.push(`poll ${poll.status} ${JSON.stringify(session)}`);
          const token = await providerToken(node, browser);
          if (!token?.accessToken) failures.push(`token ${JSON.stringify(token)}`);
          else if (!tokens.has(token.accessToken)) {
            tokens.add(token.accessToken);
            if (!(await accepted(token.accessToken))) failures.push("a token the provider does not accept");
          }
          await sleep(40 + index * 10);
        }
      };
      await Promise.all([0, 1, 2, 3, 4].map(tab));
      const refreshes = idp.grants.refreshes - grantsBefore.refreshes;
      expect(failures).toEqual([]);
      expect(idp.grants.refused - grantsBefore.refused).toBe(0);
      expect(idp.grants.revoked - grantsBefore.revoked).toBe(0);
      // A token is due 1.5 s after it was issued: about 4 in 6.5 s, and each refresh gave exactly one new token.
      expect(refreshes).toBeGreaterThanOrEqual(3);
      expect(refreshes).toBeLessThanOrEqual(5);
      expect(tokens.size).toBe(refreshes + 1);
    }, 20_000);
  }
});

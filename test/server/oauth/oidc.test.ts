import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionClient } from "../../../src/client/index.ts";
import { createSessionHandler, oidc } from "../../../src/server/index.ts";
import { recordingLogger, SECRET } from "../helpers.ts";
import { startOidcProvider } from "../../../playground/demo-oidc-provider.ts";
import { Browser, signInThroughProvider, walkProvider } from "./browser.ts";

const APP = "http://localhost:3000";
const CALLBACK = `${APP}/api/auth/callback/demo`;

let idp: Awaited<ReturnType<typeof startOidcProvider>>;
beforeAll(async () => {
  idp = await startOidcProvider({ redirectUris: [CALLBACK, `${APP}/api/auth/callback/plain`] });
});
afterAll(() => idp?.stop());

function app(overrides: { profile?: Parameters<typeof oidc>[0]["profile"]; clientSecret?: string; issuer?: string } = {}) {
  const log = recordingLogger();
  const auth = createSessionHandler({
    secret: SECRET,
    url: APP,
    logger: log.logger,
    providers: [
      oidc({
        id: "demo",
        name: "Demo OpenID",
        issuer: overrides.issuer ?? idp.issuer,
        clientId: idp.clientId,
        clientSecret: overrides.clientSecret ?? idp.clientSecret,
        profile: overrides.profile,
      }),
    ],
  });
  return { auth, log };
}

const throughProvider = (browser: Browser, authorizationUrl: string, login = "alice", consent = true) =>
  walkProvider(browser, authorizationUrl, APP, login, consent);
const signInWithProvider = (auth: ReturnType<typeof app>["auth"], browser: Browser, login = "alice") =>
  signInThroughProvider(auth.handler, browser, APP, "demo", login);

describe("OpenID Connect sign-in against a real provider (oidc-provider on loopback)", () => {
  it("redirects with PKCE, state and nonce, and the callback starts the session for the provider's user", async () => {
    const { auth } = app();
    const browser = new Browser();
    const start = await browser.fetch(`${APP}/api/auth/signin/demo`, {}, auth.handler);
    const location = new URL(start.headers.get("location")!);
    expect(location.origin).toBe(idp.issuer);
    for (const name of ["state", "nonce", "code_challenge"]) expect(location.searchParams.get(name)).toMatch(/^[\w-]{20,}$/);
    expect(location.searchParams.get("code_challenge_method")).toBe("S256");
    expect(location.searchParams.get("redirect_uri")).toBe(CALLBACK);
    expect(start.headers.getSetCookie().some((line) => line.startsWith("authjs.oauth-state=") && /HttpOnly/.test(line) && /SameSite=Lax/.test(line))).toBe(
      true,
    );

    const callback = await signInWithProvider(auth, new Browser(), "alice");
    expect(callback.status).toBe(302);
    expect(callback.headers.get("location")).toBe(`${APP}/home`);
    const cookie = callback.headers.getSetCookie().find((line) => line.startsWith("authjs.session-token="))!;
    const session = await (await auth.handler(new Request(`${APP}/api/auth/session`, { headers: { cookie: cookie.split(";")[0]! } }))).json();
    expect(session).toMatchObject({ user: { id: "alice", email: "alice@example.com", name: "Demo alice" } });
  });

  it("maps the profile through the provider's callback; null refuses the sign-in (AccessDenied)", async () => {
    const seen: unknown[] = [];
    const { auth } = app({
      profile: (profile) => (seen.push(profile.sub), profile.sub === "mallory" ? null : { id: `local-${String(profile.sub)}`, email: String(profile.email) }),
    });
    const ok = await signInWithProvider(auth, new Browser(), "bob");
    const cookie = ok.headers.getSetCookie().find((line) => line.startsWith("authjs.session-token="))!;
    expect(await (await auth.handler(new Request(`${APP}/api/auth/session`, { headers: { cookie: cookie.split(";")[0]! } }))).json()).toMatchObject({
      user: { id: "local-bob" },
    });
    const refused = await signInWithProvider(auth, new Browser(), "mallory");
    expect(refused.headers.get("location")).toBe(`${APP}/api/auth/signin?error=AccessDenied&provider=demo`);
    expect(seen).toEqual(["bob", "mallory"]);
  });

  it("a replayed callback (the same code and state twice) is refused, and the first session is unaffected", async () => {
    const { auth } = app();
    const browser = new Browser();
    const start = await browser.fetch(`${APP}/api/auth/signin/demo`, {}, auth.handler);
    const stateCookie = browser.cookies(APP).get("authjs.oauth-state")!;
    const back = await throughProvider(browser, start.headers.get("location")!);
    const first = await browser.fetch(back, {}, auth.handler);
    expect(first.headers.get("location")).toBe(`${APP}/`);
    // An attacker replays the same callback URL with the same (captured) state cookie.
    const replay = await auth.handler(new Request(back, { headers: { cookie: `authjs.oauth-state=${stateCookie}` } }));
    expect(replay.status).toBe(302);
    expect(replay.headers.get("location")).toBe(`${APP}/api/auth/signin?error=OAuthCallbackError&provider=demo`);
    expect(replay.headers.getSetCookie().some((line) => line.startsWith("authjs.session-token=") && !/Max-Age=0/.test(line))).toBe(false);
  });

  it("a callback without this browser's pending sign-in (another browser's link, a forged state) ends on the error page", async () => {
    const { auth, log } = app();
    const victim = new Browser();
    const start = await victim.fetch(`${APP}/api/auth/signin/demo`, {}, auth.handler);
    const back = await throughProvider(victim, start.headers.get("location")!);
    // The attacker makes another browser open the callback: no state cookie there.
    const other = await auth.handler(new Request(back));
    expect(other.headers.get("location")).toBe(`${APP}/api/auth/signin?error=OAuthCallbackError&provider=demo`);
    const tampered = await auth.handler(
      new Request(back.replace(/state=[^&]+/, "state=forged"), { headers: { cookie: `authjs.oauth-state=${victim.cookies(APP).get("authjs.oauth-state")}` } }),
    );
    expect(tampered.headers.get("location")).toContain("error=OAuthCallbackError");
    expect(log.entries.filter((entry) => entry.code === "oauth_signin_failed").length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(log.entries)).not.toContain(idp.clientSecret);
  });

  it("declined consent ends on the error page with AccessDenied", async () => {
    const { auth } = app();
    const browser = new Browser();
    const start = await browser.fetch(`${APP}/api/auth/signin/demo`, {}, auth.handler);
    const back = await throughProvider(browser, start.headers.get("location")!, "carol", false);
    const callback = await browser.fetch(back, {}, auth.handler);
    expect(callback.headers.get("location")).toBe(`${APP}/api/auth/signin?error=AccessDenied&provider=demo`);
  });

  it("a wrong client secret (the exchange refused) and a provider that is down end on the error page, never a 5xx", async () => {
    const wrong = app({ clientSecret: "not-the-secret-0123456789" }).auth;
    const refused = await signInWithProvider(wrong, new Browser());
    expect(refused.headers.get("location")).toContain("error=OAuthCallbackError");
    const down = app({ issuer: "http://127.0.0.1:9" }).auth;
    const start = await down.handler(new Request(`${APP}/api/auth/signin/demo`));
    expect(start.status).toBe(302);
    expect(start.headers.get("location")).toBe(`${APP}/api/auth/signin?error=OAuthSignin&provider=demo`);
  });

  it("GET /providers lists it the Auth.js way, and POST /signin/<id> (next-auth/react's signIn) answers { url } after the CSRF check", async () => {
    const { auth } = app();
    const providers = await (await auth.handler(new Request(`${APP}/api/auth/providers`))).json();
    expect(providers).toEqual({
      demo: { id: "demo", name: "Demo OpenID", type: "oidc", signinUrl: `${APP}/api/auth/signin/demo`, callbackUrl: `${APP}/api/auth/callback/demo` },
    });
    const browser = new Browser();
    const { csrfToken } = (await (await browser.fetch(`${APP}/api/auth/csrf`, {}, auth.handler)).json()) as { csrfToken: string };
    const posted = await browser.fetch(
      `${APP}/api/auth/signin/demo`,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-auth-return-redirect": "1" },
        body: new URLSearchParams({ csrfToken, callbackUrl: `${APP}/x` }),
      },
      auth.handler,
    );
    expect(posted.status).toBe(200);
    expect(((await posted.json()) as { url: string }).url.startsWith(`${idp.issuer}/`)).toBe(true);
    const noCsrf = await auth.handler(
      new Request(`${APP}/api/auth/signin/demo`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "" }),
    );
    expect(noCsrf.status).toBe(403);
  });

  it("the client's signIn('<provider>') gets the provider's page from the server and goes there; back from it, the session is there", async () => {
    const { auth } = app();
    const browser = new Browser();
    const navigations: string[] = [];
    const client = createSessionClient({
      basePath: `${APP}/api/auth`,
      crossTab: false,
      refetchInterval: 0,
      fetch: (input, init) => browser.fetch(input, init, auth.handler),
      env: { navigate: (url) => void navigations.push(url), href: () => `${APP}/account` },
    });
    const result = await client.signIn("demo");
    expect(result).toMatchObject({ ok: true, error: null });
    expect(navigations).toHaveLength(1);
    expect(navigations[0]!.startsWith(`${idp.issuer}/`)).toBe(true);
    const back = await throughProvider(browser, navigations[0]!, "dora");
    const landed = await browser.fetch(back, {}, auth.handler);
    expect(landed.headers.get("location")).toBe(`${APP}/account`);
    expect((await client.refresh()).data).toMatchObject({ user: { id: "dora" } });
    client.destroy();
  });
});

describe("provider configuration", () => {
  const base = { secret: SECRET };
  it.each([
    ["a provider that is not oidc(…) or github(…)", [{ id: "x", type: "saml", clientId: "c" }], /must come from oidc/],
    ["an id with a slash", [oidc({ id: "a/b", name: "A", issuer: "https://idp.example.com", clientId: "c" })], /id must be letters/],
    ["the id credentials", [oidc({ id: "credentials", name: "A", issuer: "https://idp.example.com", clientId: "c" })], /used twice/],
    [
      "two providers with one id",
      [
        oidc({ id: "a", name: "A", issuer: "https://a.example.com", clientId: "c" }),
        oidc({ id: "a", name: "B", issuer: "https://b.example.com", clientId: "c" }),
      ],
      /used twice/,
    ],
    ["no clientId", [oidc({ id: "a", name: "A", issuer: "https://idp.example.com", clientId: "" })], /clientId/],
    ["an http issuer off loopback", [oidc({ id: "a", name: "A", issuer: "http://idp.example.com", clientId: "c" })], /https URL/],
    ["an issuer that is not a URL", [oidc({ id: "a", name: "A", issuer: "idp", clientId: "c" })], /https URL/],
  ])("refuses %s at creation", (_, providers, message) => {
    expect(() => createSessionHandler({ ...base, providers: providers as never })).toThrow(message);
  });

  it("accepts github(…) as it comes, and lists it", async () => {
    const { github } = await import("../../../src/server/index.ts");
    const auth = createSessionHandler({ ...base, providers: [github({ clientId: "id", clientSecret: "secret" })] });
    const providers = await (await auth.handler(new Request("http://localhost:3000/api/auth/providers"))).json();
    expect(providers).toMatchObject({ github: { id: "github", name: "GitHub", type: "oauth" } });
    const start = await auth.handler(new Request("http://localhost:3000/api/auth/signin/github"));
    const location = new URL(start.headers.get("location")!);
    expect(location.origin + location.pathname).toBe("https://github.com/login/oauth/authorize");
    expect(location.searchParams.get("scope")).toBe("read:user user:email");
    expect(location.searchParams.get("nonce")).toBeNull();
  });

  it("a plain OAuth 2 provider (github(…)'s path: no discovery, no ID token checked, the user from userinfo with the access token) signs in end to end", async () => {
    const plain = {
      type: "oauth" as const,
      id: "plain",
      name: "Plain OAuth 2",
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      authorization: `${idp.issuer}/auth`,
      token: `${idp.issuer}/token`,
      userinfo: `${idp.issuer}/me`,
      // userinfo at this provider needs `openid`; the flow still treats it as OAuth 2 (no nonce, profile from userinfo)
      scope: "openid email profile",
    };
    const auth = createSessionHandler({ secret: SECRET, url: APP, providers: [plain] });
    const browser = new Browser();
    const start = await browser.fetch(`${APP}/api/auth/signin/plain`, {}, auth.handler);
    const location = new URL(start.headers.get("location")!);
    expect(location.searchParams.get("nonce")).toBeNull();
    expect(location.searchParams.get("code_challenge_method")).toBe("S256");
    const back = await walkProvider(browser, location.href, APP, "olive");
    const landed = await browser.fetch(back, {}, auth.handler);
    expect(landed.status).toBe(302);
    expect(landed.headers.get("location")).not.toContain("error=");
    const session = (await (await browser.fetch(`${APP}/api/auth/session`, {}, auth.handler)).json()) as { user?: Record<string, unknown> } | null;
    expect(session?.user).toMatchObject({ email: "olive@example.com", name: "Demo olive" });
  });

  it("an unknown provider id is a 404, a wrong method a 405", async () => {
    const auth = createSessionHandler({ ...base, providers: [oidc({ id: "a", name: "A", issuer: "https://idp.example.com", clientId: "c" })] });
    expect((await auth.handler(new Request("http://localhost:3000/api/auth/signin/nope"))).status).toBe(404);
    expect((await auth.handler(new Request("http://localhost:3000/api/auth/callback/a", { method: "POST" }))).status).toBe(405);
  });
});

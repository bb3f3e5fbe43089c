import { describe, expect, it } from "vitest";
import { BASE, CookieJar, ORIGIN, SECRET, createTestHandler, demoUser, get, postJson, setCookies, signIn } from "../helpers.ts";

describe("GET /session", () => {
  it("answers null without a cookie, uncacheable, with no Set-Cookie", async () => {
    const { auth } = createTestHandler();
    const response = await auth.handler(get("/session"));
    expect(response.status).toBe(200);
    expect(await response.json()).toBeNull();
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("answers {} when signed out under compat next-auth-v4", async () => {
    const { auth } = createTestHandler({ compat: "next-auth-v4" });
    expect(await (await auth.handler(get("/session"))).json()).toEqual({});
  });

  it("returns the Auth.js session shape after sign-in", async () => {
    const { auth, clock } = createTestHandler();
    const { jar } = await signIn(auth.handler);
    const response = await auth.handler(get("/session", jar));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      user: { id: demoUser.id, name: demoUser.name, email: demoUser.email, image: null },
      expires: new Date(clock.now() + 30 * 86400 * 1000).toISOString(),
    });
  });
});

describe("sliding expiry", () => {
  it("sends no Set-Cookie before updateAge and one re-issued token after", async () => {
    const { auth, clock } = createTestHandler({ session: { maxAge: 3600, updateAge: 600 } });
    const { jar } = await signIn(auth.handler);
    const firstToken = jar.cookies.get("authjs.session-token");

    clock.advance(599);
    const young = await auth.handler(get("/session", jar));
    expect(young.headers.getSetCookie()).toEqual([]);
    const youngBody = (await young.json()) as { expires: string };

    clock.advance(1);
    const old = await auth.handler(get("/session", jar));
    const issued = setCookies(old);
    expect([...issued.keys()]).toEqual(["authjs.session-token"]);
    expect(issued.get("authjs.session-token")).not.toBe(firstToken);
    const oldBody = (await old.json()) as { expires: string };
    expect(Date.parse(oldBody.expires) - Date.parse(youngBody.expires)).toBe(600 * 1000);
    expect(old.headers.getSetCookie()[0]).toMatch(/Max-Age=3600/);
  });

  it("re-issues on every request with updateAge 0 (Auth.js behaviour)", async () => {
    const { auth } = createTestHandler({ session: { updateAge: 0 } });
    const { jar } = await signIn(auth.handler);
    for (let i = 0; i < 3; i++) {
      const response = await auth.handler(get("/session", jar));
      expect(setCookies(response).has("authjs.session-token")).toBe(true);
      jar.apply(response);
    }
  });

  it("expires a session left idle past maxAge", async () => {
    const { auth, clock, log } = createTestHandler({ session: { maxAge: 3600, updateAge: 600 } });
    const { jar } = await signIn(auth.handler);
    clock.advance(3600 + 16);
    const response = await auth.handler(get("/session", jar));
    expect(await response.json()).toBeNull();
    expect(setCookies(response).get("authjs.session-token")).toBe("");
    expect(log.entries.map((entry) => entry.code)).toContain("token_expired");
  });

  it("keeps an active session alive past maxAge through re-issues", async () => {
    const { auth, clock } = createTestHandler({ session: { maxAge: 3600, updateAge: 600 } });
    const { jar } = await signIn(auth.handler);
    for (let i = 0; i < 12; i++) {
      clock.advance(1200);
      const response = await auth.handler(get("/session", jar));
      expect(await response.json()).not.toBeNull();
      jar.apply(response);
    }
  });

  it("ends the session at maxLifetime from sign-in however active it is", async () => {
    const { auth, clock, log } = createTestHandler({ session: { maxAge: 3600, updateAge: 0, maxLifetime: 5000 } });
    const signedInAt = clock.now();
    const { jar } = await signIn(auth.handler);
    for (const step of [3000, 1500]) {
      clock.advance(step);
      const renewed = await auth.handler(get("/session", jar));
      jar.apply(renewed);
      // Re-issued tokens expire at sign-in + maxLifetime, not now + maxAge.
      expect(Date.parse(((await renewed.json()) as { expires: string }).expires)).toBe(signedInAt + 5000 * 1000);
    }
    clock.advance(600);
    expect(await (await auth.handler(get("/session", jar))).json()).toBeNull();
    expect(log.entries.map((entry) => entry.code)).toContain("token_expired");
  });

  it("refuses a token whose sign-in time is older than a newly configured maxLifetime", async () => {
    const before = createTestHandler();
    const { jar } = await signIn(before.auth.handler);
    const after = createTestHandler({ session: { maxLifetime: 3600 } });
    after.clock.advance(3600);
    const response = await after.auth.handler(get("/session", jar));
    expect(await response.json()).toBeNull();
    expect(setCookies(response).get("authjs.session-token")).toBe("");
    expect(after.log.entries.map((entry) => entry.code)).toEqual(["session_lifetime_exceeded"]);
  });
});

describe("POST /session (update)", () => {
  it("runs the callbacks with trigger update and returns the new session", async () => {
    const { auth } = createTestHandler({
      callbacks: {
        jwt: ({ token, trigger, session }) => {
          if (trigger === "update" && typeof session === "object" && session && "theme" in session) token.theme = String(session.theme);
          return token;
        },
        session: ({ session, token }) => ({ ...session, theme: token.theme ?? "light" }),
      },
    });
    const { jar, csrfToken } = await signIn(auth.handler);
    const response = await auth.handler(postJson("/session", { csrfToken, data: { theme: "dark" } }, jar));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ theme: "dark", user: { name: "Ada Lovelace" } });
    jar.apply(response);
    expect(await (await auth.handler(get("/session", jar))).json()).toMatchObject({ theme: "dark" });
  });

  it("answers 403 without a valid CSRF token and 401 when signed out", async () => {
    const { auth } = createTestHandler();
    const { jar, csrfToken } = await signIn(auth.handler);
    const forged = await auth.handler(postJson("/session", { csrfToken: "x".repeat(43), data: {} }, jar));
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ error: "csrf_invalid" });

    const signedOut = new CookieJar();
    signedOut.cookies.set("authjs.csrf-token", jar.cookies.get("authjs.csrf-token")!);
    const response = await auth.handler(postJson("/session", { csrfToken, data: {} }, signedOut));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: "unauthenticated" });
  });

  it("keeps the cookie and answers 500 when a callback throws", async () => {
    const { auth, clock, log } = createTestHandler({
      session: { updateAge: 0 },
      callbacks: {
        session: () => {
          throw new Error("database down");
        },
      },
    });
    const { jar } = await signIn(auth.handler);
    clock.advance(10);
    const response = await auth.handler(get("/session", jar));
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: "callback_error" });
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(log.entries.find((entry) => entry.level === "error")?.code).toBe("callback_error");
  });

  it("signs the user out when the jwt callback returns null", async () => {
    const { auth } = createTestHandler({ callbacks: { jwt: ({ token, trigger }) => (trigger === "signIn" ? token : null) } });
    const { jar } = await signIn(auth.handler);
    const response = await auth.handler(get("/session", jar));
    expect(await response.json()).toBeNull();
    expect(setCookies(response).get("authjs.session-token")).toBe("");
  });

  it("re-issues when the jwt callback changes the token, but never lets it move exp", async () => {
    let calls = 0;
    const { auth } = createTestHandler({
      callbacks: {
        jwt: ({ token }) => {
          calls++;
          token.exp = 4_000_000_000;
          if (calls === 2) token.refreshed = true;
          return token;
        },
      },
    });
    const { jar } = await signIn(auth.handler);
    const changed = await auth.handler(get("/session", jar));
    expect(setCookies(changed).has("authjs.session-token")).toBe(true);
    const body = (await changed.json()) as { expires: string };
    expect(Date.parse(body.expires)).toBeLessThan(4_000_000_000 * 1000);
    jar.apply(changed);
    calls = 10;
    const unchanged = await auth.handler(get("/session", jar));
    expect(unchanged.headers.getSetCookie()).toEqual([]);
  });
});

describe("GET /csrf", () => {
  it("issues a token bound by an HMAC cookie and reuses it while the cookie is valid", async () => {
    const { auth } = createTestHandler();
    const first = await auth.handler(get("/csrf"));
    const { csrfToken } = (await first.json()) as { csrfToken: string };
    expect(csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const line = first.headers.getSetCookie()[0]!;
    expect(line).toMatch(/^authjs\.csrf-token=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    const jar = new CookieJar();
    jar.apply(first);
    const second = await auth.handler(get("/csrf", jar));
    expect(await second.json()).toEqual({ csrfToken });
    expect(second.headers.getSetCookie()).toEqual([]);
  });

  it("uses the __Host- prefix and Secure over https", async () => {
    const { auth } = createTestHandler();
    const response = await auth.handler(new Request("https://app.example.com/api/auth/csrf"));
    expect(response.headers.getSetCookie()[0]).toMatch(/^__Host-authjs\.csrf-token=.*; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
  });
});

describe("GET /providers", () => {
  it("lists the credentials provider in the Auth.js shape", async () => {
    const { auth } = createTestHandler();
    expect(await (await auth.handler(get("/providers"))).json()).toEqual({
      credentials: {
        id: "credentials",
        name: "Credentials",
        type: "credentials",
        signinUrl: `${BASE}/signin/credentials`,
        callbackUrl: `${BASE}/callback/credentials`,
      },
    });
  });

  it("is empty without authorize", async () => {
    const { auth } = createTestHandler({ authorize: undefined });
    expect(await (await auth.handler(get("/providers"))).json()).toEqual({});
  });
});

describe("POST /callback/credentials", () => {
  it("answers { url } for v5's X-Auth-Return-Redirect and sets the session cookie", async () => {
    const { auth } = createTestHandler();
    const { response, jar } = await signIn(auth.handler);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ url: `${ORIGIN}/dashboard` });
    expect(jar.cookies.get("authjs.session-token")).toMatch(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it("answers 401 { url } with error=CredentialsSignin for v4's json=true", async () => {
    const { auth } = createTestHandler();
    const jar = new CookieJar();
    const csrf = await auth.handler(get("/csrf"));
    jar.apply(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const response = await auth.handler(
      new Request(`${BASE}/callback/credentials`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar.header() },
        body: new URLSearchParams({ email: "ada@example.com", password: "wrong", csrfToken, json: "true" }),
      }),
    );
    expect(response.status).toBe(401);
    const { url } = (await response.json()) as { url: string };
    expect(new URL(url).searchParams.get("error")).toBe("CredentialsSignin");
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("answers 200 { url } with the error for v5 and a 302 for a plain form", async () => {
    const { auth } = createTestHandler();
    const v5 = await signIn(auth.handler, new CookieJar(), { password: "wrong" });
    expect(v5.response.status).toBe(200);
    expect((await v5.response.json()) as { url: string }).toEqual({ url: `${BASE}/signin?error=CredentialsSignin&code=credentials` });

    const jar = new CookieJar();
    const csrf = await auth.handler(get("/csrf"));
    jar.apply(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const form = await auth.handler(
      new Request(`${BASE}/callback/credentials`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar.header(), origin: ORIGIN },
        body: new URLSearchParams({ password: "correct horse", csrfToken, callbackUrl: `${ORIGIN}/home` }),
      }),
    );
    expect(form.status).toBe(302);
    expect(form.headers.get("location")).toBe(`${ORIGIN}/home`);
  });

  it("never redirects to another origin", async () => {
    const { auth } = createTestHandler();
    for (const callbackUrl of ["https://evil.example/steal", "//evil.example", "javascript:alert(1)", "http://localhost:3000.evil.example/"]) {
      const { response } = await signIn(auth.handler, new CookieJar(), { callbackUrl });
      expect(await response.json()).toEqual({ url: `${ORIGIN}/` });
    }
  });

  it("passes only the credentials to authorize and mints a fresh session id on every sign-in", async () => {
    const seen: Array<Record<string, unknown>> = [];
    const { auth } = createTestHandler({ authorize: (credentials) => (seen.push(credentials), demoUser) });
    const tokens: Array<string | undefined> = [];
    const jar = new CookieJar();
    for (let i = 0; i < 2; i++) {
      await signIn(auth.handler, jar);
      tokens.push(jar.cookies.get("authjs.session-token"));
    }
    expect(seen[0]).toEqual({ email: "ada@example.com", password: "correct horse" });
    expect(tokens[0]).not.toBe(tokens[1]);
  });
});

describe("POST /signout", () => {
  it("clears the session cookie and answers { url }", async () => {
    const { auth } = createTestHandler();
    const { jar, csrfToken } = await signIn(auth.handler);
    const response = await auth.handler(postJson("/signout", { csrfToken, callbackUrl: "/bye" }, jar, { "x-auth-return-redirect": "1" }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ url: `${ORIGIN}/bye` });
    expect(response.headers.getSetCookie()[0]).toMatch(/^authjs\.session-token=; .*Max-Age=0/);
    jar.apply(response);
    expect(await (await auth.handler(get("/session", jar))).json()).toBeNull();
  });

  it("refuses a sign-out without CSRF (no forced logout from another site)", async () => {
    const { auth } = createTestHandler();
    const { jar } = await signIn(auth.handler);
    const response = await auth.handler(postJson("/signout", {}, jar));
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe("routing", () => {
  it("answers 404 outside the known endpoints and 405 with Allow for a wrong method", async () => {
    const { auth } = createTestHandler();
    expect((await auth.handler(get("/nope"))).status).toBe(404);
    expect((await auth.handler(new Request(`${ORIGIN}/elsewhere`))).status).toBe(404);
    const wrong = await auth.handler(get("/signout"));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
  });

  it("honours a custom basePath", async () => {
    const { auth } = createTestHandler({ basePath: "/auth/" });
    expect((await auth.handler(new Request(`${ORIGIN}/auth/session`))).status).toBe(200);
  });
});

describe("cookies over https", () => {
  it("uses __Secure- names and Secure, and reads them back", async () => {
    const { auth } = createTestHandler();
    const https = "https://app.example.com/api/auth";
    const jar = new CookieJar();
    const csrf = await auth.handler(new Request(`${https}/csrf`));
    jar.apply(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const response = await auth.handler(
      new Request(`${https}/callback/credentials`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: jar.header(), origin: "https://app.example.com", "x-auth-return-redirect": "1" },
        body: JSON.stringify({ password: "correct horse", csrfToken }),
      }),
    );
    const line = response.headers.getSetCookie().find((cookie) => cookie.startsWith("__Secure-authjs.session-token="));
    expect(line).toMatch(/; Path=\/; HttpOnly; SameSite=Lax; Secure; Expires=.*; Max-Age=2592000$/);
    jar.apply(response);
    expect(await (await auth.handler(new Request(`${https}/session`, { headers: { cookie: jar.header() } }))).json()).toMatchObject({ user: { id: "user-1" } });
  });
});

describe("getSession", () => {
  it("reads the session of an incoming request without touching cookies", async () => {
    const { auth } = createTestHandler();
    const { jar } = await signIn(auth.handler);
    expect(await auth.getSession(new Request(`${ORIGIN}/dashboard`, { headers: { cookie: jar.header() } }))).toMatchObject({
      user: { email: "ada@example.com" },
    });
    expect(await auth.getSession(new Request(`${ORIGIN}/dashboard`, { headers: { cookie: "authjs.session-token=garbage" } }))).toBeNull();
    expect(SECRET).toBeTruthy();
  });
});

import { describe, expect, it } from "vitest";
import { SessionConfigError } from "../../../src/server/index.ts";
import { CookieJar, createTestHandler, demoUser } from "../helpers.ts";

const SITE = "https://app.example.com";

/** Signs in over https at the configured site and returns the browser's cookies. */
async function signInOverHttps(handler: (request: Request) => Promise<Response>): Promise<CookieJar> {
  const jar = new CookieJar();
  const csrf = await handler(new Request(`${SITE}/api/auth/csrf`));
  jar.apply(csrf);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const response = await handler(
    new Request(`${SITE}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar.header(), origin: SITE, "x-auth-return-redirect": "1" },
      body: new URLSearchParams({ password: "correct horse", csrfToken }),
    }),
  );
  jar.apply(response);
  return jar;
}

describe("getSession picks cookie names from the configured public origin, never from a placeholder URL", () => {
  it("reads the __Secure- cookie from request headers alone (the server-rendering case)", async () => {
    const { auth } = createTestHandler({ url: SITE });
    const jar = await signInOverHttps(auth.handler);
    expect([...jar.cookies.keys()]).toContain("__Secure-authjs.session-token");
    expect(await auth.getSession(new Headers({ cookie: jar.header() }))).toMatchObject({ user: { id: "user-1" } });
    // The placeholder Request of the old README example: its http URL must not pick the unprefixed name.
    expect(await auth.getSession(new Request("http://internal/", { headers: { cookie: jar.header() } }))).toMatchObject({ user: { id: "user-1" } });
  });

  it("ignores an unprefixed session cookie planted by a sibling subdomain on an https site", async () => {
    // The attacker's own valid session, minted under the unprefixed name (same secret, plain http).
    const plain = createTestHandler({ authorize: async () => ({ ...demoUser, id: "attacker" }) });
    const attacker = new CookieJar();
    const csrf = await plain.auth.handler(new Request("http://app.example.com/api/auth/csrf"));
    attacker.apply(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    attacker.apply(
      await plain.auth.handler(
        new Request("http://app.example.com/api/auth/callback/credentials", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", cookie: attacker.header(), "x-auth-return-redirect": "1" },
          body: new URLSearchParams({ csrfToken }),
        }),
      ),
    );
    const planted = `authjs.session-token=${attacker.cookies.get("authjs.session-token")!}`;
    const { auth } = createTestHandler({ url: SITE });
    expect(await auth.getSession(new Headers({ cookie: planted }))).toBeNull();
    expect(await auth.getSession(new Request("http://internal/", { headers: { cookie: planted } }))).toBeNull();
  });

  it("with cookies.secure set, headers alone are enough; without url or secure it says which option is missing", async () => {
    const secure = createTestHandler({ cookies: { secure: true } });
    expect(await secure.auth.getSession(new Headers())).toBeNull();
    const { auth } = createTestHandler();
    await expect(auth.getSession(new Headers())).rejects.toThrow(SessionConfigError);
    await expect(auth.getSession(new Headers())).rejects.toThrow(/`url`/);
  });
});

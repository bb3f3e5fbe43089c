import { describe, expect, it } from "vitest";
import { forwardedOrigin } from "../../../src/server/http/host.ts";
import { createTestHandler } from "../helpers.ts";

/** A sign-in as a browser sends it through a dev proxy (Vite on :5173 → the app on :3000). */
async function signInThroughProxy(trustHost: boolean, forwarded: Record<string, string>) {
  const { auth } = createTestHandler({ trustHost });
  const csrf = await auth.handler(new Request("http://localhost:3000/api/auth/csrf", { headers: forwarded }));
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const cookie = csrf.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  return auth.handler(
    new Request("http://localhost:3000/api/auth/callback/credentials", {
      method: "POST",
      headers: { ...forwarded, cookie, origin: "http://localhost:5173", "content-type": "application/x-www-form-urlencoded", "x-auth-return-redirect": "1" },
      body: new URLSearchParams({ csrfToken, password: "correct horse" }).toString(),
    }),
  );
}

describe("trustHost", () => {
  const viteProxy = { "x-forwarded-host": "localhost:5173", "x-forwarded-proto": "http" };

  it("takes the public origin from X-Forwarded-Host/-Proto: a sign-in through a dev proxy passes the Origin check", async () => {
    expect((await signInThroughProxy(true, viteProxy)).status).toBe(200);
  });

  it("is off by default: the same sign-in is refused, and the answer names both origins", async () => {
    const response = await signInThroughProxy(false, viteProxy);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({
      error: "origin_forbidden",
      message: expect.stringContaining('"http://localhost:5173" is not this server\'s origin http://localhost:3000'),
    });
  });

  it("an https proxy gives the __Secure- cookie names", async () => {
    const { auth } = createTestHandler({ trustHost: true });
    const response = await auth.handler(
      new Request("http://app:3000/api/auth/csrf", { headers: { "x-forwarded-host": "app.example.com", "x-forwarded-proto": "https" } }),
    );
    expect(response.headers.getSetCookie()[0]).toMatch(/^__Host-authjs\.csrf-token=|^__Secure-authjs\.csrf-token=/);
  });

  it("ignores forwarded values that are not host[:port] or not http(s)", () => {
    expect(forwardedOrigin(new Headers({ "x-forwarded-host": "app.example.com, proxy.internal", "x-forwarded-proto": "https,http" }))).toBe(
      "https://app.example.com",
    );
    expect(forwardedOrigin(new Headers({ "x-forwarded-host": "evil.example/path?" }))).toBeUndefined();
    expect(forwardedOrigin(new Headers({ "x-forwarded-host": "app.example.com", "x-forwarded-proto": "javascript" }))).toBeUndefined();
    expect(forwardedOrigin(new Headers({}))).toBeUndefined();
    // No proto: a proxy that forwards the host is taken to terminate TLS.
    expect(forwardedOrigin(new Headers({ "x-forwarded-host": "App.Example.com:8443" }))).toBe("https://app.example.com:8443");
  });
});

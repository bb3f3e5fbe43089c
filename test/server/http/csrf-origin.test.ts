import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../../src/server/config.ts";
import { SessionServerError } from "../../../src/server/errors.ts";
import { createCsrfTokens } from "../../../src/server/http/csrf.ts";
import { assertSameOrigin, safeRedirect } from "../../../src/server/http/origin.ts";
import { createRequestContext } from "../../../src/server/context.ts";
import type { SessionHandlerConfig } from "../../../src/server/types.ts";
import { ORIGIN, SECRET } from "../helpers.ts";

const encoder = new TextEncoder();
const OTHER_SECRET = "another-secret-0123456789-abcdefghijklmnop";
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/**
 * The cookie MAC computed independently of the module: HMAC-SHA-256 of the
 * token under the HKDF-SHA-256 key of the secret (salt "sessionpulse.csrf",
 * info "sessionpulse CSRF token MAC"), base64url. Pinning the derivation keeps
 * the cookies a deployed server issued valid after an upgrade.
 */
async function macOf(token: string, secret = SECRET): Promise<string> {
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("sessionpulse.csrf"), info: encoder.encode("sessionpulse CSRF token MAC") },
    material,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
  return Buffer.from(await crypto.subtle.sign("HMAC", key, encoder.encode(token))).toString("base64url");
}

/** A cookie value carrying a genuine MAC of `token`, whatever `token` looks like. */
async function signed(token: string, secret = SECRET): Promise<string> {
  return `${token}.${await macOf(token, secret)}`;
}

const A_TOKEN = "A".repeat(21) + "b_-9".repeat(5) + "z".repeat(2);

describe("CSRF tokens", () => {
  it("issues 43 base64url characters bound by the HMAC of the documented key derivation", async () => {
    const { token, cookieValue } = await createCsrfTokens([SECRET]).issue();
    expect(token).toMatch(TOKEN_FORMAT);
    expect(cookieValue).toBe(`${token}.${await macOf(token)}`);
  });

  it("issues under the first secret of the rotation list and reads under any of them", async () => {
    const rotated = createCsrfTokens([OTHER_SECRET, SECRET]);
    const { token, cookieValue } = await rotated.issue();
    expect(cookieValue).toBe(`${token}.${await macOf(token, OTHER_SECRET)}`);
    expect(await rotated.read(await signed(A_TOKEN, SECRET))).toBe(A_TOKEN);
    expect(await createCsrfTokens([SECRET]).read(await signed(A_TOKEN, OTHER_SECRET))).toBeNull();
  });

  it("reads the token of a genuine cookie value", async () => {
    expect(A_TOKEN).toMatch(TOKEN_FORMAT);
    expect(await createCsrfTokens([SECRET]).read(await signed(A_TOKEN))).toBe(A_TOKEN);
  });

  it.each([
    ["empty", ""],
    ["too short", "A".repeat(42)],
    ["too long", "A".repeat(44)],
    ["a foreign character in front", `+${"A".repeat(43)}`],
    ["a foreign character behind", `${"A".repeat(43)}+`],
    ["padded", `${"A".repeat(42)}=`],
  ])("refuses a cookie whose token is not 43 base64url characters, even with a genuine MAC (%s)", async (_, token) => {
    expect(await createCsrfTokens([SECRET]).read(await signed(token))).toBeNull();
  });

  it("refuses a MAC that is not exactly 43 base64url characters, even one that decodes to the right bytes", async () => {
    const csrf = createCsrfTokens([SECRET]);
    const mac = await macOf(A_TOKEN);
    for (const variant of [`${mac}=`, ` ${mac}`, `${mac} `, `${mac}!`, `!${mac}`, mac.slice(1), `${mac}A`]) {
      expect(await csrf.read(`${A_TOKEN}.${variant}`)).toBeNull();
    }
  });

  it("refuses a missing cookie, one without a dot, and one whose MAC is wrong", async () => {
    const csrf = createCsrfTokens([SECRET]);
    const mac = await macOf(A_TOKEN);
    expect(await csrf.read(undefined)).toBeNull();
    expect(await csrf.read(`${A_TOKEN}${mac}`)).toBeNull();
    expect(await csrf.read(`${A_TOKEN}.${await macOf(`${A_TOKEN.slice(1)}A`)}`)).toBeNull();
  });

  it("verifies the submitted token against a genuine cookie", async () => {
    const csrf = createCsrfTokens([SECRET]);
    const { token, cookieValue } = await csrf.issue();
    expect(await csrf.verify(cookieValue, token)).toBe(true);
    expect(await csrf.verify(cookieValue, A_TOKEN)).toBe(false);
    expect(await csrf.verify(undefined, token)).toBe(false);
  });

  it("accepts only a primitive string as the submitted token, not a String object or an array of it", async () => {
    const csrf = createCsrfTokens([SECRET]);
    const { token, cookieValue } = await csrf.issue();
    expect(await csrf.verify(cookieValue, new String(token))).toBe(false);
    expect(await csrf.verify(cookieValue, [token])).toBe(false);
    expect(await csrf.verify(cookieValue, { toString: () => token, length: token.length })).toBe(false);
  });

  it("refuses a submitted token that is not 43 base64url characters", async () => {
    const csrf = createCsrfTokens([SECRET]);
    const { token, cookieValue } = await csrf.issue();
    expect(await csrf.verify(cookieValue, `${token} `)).toBe(false);
    expect(await csrf.verify(cookieValue, token.slice(1))).toBe(false);
  });
});

function setUp(request: { url?: string; headers?: Record<string, string> } = {}, overrides: Partial<SessionHandlerConfig> = {}) {
  const config = resolveConfig({ secret: SECRET, ...overrides });
  const context = createRequestContext(config, new Request(request.url ?? `${ORIGIN}/api/auth/signout`, { method: "POST", headers: request.headers }));
  return { config, context };
}

function originError(request: { url?: string; headers?: Record<string, string> }, overrides: Partial<SessionHandlerConfig> = {}) {
  const { config, context } = setUp(request, overrides);
  try {
    assertSameOrigin(config, context);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("assertSameOrigin", () => {
  it("lets our own Origin, a trusted one, and a request without Origin or Sec-Fetch-Site pass", () => {
    expect(originError({ headers: { origin: ORIGIN } })).toBeUndefined();
    expect(originError({ headers: { origin: "https://admin.example.com" } }, { trustedOrigins: ["https://admin.example.com"] })).toBeUndefined();
    expect(originError({})).toBeUndefined();
    expect(originError({ headers: { "sec-fetch-site": "same-origin" } })).toBeUndefined();
  });

  it("refuses a foreign Origin, and `null`, naming both origins and the fix", () => {
    for (const origin of ["https://evil.example", "null", `${ORIGIN}.evil.example`]) {
      const error = originError({ headers: { origin, "sec-fetch-site": "same-origin" } });
      expect(error).toBeInstanceOf(SessionServerError);
      expect(error).toMatchObject({
        code: "origin_forbidden",
        status: 403,
        message: `request Origin ${JSON.stringify(origin)} is not this server's origin ${ORIGIN}: set \`url\` to the public origin, or list it in \`trustedOrigins\``,
      });
    }
  });

  it("quotes and cuts a long Origin in the message (it is the sender's text)", () => {
    const error = originError({ headers: { origin: `https://${"a".repeat(300)}.example"` } });
    expect((error as Error).message).toContain(JSON.stringify(`https://${"a".repeat(92)}`));
    expect((error as Error).message).not.toContain(".example");
  });

  it("refuses a cross-site request without Origin, saying so", () => {
    expect(originError({ headers: { "sec-fetch-site": "cross-site" } })).toMatchObject({
      code: "origin_forbidden",
      message: "cross-site request without Origin",
    });
  });
});

describe("safeRedirect", () => {
  const redirect = (requested: unknown, overrides: Partial<SessionHandlerConfig> = {}, url?: string) => {
    const { config, context } = setUp({ url }, overrides);
    return safeRedirect(config, context, requested);
  };

  it("keeps a path or an absolute URL of our own origin", () => {
    expect(redirect("/dashboard?tab=1#top")).toBe(`${ORIGIN}/dashboard?tab=1#top`);
    expect(redirect(`${ORIGIN}/x`)).toBe(`${ORIGIN}/x`);
  });

  it("keeps an https target of our own https origin and of a trusted https origin", () => {
    expect(redirect("/home", {}, "https://app.example.com/api/auth/signout")).toBe("https://app.example.com/home");
    expect(redirect("https://admin.example.com/panel", { trustedOrigins: ["https://admin.example.com"] })).toBe("https://admin.example.com/panel");
  });

  it("falls back to the site root for a foreign origin, a non-string, or an empty string", () => {
    expect(redirect("https://evil.example/")).toBe(`${ORIGIN}/`);
    expect(redirect("//evil.example/")).toBe(`${ORIGIN}/`);
    expect(redirect(undefined)).toBe(`${ORIGIN}/`);
    expect(redirect(["/dashboard"])).toBe(`${ORIGIN}/`);
    expect(redirect("")).toBe(`${ORIGIN}/`);
  });

  it("keeps a target of exactly 2048 characters and refuses one longer", () => {
    const path = (length: number) => `/${"p".repeat(length - 1)}`;
    expect(redirect(path(2048))).toBe(`${ORIGIN}${path(2048)}`);
    expect(redirect(path(2049))).toBe(`${ORIGIN}/`);
  });

  it("refuses a scheme other than http(s), even one whose origin is ours", () => {
    expect(new URL(`blob:${ORIGIN}/id`).origin).toBe(ORIGIN);
    expect(redirect(`blob:${ORIGIN}/id`)).toBe(`${ORIGIN}/`);
    expect(redirect("javascript:alert(1)")).toBe(`${ORIGIN}/`);
  });

  it("falls back when the target is not a URL", () => {
    expect(redirect("http://[::1")).toBe(`${ORIGIN}/`);
  });
});

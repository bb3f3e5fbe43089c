import { decode as authjsDecode, encode as authjsEncode } from "@auth/core/jwt";
import { base64url, calculateJwkThumbprint, CompactEncrypt, decodeProtectedHeader, EncryptJWT, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import type { CookieRejection } from "../../../src/server/errors.ts";
import { MAX_CLOCK_SKEW } from "../../../src/server/clock-skew.ts";
import { decodeToken } from "../../../src/server/jwt/codec.ts";
import { deriveEncryptionKey, type DerivedKey } from "../../../src/server/jwt/keys.ts";
import type { SessionHandlerConfig } from "../../../src/server/types.ts";
import { CookieJar, SECRET, createTestHandler, get, manualClock, setCookies, signIn } from "../helpers.ts";

/** The session cookie's name over http; it is also the HKDF salt. */
const COOKIE = "authjs.session-token";
const OTHER_SECRET = "another-secret-abcdefghijklmnopqrstuvwxyz-0123";
const encoder = new TextEncoder();

const keyFor = (secret = SECRET, salt = COOKIE) => deriveEncryptionKey(secret, salt);
const b64 = (text: string) => base64url.encode(encoder.encode(text));
const nowSeconds = () => Math.floor(manualClock().now() / 1000);

/** Claims a valid session token carries, relative to the test clock. */
function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const now = nowSeconds();
  return { sub: "user-1", name: "Ada Lovelace", email: "ada@example.com", iat: now, exp: now + 3600, jti: crypto.randomUUID(), ...overrides };
}

/** A token made the way the server makes one, with the header and key overridable. */
async function mint(payload: JWTPayload = claims(), options: { key?: DerivedKey; header?: Record<string, unknown> } = {}): Promise<string> {
  const key = options.key ?? (await keyFor());
  return new EncryptJWT(payload).setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: key.kid, ...options.header }).encrypt(key.key);
}

/** A compact JWE whose protected header is `header` and whose other parts come from a genuine token. */
async function withHeader(header: string): Promise<string> {
  const [, ...rest] = (await mint()).split(".");
  return [header, ...rest].join(".");
}

/** One base64url character replaced by another, which always changes the decoded bytes at that position. */
function flipFirstChar(part: string): string {
  return (part[0] === "A" ? "B" : "A") + part.slice(1);
}

function sessionRequest(token: string) {
  return get("/session", undefined, { cookie: `${COOKIE}=${token}` });
}

/**
 * Sends `token` as the session cookie and checks the full "null + clear"
 * contract: 200 `null`, the cookie expired, exactly one bounded reason code
 * logged, and neither the secret, the key nor the token echoed anywhere.
 */
async function expectRefused(token: string, code: CookieRejection, config: Partial<SessionHandlerConfig> = {}) {
  const { auth, log } = createTestHandler(config);
  const response = await auth.handler(sessionRequest(token));
  const body = await response.text();
  expect(response.status).toBe(200);
  expect(JSON.parse(body)).toBeNull();
  expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(/^authjs\.session-token=; Path=\/; .*Max-Age=0/)]);
  expect(log.entries).toEqual([{ level: "warn", code, details: { path: "/api/auth/session" } }]);

  const key = await keyFor();
  const everything = [JSON.stringify(log.entries), body, JSON.stringify([...response.headers])].join("\n");
  for (const secretThing of [SECRET, OTHER_SECRET, base64url.encode(key.key)]) expect(everything).not.toContain(secretThing);
  // An empty or tiny token would be found trivially; the point is that no real token is echoed.
  if (token.length >= 16) expect(everything).not.toContain(token);
  return { auth, log, response };
}

async function sessionOf(auth: { handler: (request: Request) => Promise<Response> }, token: string) {
  const response = await auth.handler(sessionRequest(token));
  return { response, body: (await response.json()) as { user?: Record<string, unknown>; expires?: string } | null };
}

describe("algorithm confusion", () => {
  it('refuses a JWE header with alg "none"', async () => {
    await expectRefused(await withHeader(b64(JSON.stringify({ alg: "none", enc: "A256CBC-HS512" }))), "token_algorithm");
  });

  it("refuses an unsecured three-part JWT", async () => {
    const unsecured = `${b64(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64(JSON.stringify(claims()))}.`;
    await expectRefused(unsecured, "token_malformed");
  });

  it("refuses an HS256 JWS signed with the derived key", async () => {
    const key = await keyFor();
    const jws = await new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: key.kid }).sign(key.key);
    await expectRefused(jws, "token_malformed");
  });

  for (const enc of ["A128GCM", "A128CBC-HS256", "A256GCM"] as const) {
    it(`refuses enc ${enc} even under the genuine key material`, async () => {
      const key = await keyFor();
      const bytes = { A128GCM: 16, "A128CBC-HS256": 32, A256GCM: 32 }[enc];
      const token = await new EncryptJWT(claims()).setProtectedHeader({ alg: "dir", enc, kid: key.kid }).encrypt(key.key.slice(0, bytes));
      await expectRefused(token, "token_algorithm");
    });
  }

  it("refuses alg RSA-OAEP", async () => {
    const { publicKey } = await generateKeyPair("RSA-OAEP");
    const token = await new EncryptJWT(claims()).setProtectedHeader({ alg: "RSA-OAEP", enc: "A256CBC-HS512" }).encrypt(publicKey);
    await expectRefused(token, "token_algorithm");
  });

  it("refuses alg A256KW wrapped with the derived key", async () => {
    const key = await keyFor();
    const token = await new EncryptJWT(claims()).setProtectedHeader({ alg: "A256KW", enc: "A256CBC-HS512", kid: key.kid }).encrypt(key.key.slice(0, 32));
    await expectRefused(token, "token_algorithm");
  });

  it("refuses PBES2 with an enormous p2c quickly, without running PBKDF2", async () => {
    const header = { alg: "PBES2-HS256+A128KW", enc: "A256CBC-HS512", p2c: 2 ** 31 - 1, p2s: b64("saltsaltsaltsalt") };
    // A PBES2 token needs an encrypted key: any 40 bytes will do, the algorithm is refused first.
    const [, , iv, ciphertext, tag] = (await mint()).split(".");
    const token = [b64(JSON.stringify(header)), base64url.encode(new Uint8Array(40)), iv, ciphertext, tag].join(".");
    await expectRefused(token, "token_algorithm");
    // Timed on a warm handler (keys derived), so only the refusal is measured; 2^31 PBKDF2 rounds would take minutes.
    const { auth } = createTestHandler();
    await auth.handler(sessionRequest(await mint()));
    const request = sessionRequest(token);
    const started = performance.now();
    expect(await (await auth.handler(request)).json()).toBeNull();
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe("header parameters", () => {
  it('refuses zip "DEF" even when the token is genuine', async () => {
    const key = await keyFor();
    const token = await new CompactEncrypt(encoder.encode(JSON.stringify(claims())))
      .setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: key.kid, zip: "DEF" })
      .encrypt(key.key);
    await expectRefused(token, "token_unsupported");
  });

  it('refuses zip "DEF" on a forged token', async () => {
    await expectRefused(await withHeader(b64(JSON.stringify({ alg: "dir", enc: "A256CBC-HS512", zip: "DEF" }))), "token_invalid");
  });

  it("refuses an unknown critical header parameter", async () => {
    const key = await keyFor();
    const token = await new CompactEncrypt(encoder.encode(JSON.stringify(claims())))
      .setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: key.kid, crit: ["foo"], foo: 1 })
      .encrypt(key.key, { crit: { foo: true } });
    await expectRefused(token, "token_unsupported");
  });

  it("refuses a crit that is empty or not an array", async () => {
    await expectRefused(await withHeader(b64(JSON.stringify({ alg: "dir", enc: "A256CBC-HS512", crit: [] }))), "token_malformed");
    await expectRefused(await withHeader(b64(JSON.stringify({ alg: "dir", enc: "A256CBC-HS512", crit: "x" }))), "token_malformed");
  });

  for (const kid of ["../../x' OR 1=1--", '{"$ne":null}', "<script>alert(1)</script>", "__proto__", "constructor", "\u0000", ""]) {
    it(`refuses an injected kid ${JSON.stringify(kid)}`, async () => {
      await expectRefused(await mint(claims(), { header: { kid } }), "token_key_unknown");
    });
  }

  it("refuses a 10 KB kid, by size under the default budget and by lookup under a larger one", async () => {
    const token = await mint(claims(), { header: { kid: "k".repeat(10_240) } });
    expect(token.length).toBeGreaterThan(12_288);
    await expectRefused(token, "cookie_too_large");
    await expectRefused(token, "token_key_unknown", { cookies: { maxSize: 16_384 } });
  });

  it("refuses a nested JWT (cty JWT wrapping a signed JWT)", async () => {
    const key = await keyFor();
    const inner = await new SignJWT(claims()).setProtectedHeader({ alg: "HS256" }).sign(key.key);
    const token = await new CompactEncrypt(encoder.encode(inner))
      .setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: key.kid, cty: "JWT" })
      .encrypt(key.key);
    await expectRefused(token, "token_malformed");
  });
});

describe("tampering and shape", () => {
  const parts = ["protected header", "encrypted key", "iv", "ciphertext", "tag"] as const;
  parts.forEach((part, index) => {
    it(`refuses a token with its ${part} altered`, async () => {
      const pieces = (await mint()).split(".");
      // `dir` leaves the encrypted key empty: alter it by adding one.
      pieces[index] = pieces[index] === "" ? "AAAA" : flipFirstChar(pieces[index]!);
      await expectRefused(pieces.join("."), index <= 1 ? "token_malformed" : "token_invalid");
    });
  });

  it("treats a non-canonical base64url tag (same bytes) exactly like the canonical one", async () => {
    const pieces = (await mint()).split(".");
    const tag = pieces[4]!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // 32 bytes take 43 characters; the last one's two low bits are padding, so flipping one keeps the bytes.
    pieces[4] = tag.slice(0, -1) + alphabet[alphabet.indexOf(tag.at(-1)!) ^ 1];
    expect(base64url.decode(pieces[4])).toEqual(base64url.decode(tag));
    const { auth } = createTestHandler();
    const { body: canonical } = await sessionOf(auth, await mint());
    const { body: variant } = await sessionOf(auth, pieces.join("."));
    expect(variant).toEqual(canonical);
  });

  it("refuses 4 and 6 parts, and an empty value", async () => {
    const pieces = (await mint()).split(".");
    await expectRefused(pieces.slice(0, 4).join("."), "token_malformed");
    await expectRefused([...pieces, pieces[4]].join("."), "token_malformed");
    await expectRefused("", "token_malformed");
  });

  it("refuses a header that is not JSON, or is a JSON array", async () => {
    await expectRefused(await withHeader(b64("not json at all")), "token_malformed");
    await expectRefused(await withHeader(b64('["dir","A256CBC-HS512"]')), "token_malformed");
  });

  it("refuses a payload that is a JSON array, and leaves Object.prototype alone", async () => {
    const key = await keyFor();
    const array = await new CompactEncrypt(encoder.encode("[1,2,3]")).setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: key.kid }).encrypt(key.key);
    await expectRefused(array, "token_malformed");
    const proto = await new CompactEncrypt(encoder.encode(`{"__proto__":{"polluted":true},${JSON.stringify(claims()).slice(1)}`))
      .setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: key.kid })
      .encrypt(key.key);
    const { auth } = createTestHandler();
    await auth.handler(sessionRequest(proto));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("rejects a 5 MB token before decoding it", async () => {
    const huge = `${(await mint()).split(".").slice(0, 4).join(".")}.${"A".repeat(5 * 1024 * 1024)}`;
    const keys = [await keyFor()];
    const started = performance.now();
    expect(await decodeToken(huge, keys, nowSeconds(), 12_288)).toEqual({ ok: false, reason: "cookie_too_large" });
    expect(performance.now() - started).toBeLessThan(50);

    // Through the handler a Cookie header this large is not parsed at all (over MAX_COOKIE_HEADER_LENGTH): signed out, nothing decoded.
    const { auth } = createTestHandler();
    const request = sessionRequest(huge);
    const viaHandler = performance.now();
    const response = await auth.handler(request);
    expect(response.status).toBe(200);
    expect(await response.json()).toBeNull();
    expect(performance.now() - viaHandler).toBeLessThan(50);
  });

  it("refuses a token over the cookie budget that still fits a Cookie header, and clears it", async () => {
    await expectRefused(await mint(claims({ padding: "x".repeat(14_000) })), "cookie_too_large");
  });
});

describe("claims", () => {
  it("refuses a token that expired more than 15 s ago", async () => {
    await expectRefused(await mint(claims({ iat: nowSeconds() - 7200, exp: nowSeconds() - 16 })), "token_expired");
  });

  it("accepts a token that expired within the 15 s clock tolerance", async () => {
    const { auth } = createTestHandler();
    const { body } = await sessionOf(auth, await mint(claims({ iat: nowSeconds() - 7200, exp: nowSeconds() - 10 })));
    expect(body).toMatchObject({ user: { id: "user-1" } });
  });

  it("refuses a token issued further in the future than another node's clock can be", async () => {
    await expectRefused(await mint(claims({ iat: nowSeconds() + MAX_CLOCK_SKEW + 1 })), "token_claims");
    await expectRefused(await mint(claims({ auth_time: nowSeconds() + MAX_CLOCK_SKEW + 1 })), "token_claims");
  });

  it("accepts a token minted by a node whose clock runs ahead by up to MAX_CLOCK_SKEW", async () => {
    const { auth } = createTestHandler();
    const ahead = nowSeconds() + MAX_CLOCK_SKEW;
    const { body } = await sessionOf(auth, await mint(claims({ iat: ahead, auth_time: ahead, exp: ahead + 3600 })));
    expect(body).toMatchObject({ user: { id: "user-1" } });
  });

  it("refuses a token not yet valid (nbf) and a string exp", async () => {
    await expectRefused(await mint(claims({ nbf: nowSeconds() + 60 })), "token_claims");
    await expectRefused(await mint(claims({ exp: String(nowSeconds() + 3600) })), "token_claims");
  });

  for (const missing of ["exp", "iat", "jti"]) {
    it(`refuses a token without ${missing}`, async () => {
      const payload = claims();
      delete payload[missing];
      await expectRefused(await mint(payload), "token_claims");
    });
  }

  it("refuses claims of the wrong type (sub, sid, auth_time)", async () => {
    await expectRefused(await mint(claims({ sub: 42 })), "token_claims");
    await expectRefused(await mint(claims({ sid: { id: 1 } })), "token_claims");
    await expectRefused(await mint(claims({ auth_time: nowSeconds() + 3600 })), "token_claims");
  });
});

describe("purpose separation", () => {
  for (const salt of ["authjs.csrf-token", "authjs.callback-url", "__Secure-authjs.session-token", "next-auth.session-token"]) {
    it(`refuses a token made for ${salt} under the same secret`, async () => {
      await expectRefused(await mint(claims(), { key: await keyFor(SECRET, salt) }), "token_key_unknown");
    });
  }

  it("refuses another purpose's token even without a kid (tried with the first key only)", async () => {
    const key = await keyFor(SECRET, "authjs.csrf-token");
    const token = await new EncryptJWT(claims()).setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512" }).encrypt(key.key);
    await expectRefused(token, "token_invalid");
  });
});

describe("key rotation", () => {
  it("accepts a token from an older secret and re-issues it under the first secret's kid", async () => {
    const [primary, older] = [await keyFor(OTHER_SECRET), await keyFor(SECRET)];
    const { auth } = createTestHandler({ secret: [OTHER_SECRET, SECRET] });
    const { response, body } = await sessionOf(auth, await mint(claims(), { key: older }));
    expect(body).toMatchObject({ user: { id: "user-1", name: "Ada Lovelace" } });
    const reissued = setCookies(response).get(COOKIE)!;
    expect(decodeProtectedHeader(reissued).kid).toBe(primary.kid);
    expect(primary.kid).not.toBe(older.kid);
    // The re-issued token reads under the new secret alone.
    const { body: after } = await sessionOf(createTestHandler({ secret: OTHER_SECRET }).auth, reissued);
    expect(after).toMatchObject({ user: { id: "user-1" } });
  });

  it("does not re-issue a token already under the first secret before updateAge", async () => {
    const { auth } = createTestHandler({ secret: [SECRET, OTHER_SECRET] });
    // As this server mints it: exp = iat + maxAge. (A token expiring sooner than maxAge - updateAge is due at once.)
    const { response, body } = await sessionOf(auth, await mint(claims({ exp: nowSeconds() + 30 * 86_400 })));
    expect(body).not.toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("refuses a token from a secret that was removed", async () => {
    await expectRefused(await mint(claims(), { key: await keyFor(OTHER_SECRET) }), "token_key_unknown");
  });
});

describe("Auth.js v5 compatibility", () => {
  /** HKDF exactly as @auth/core derives it, written out independently of src/server/keys.ts. */
  async function authjsKey(secret: string, salt: string): Promise<Uint8Array> {
    const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveBits"]);
    const info = encoder.encode(`Auth.js Generated Encryption Key (${salt})`);
    return new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: encoder.encode(salt), info }, material, 512));
  }

  it("accepts a token minted as Auth.js v5 mints it (no sid, no auth_time) and adds them on re-issue", async () => {
    const key = await authjsKey(SECRET, COOKIE);
    const kid = await calculateJwkThumbprint({ kty: "oct", k: base64url.encode(key) }, "sha512");
    expect(kid).toBe((await keyFor()).kid);
    const iat = nowSeconds() - 2 * 86_400;
    const token = await new EncryptJWT({ name: "Ada Lovelace", email: "ada@example.com", picture: "https://example.com/ada.png", sub: "user-1" })
      .setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid })
      .setIssuedAt(iat)
      .setExpirationTime(iat + 30 * 86_400)
      .setJti(crypto.randomUUID())
      .encrypt(key);
    const { auth } = createTestHandler();
    const { response, body } = await sessionOf(auth, token);
    expect(body).toEqual({
      user: { id: "user-1", name: "Ada Lovelace", email: "ada@example.com", image: "https://example.com/ada.png" },
      expires: new Date(manualClock().now() + 30 * 86_400 * 1000).toISOString(),
    });
    // Older than updateAge: re-issued, still readable by the same handler.
    const reissued = setCookies(response).get(COOKIE)!;
    expect((await sessionOf(auth, reissued)).body).toMatchObject({ user: { id: "user-1" } });
  });

  it("reads a token made by @auth/core's encode", async () => {
    const token = await authjsEncode({ token: { sub: "user-1", name: "Ada Lovelace", email: "ada@example.com", picture: null }, secret: SECRET, salt: COOKIE });
    const { auth } = createTestHandler({ clock: Date.now });
    const { body } = await sessionOf(auth, token);
    expect(body).toMatchObject({ user: { id: "user-1", name: "Ada Lovelace", email: "ada@example.com", image: null } });
  });

  it("issues a token that @auth/core's decode reads", async () => {
    const { auth } = createTestHandler({ clock: Date.now });
    const { jar } = await signIn(auth.handler);
    const token = jar.cookies.get(COOKIE)!;
    const decoded = await authjsDecode({ token, secret: SECRET, salt: COOKIE });
    expect(decoded).toMatchObject({ sub: "user-1", name: "Ada Lovelace", email: "ada@example.com" });
    expect(typeof decoded?.jti).toBe("string");
    expect(await authjsDecode({ token, secret: [OTHER_SECRET, SECRET], salt: COOKIE })).toMatchObject({ sub: "user-1" });
  });

  it("issues a token @auth/core refuses under another cookie name", async () => {
    const { auth } = createTestHandler({ clock: Date.now });
    const { jar } = await signIn(auth.handler);
    await expect(authjsDecode({ token: jar.cookies.get(COOKIE)!, secret: SECRET, salt: "authjs.csrf-token" })).rejects.toThrow();
  });
});

describe("the server's own tokens", () => {
  it("carry dir + A256CBC-HS512 and the derived kid, and read back", async () => {
    const { auth } = createTestHandler();
    const { jar } = await signIn(auth.handler, new CookieJar());
    const token = jar.cookies.get(COOKIE)!;
    expect(decodeProtectedHeader(token)).toEqual({ alg: "dir", enc: "A256CBC-HS512", kid: (await keyFor()).kid });
    expect(await (await auth.handler(get("/session", jar))).json()).toMatchObject({ user: { id: "user-1" } });
  });
});

describe("claims no date can hold", () => {
  it("refuses exp 1e400 (Infinity once parsed) instead of failing with a 500", async () => {
    const key = await keyFor();
    const now = nowSeconds();
    const plaintext = `{"sub":"user-1","iat":${now},"exp":1e400,"jti":"${crypto.randomUUID()}"}`;
    const token = await new CompactEncrypt(encoder.encode(plaintext)).setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: key.kid }).encrypt(key.key);
    await expectRefused(token, "token_claims");
  });
});

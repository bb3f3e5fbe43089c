import type * as jose from "jose";
import { base64url, CompactEncrypt, EncryptJWT, jwtDecrypt } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { CLOCK_TOLERANCE, MAX_CLOCK_SKEW } from "../../../src/server/clock-skew.ts";
import type { CookieRejection } from "../../../src/server/errors.ts";
import { decodeToken, encodeToken, type DecodeOptions, type DecodeResult } from "../../../src/server/jwt/codec.ts";
import type * as jwe from "../../../src/server/jwt/jwe-cbc-hs512.ts";
import { decryptCompact, encryptCompact } from "../../../src/server/jwt/jwe-cbc-hs512.ts";
import { deriveEncryptionKey, type DerivedKey } from "../../../src/server/jwt/keys.ts";
import type { JWT } from "../../../src/server/types.ts";
import { SECRET } from "../helpers.ts";

/**
 * decodeToken and encodeToken called directly, one rule at a time. The codec
 * has two ways into a token: the prepared-key path (decryptCompact) for the
 * header this server writes, and jose (jwtDecrypt) for any other. Both are
 * wrapped in spies, so a test can tell which one judged a token; so is
 * base64url.decode, to see which header was read at all.
 */
vi.mock("jose", async (importOriginal) => {
  const actual = await importOriginal<typeof jose>();
  return { ...actual, jwtDecrypt: vi.fn(actual.jwtDecrypt), base64url: { ...actual.base64url, decode: vi.fn(actual.base64url.decode) } };
});
vi.mock("../../../src/server/jwt/jwe-cbc-hs512.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof jwe>();
  return { ...actual, decryptCompact: vi.fn(actual.decryptCompact) };
});

const NOW = 1_796_040_000; // seconds
const MAX_LENGTH = 12_288;
const COOKIE = "authjs.session-token";
const OTHER_SECRET = "another-secret-abcdefghijklmnopqrstuvwxyz-0123";
const encoder = new TextEncoder();

let primary: DerivedKey;
let older: DerivedKey;
/** As a server rotating secrets holds them: the first one seals, the others still open. */
let keys: readonly DerivedKey[];

beforeAll(async () => {
  primary = await deriveEncryptionKey(SECRET, COOKIE);
  older = await deriveEncryptionKey(OTHER_SECRET, COOKIE);
  keys = [primary, older];
});

const b64 = (text: string) => base64url.encode(encoder.encode(text));

/** The claims of a valid session token at NOW. */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: "user-1", name: "Ada Lovelace", iat: NOW, exp: NOW + 3600, jti: "jti-1", ...overrides };
}

/** The claims as JSON, with some members written raw (`1e400` is valid JSON that no JavaScript value serialises to). */
function json(values: Record<string, unknown>, raw: Record<string, string> = {}): string {
  const members = Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`);
  for (const [name, text] of Object.entries(raw)) members.push(`${JSON.stringify(name)}:${text}`);
  return `{${members.join(",")}}`;
}

/** A genuine token (right key, right tag) under any base64url protected header. */
function seal(encodedHeader: string, plaintext: string, key = primary): Promise<string> {
  return encryptCompact(key.content, encodedHeader, plaintext);
}

/** A genuine token whose header is `header` as JSON, in that member order. */
function sealWithHeader(header: Record<string, unknown>, plaintext: string, key = primary): Promise<string> {
  return seal(b64(JSON.stringify(header)), plaintext, key);
}

type Route = "prepared" | "jose" | "neither";

/** decodeToken, and which of the two decryptions judged the token. */
async function decode(token: string, options?: DecodeOptions & { keys?: readonly DerivedKey[]; now?: number; maxLength?: number }) {
  vi.mocked(decryptCompact).mockClear();
  vi.mocked(jwtDecrypt).mockClear();
  const result = await decodeToken(token, options?.keys ?? keys, options?.now ?? NOW, options?.maxLength ?? MAX_LENGTH, options);
  const prepared = vi.mocked(decryptCompact).mock.calls.length;
  const jose = vi.mocked(jwtDecrypt).mock.calls.length;
  expect(prepared + jose).toBeLessThanOrEqual(1);
  const route: Route = prepared ? "prepared" : jose ? "jose" : "neither";
  return { result, route };
}

function refused(reason: CookieRejection): DecodeResult {
  return { ok: false, reason };
}

/**
 * The two routes a genuine token with the same claims can take: the server's
 * own header, byte for byte, and the same header plus `typ` (not the server's,
 * so jose decides). Both must judge every claim the same way.
 */
const routes = {
  prepared: (plaintext: string, key = primary) => seal(key.encodedHeader, plaintext, key),
  jose: (plaintext: string, key = primary) => sealWithHeader({ alg: "dir", enc: "A256CBC-HS512", kid: key.kid, typ: "JWT" }, plaintext, key),
} as const;

describe("encodeToken", () => {
  it("writes a compact dir JWE under the key's own header, with no encrypted key", async () => {
    const token = await encodeToken(claims() as JWT, primary);
    const parts = token.split(".");
    expect(parts).toHaveLength(5);
    expect(parts[0]).toBe(primary.encodedHeader);
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(parts[0]!)))).toEqual({ alg: "dir", enc: "A256CBC-HS512", kid: primary.kid });
    expect(parts[1]).toBe("");
    expect(base64url.decode(parts[2]!)).toHaveLength(16);
    expect(base64url.decode(parts[4]!)).toHaveLength(32);
  });

  it("seals the claims as JSON that jose opens with the raw key", async () => {
    const token = await encodeToken(claims({ sid: "s-1" }) as JWT, older);
    const { payload, protectedHeader } = await jwtDecrypt(token, older.key, { currentDate: new Date(NOW * 1000) });
    expect(protectedHeader).toEqual({ alg: "dir", enc: "A256CBC-HS512", kid: older.kid });
    expect(payload).toEqual(claims({ sid: "s-1" }));
  });

  it("uses a fresh IV each time, so the same claims never give the same token", async () => {
    const [a, b] = [await encodeToken(claims() as JWT, primary), await encodeToken(claims() as JWT, primary)];
    expect(a).not.toBe(b);
    expect(a.split(".")[2]).not.toBe(b.split(".")[2]);
  });

  it("round-trips through decodeToken on the prepared-key path", async () => {
    const { result, route } = await decode(await encodeToken(claims() as JWT, primary));
    expect(route).toBe("prepared");
    expect(result).toEqual({ ok: true, token: claims(), primaryKey: true });
  });
});

describe("length and shape, checked before anything is decrypted", () => {
  it("accepts a token exactly maxLength long and refuses one a character longer", async () => {
    const token = await encodeToken(claims() as JWT, primary);
    expect((await decode(token, { maxLength: token.length })).result).toMatchObject({ ok: true });
    const { result, route } = await decode(token, { maxLength: token.length - 1 });
    expect(result).toEqual(refused("cookie_too_large"));
    expect(route).toBe("neither");
  });

  it("refuses a genuine token with anything before it, even a whole second header", async () => {
    const token = await encodeToken(claims() as JWT, primary);
    for (const prefixed of [`${primary.encodedHeader}..${token}`, `=${token}`, ` ${token}`, `x.${token}`]) {
      const { result, route } = await decode(prefixed);
      expect(result).toEqual(refused("token_malformed"));
      expect(route).toBe("neither");
    }
  });

  it("refuses a character outside base64url anywhere in the token", async () => {
    const token = await encodeToken(claims() as JWT, primary);
    const { result, route } = await decode(`${token.slice(0, -1)}=`);
    expect(result).toEqual(refused("token_malformed"));
    expect(route).toBe("neither");
  });
});

describe("which route a header takes", () => {
  it("the server's own header, byte for byte: the prepared keys, and primaryKey says which secret", async () => {
    const first = await decode(await routes.prepared(json(claims()), primary));
    expect(first).toEqual({ route: "prepared", result: { ok: true, token: claims(), primaryKey: true } });
    const second = await decode(await routes.prepared(json(claims()), older));
    expect(second).toEqual({ route: "prepared", result: { ok: true, token: claims(), primaryKey: false } });
  });

  it("the server's own header is recognised byte for byte, without being decoded", async () => {
    for (const key of [primary, older]) {
      const token = await routes.prepared(json(claims()), key);
      vi.mocked(base64url.decode).mockClear();
      expect((await decode(token)).route).toBe("prepared");
      expect(vi.mocked(base64url.decode)).not.toHaveBeenCalledWith(key.encodedHeader);
    }
    // Any other header is decoded to be judged.
    const reordered = b64(JSON.stringify({ enc: "A256CBC-HS512", alg: "dir", kid: primary.kid }));
    vi.mocked(base64url.decode).mockClear();
    expect((await decode(await seal(reordered, json(claims())))).route).toBe("prepared");
    expect(vi.mocked(base64url.decode)).toHaveBeenCalledWith(reordered);
  });

  it("the same three members in another order: still the prepared keys, found by kid", async () => {
    for (const key of [primary, older]) {
      const token = await sealWithHeader({ kid: key.kid, enc: "A256CBC-HS512", alg: "dir" }, json(claims()), key);
      expect(token.split(".")[0]).not.toBe(key.encodedHeader);
      const { result, route } = await decode(token);
      expect(route).toBe("prepared");
      expect(result).toEqual({ ok: true, token: claims(), primaryKey: key === primary });
    }
  });

  it("no kid (older Auth.js): the prepared path with the first key only", async () => {
    const underFirst = await decode(await sealWithHeader({ enc: "A256CBC-HS512", alg: "dir" }, json(claims()), primary));
    expect(underFirst).toEqual({ route: "prepared", result: { ok: true, token: claims(), primaryKey: true } });
    const underOlder = await decode(await sealWithHeader({ alg: "dir", enc: "A256CBC-HS512" }, json(claims()), older));
    expect(underOlder).toEqual({ route: "prepared", result: refused("token_invalid") });
  });

  it("the server's header shape with a kid that names none of our keys: refused from the header alone", async () => {
    for (const kid of ["unknown", "", (await deriveEncryptionKey(SECRET, "authjs.csrf-token")).kid]) {
      const { result, route } = await decode(await sealWithHeader({ alg: "dir", enc: "A256CBC-HS512", kid }, json(claims())));
      expect(result).toEqual(refused("token_key_unknown"));
      expect(route).toBe("neither");
    }
  });

  it("any member besides alg, enc and kid: jose decides", async () => {
    for (const extra of [{ typ: "JWT" }, { cty: "json" }, { foo: 1 }]) {
      const { result, route } = await decode(await sealWithHeader({ alg: "dir", enc: "A256CBC-HS512", kid: primary.kid, ...extra }, json(claims())));
      expect(route).toBe("jose");
      expect(result).toEqual({ ok: true, token: claims(), primaryKey: true });
    }
  });

  it("another alg or enc: jose decides, and its allow-lists refuse it", async () => {
    for (const header of [
      { alg: "A256KW", enc: "A256CBC-HS512", kid: primary.kid },
      { alg: "dir", enc: "A256GCM", kid: primary.kid },
      { alg: "dir", enc: "A128CBC-HS256" },
    ]) {
      const { result, route } = await decode(await sealWithHeader(header, json(claims())));
      expect(route).toBe("jose");
      expect(result).toEqual(refused("token_algorithm"));
    }
  });

  it("a header that is JSON but not an object (null, a number, a string, an array): malformed, never a crash", async () => {
    const [, ...rest] = (await encodeToken(claims() as JWT, primary)).split(".");
    for (const header of ["null", "5", '"dir"', '["dir","A256CBC-HS512"]', "{}"]) {
      const { result, route } = await decode([b64(header), ...rest].join("."));
      expect(result).toEqual(refused("token_malformed"));
      expect(route).toBe("jose");
    }
  });

  it("a header that is not JSON: malformed", async () => {
    const [, ...rest] = (await encodeToken(claims() as JWT, primary)).split(".");
    for (const header of [b64("not json"), "A"]) {
      const { result, route } = await decode([header, ...rest].join("."));
      expect(result).toEqual(refused("token_malformed"));
      expect(route).toBe("jose");
    }
  });

  it("a header that is not UTF-8 is not the server's header, even when its members would be", async () => {
    // {"alg":"dir","enc":"A256CBC-HS512","kid":"<0xFF>"}: read leniently, the kid would be U+FFFD.
    const bytes = [...encoder.encode('{"alg":"dir","enc":"A256CBC-HS512","kid":"'), 0xff, ...encoder.encode('"}')];
    const { result, route } = await decode(await seal(base64url.encode(new Uint8Array(bytes)), json(claims())));
    expect(route).toBe("jose");
    expect(result).toEqual(refused("token_malformed"));
  });

  it("jose tries a kid against every key and reports which one opened it", async () => {
    const viaPrimary = await decode(await routes.jose(json(claims()), primary));
    expect(viaPrimary).toEqual({ route: "jose", result: { ok: true, token: claims(), primaryKey: true } });
    const viaOlder = await decode(await routes.jose(json(claims()), older));
    expect(viaOlder).toEqual({ route: "jose", result: { ok: true, token: claims(), primaryKey: false } });
  });

  it("jose, without a kid: the first key only", async () => {
    const header = { alg: "dir", enc: "A256CBC-HS512", typ: "JWT" };
    expect(await decode(await sealWithHeader(header, json(claims()), primary))).toEqual({
      route: "jose",
      result: { ok: true, token: claims(), primaryKey: true },
    });
    expect(await decode(await sealWithHeader(header, json(claims()), older))).toEqual({ route: "jose", result: refused("token_invalid") });
  });

  it("jose, with a kid that names none of our keys: token_key_unknown", async () => {
    for (const kid of ["unknown", ""]) {
      const { result, route } = await decode(await sealWithHeader({ alg: "dir", enc: "A256CBC-HS512", kid, typ: "JWT" }, json(claims())));
      expect(route).toBe("jose");
      expect(result).toEqual(refused("token_key_unknown"));
    }
  });

  it("jose's own refusals keep their reason codes", async () => {
    const compressed = await new CompactEncrypt(encoder.encode(json(claims())))
      .setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: primary.kid, zip: "DEF" })
      .encrypt(primary.key);
    expect((await decode(compressed)).result).toEqual(refused("token_unsupported"));
    const expired = await new EncryptJWT(claims({ exp: NOW - 3600 }))
      .setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: primary.kid, typ: "JWT" })
      .encrypt(primary.key);
    expect((await decode(expired)).result).toEqual(refused("token_expired"));
  });
});

describe("the prepared-key path's own refusals", () => {
  it("an encrypted key, which dir never has: malformed", async () => {
    const parts = (await encodeToken(claims() as JWT, primary)).split(".");
    parts[1] = "AAAA";
    const { result, route } = await decode(parts.join("."));
    expect(result).toEqual(refused("token_malformed"));
    expect(route).toBe("neither");
  });

  it("a tag that does not verify: token_invalid", async () => {
    const parts = (await encodeToken(claims() as JWT, primary)).split(".");
    parts[4] = parts[4]![0] === "A" ? `B${parts[4]!.slice(1)}` : `A${parts[4]!.slice(1)}`;
    expect(await decode(parts.join("."))).toEqual({ route: "prepared", result: refused("token_invalid") });
  });

  for (const plaintext of ["not json", "{", ""]) {
    it(`a plaintext that is not JSON (${JSON.stringify(plaintext)}): malformed`, async () => {
      // An empty plaintext still pads to one AES block.
      expect(await decode(await routes.prepared(plaintext))).toEqual({ route: "prepared", result: refused("token_malformed") });
    });
  }
});

describe("claims, judged the same on both routes", () => {
  for (const [name, sealFor] of Object.entries(routes)) {
    describe(`via ${name === "prepared" ? "the prepared keys" : "jose"}`, () => {
      const expectDecoded = async (plaintext: string, expected: CookieRejection | "ok", options?: DecodeOptions & { now?: number }) => {
        const { result, route } = await decode(await sealFor(plaintext), options);
        expect(route).toBe(name);
        if (expected === "ok") expect(result).toEqual({ ok: true, token: JSON.parse(plaintext), primaryKey: true });
        else expect(result).toEqual(refused(expected));
      };

      for (const payload of ["null", "5", '"claims"', "true", "[]", "[{}]"]) {
        it(`refuses a payload that is not an object: ${payload}`, async () => {
          await expectDecoded(payload, "token_malformed");
        });
      }

      it("accepts the minimal claims: exp, iat and jti", async () => {
        await expectDecoded(json({ iat: NOW, exp: NOW + 60, jti: "j" }), "ok");
      });

      it("requires exp, iat and jti, before looking at the dates", async () => {
        const expired = claims({ exp: NOW - 3600 });
        for (const missing of ["exp", "iat", "jti"]) {
          const payload = { ...expired };
          delete payload[missing];
          await expectDecoded(json(payload), "token_claims");
          await expectDecoded(json({ ...claims(), [missing]: undefined }), "token_claims");
        }
      });

      it("refuses exp and iat that are not numbers, before looking at the dates", async () => {
        await expectDecoded(json(claims({ exp: String(NOW - 3600) })), "token_claims");
        await expectDecoded(json(claims({ exp: null })), "token_claims");
        await expectDecoded(json(claims({ exp: String(NOW + 3600) })), "token_claims");
        await expectDecoded(json(claims({ iat: String(NOW), exp: NOW - 3600 })), "token_claims");
        await expectDecoded(json(claims({ iat: null, exp: NOW - 3600 })), "token_claims");
      });

      it(`forgives ${CLOCK_TOLERANCE} s past exp, not a second more`, async () => {
        await expectDecoded(json(claims({ exp: NOW - CLOCK_TOLERANCE + 1 })), "ok");
        await expectDecoded(json(claims({ exp: NOW - CLOCK_TOLERANCE })), "token_expired");
        await expectDecoded(json(claims({ exp: NOW - 86_400 })), "token_expired");
      });

      it(`forgives ${CLOCK_TOLERANCE} s before nbf, not a second more, and requires a number`, async () => {
        await expectDecoded(json(claims({ nbf: NOW + CLOCK_TOLERANCE })), "ok");
        await expectDecoded(json(claims({ nbf: NOW - 3600 })), "ok");
        await expectDecoded(json(claims({ nbf: NOW + CLOCK_TOLERANCE + 1 })), "token_claims");
        await expectDecoded(json(claims({ nbf: String(NOW) })), "token_claims");
        await expectDecoded(json(claims({ nbf: null })), "token_claims");
      });

      it(`accepts an iat up to ${MAX_CLOCK_SKEW} s ahead (another node's clock), not further`, async () => {
        await expectDecoded(json(claims({ iat: NOW + MAX_CLOCK_SKEW })), "ok");
        await expectDecoded(json(claims({ iat: NOW + MAX_CLOCK_SKEW + 1 })), "token_claims");
        await expectDecoded(json(claims({ iat: NOW + 2 * MAX_CLOCK_SKEW })), "ok", { now: NOW + MAX_CLOCK_SKEW });
      });

      it("refuses an exp no date can hold: beyond 1e11, or Infinity", async () => {
        await expectDecoded(json(claims({ exp: 1e11 })), "ok");
        await expectDecoded(json(claims({ exp: 1e11 + 1 })), "token_claims");
        await expectDecoded(json(claims({ exp: 2e11 })), "token_claims");
        await expectDecoded(json(claims({ exp: undefined }), { exp: "1e400" }), "token_claims");
      });

      it("requires jti to be a non-empty string of at most 128 characters", async () => {
        await expectDecoded(json(claims({ jti: "j".repeat(128) })), "ok");
        await expectDecoded(json(claims({ jti: "j".repeat(129) })), "token_claims");
        await expectDecoded(json(claims({ jti: "" })), "token_claims");
        await expectDecoded(json(claims({ jti: 5 })), "token_claims");
        await expectDecoded(json(claims({ jti: null })), "token_claims");
      });

      it("allows no sid, or a string of at most 128 characters", async () => {
        await expectDecoded(json(claims({ sid: "s".repeat(128) })), "ok");
        await expectDecoded(json(claims({ sid: "" })), "ok");
        await expectDecoded(json(claims({ sid: "s".repeat(129) })), "token_claims");
        await expectDecoded(json(claims({ sid: 5 })), "token_claims");
        await expectDecoded(json(claims({ sid: null })), "token_claims");
      });

      it(`allows no auth_time, or a finite number up to ${MAX_CLOCK_SKEW} s ahead`, async () => {
        await expectDecoded(json(claims({ auth_time: NOW - 86_400 })), "ok");
        await expectDecoded(json(claims({ auth_time: NOW + MAX_CLOCK_SKEW })), "ok");
        await expectDecoded(json(claims({ auth_time: NOW + MAX_CLOCK_SKEW + 1 })), "token_claims");
        await expectDecoded(json(claims({ auth_time: String(NOW) })), "token_claims");
        await expectDecoded(json(claims({ auth_time: null })), "token_claims");
        await expectDecoded(json(claims(), { auth_time: "-1e400" }), "token_claims");
        await expectDecoded(json(claims(), { auth_time: "1e400" }), "token_claims");
      });

      for (const claim of ["sit", "gen"]) {
        it(`allows no ${claim}, or any finite number`, async () => {
          await expectDecoded(json(claims({ [claim]: 0 })), "ok");
          await expectDecoded(json(claims({ [claim]: 7 })), "ok");
          await expectDecoded(json(claims({ [claim]: -NOW })), "ok");
          await expectDecoded(json(claims({ [claim]: String(NOW) })), "token_claims");
          await expectDecoded(json(claims({ [claim]: null })), "token_claims");
          await expectDecoded(json(claims({ [claim]: [1] })), "token_claims");
          await expectDecoded(json(claims(), { [claim]: "1e400" }), "token_claims");
          await expectDecoded(json(claims(), { [claim]: "-1e400" }), "token_claims");
        });
      }

      it("allows no sub, or a string", async () => {
        await expectDecoded(json(claims({ sub: undefined })), "ok");
        await expectDecoded(json(claims({ sub: "" })), "ok");
        await expectDecoded(json(claims({ sub: 42 })), "token_claims");
        await expectDecoded(json(claims({ sub: null })), "token_claims");
      });

      it("keeps every other claim as it came", async () => {
        await expectDecoded(json(claims({ email: "ada@example.com", picture: null, roles: ["admin"], nested: { a: 1 } })), "ok");
      });

      describe("with acceptExpired (only for ending a session)", () => {
        it("opens a genuine token however long ago it expired", async () => {
          await expectDecoded(json(claims({ iat: NOW - 100 * 86_400, exp: NOW - 30 * 86_400 })), "ok", { acceptExpired: true });
          await expectDecoded(json(claims({ exp: NOW - CLOCK_TOLERANCE })), "ok", { acceptExpired: true });
        });

        it("opens a genuine token whose nbf is still ahead", async () => {
          await expectDecoded(json(claims({ nbf: NOW + 86_400 })), "ok", { acceptExpired: true });
        });

        it("still requires exp, iat and jti of the right types", async () => {
          for (const missing of ["exp", "iat", "jti"]) {
            await expectDecoded(json({ ...claims({ exp: NOW - 3600 }), [missing]: undefined }), "token_claims", { acceptExpired: true });
          }
          await expectDecoded(json(claims({ exp: String(NOW - 3600) })), "token_claims", { acceptExpired: true });
        });

        it("still refuses a token from the future and claims of the wrong type", async () => {
          await expectDecoded(json(claims({ iat: NOW + MAX_CLOCK_SKEW + 1 })), "token_claims", { acceptExpired: true });
          await expectDecoded(json(claims({ sub: 42, exp: NOW - 3600 })), "token_claims", { acceptExpired: true });
          await expectDecoded(json(claims({ jti: "", exp: NOW - 3600 })), "token_claims", { acceptExpired: true });
          await expectDecoded(json(claims({ exp: 2e11 })), "token_claims", { acceptExpired: true });
        });

        it("is off unless asked for", async () => {
          await expectDecoded(json(claims({ exp: NOW - 3600 })), "token_expired", { acceptExpired: false });
          await expectDecoded(json(claims({ exp: NOW - 3600 })), "token_expired", {});
        });
      });
    });
  }

  it("an exp of -Infinity is refused even with acceptExpired (prepared keys: no date can hold it)", async () => {
    const { result, route } = await decode(await routes.prepared(json(claims(), { exp: "-1e400" })), { acceptExpired: true });
    expect(route).toBe("prepared");
    expect(result).toEqual(refused("token_claims"));
    expect((await decode(await routes.prepared(json(claims(), { exp: "-1e400" })))).result).toEqual(refused("token_expired"));
  });
});

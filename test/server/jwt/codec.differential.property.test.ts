import fc from "fast-check";
import { EncryptJWT } from "jose";
import { describe, expect, it } from "vitest";
import { CLOCK_TOLERANCE, decodeToken, encodeToken } from "../../../src/server/jwt/codec.ts";
import { deriveEncryptionKey } from "../../../src/server/jwt/keys.ts";
import type { JWT } from "../../../src/server/types.ts";
import { SECRET } from "../helpers.ts";

/**
 * The codec has two ways into a token: the prepared-key fast path for the one
 * header shape this server writes, and jose (with its allow-lists) for any
 * other header. Both must judge the same claims the same way, to the second,
 * around every boundary: `exp`, `nbf` and `iat` each near "now ± tolerance".
 */
const NOW = 1_796_040_000; // seconds
const keys = await Promise.all([deriveEncryptionKey(SECRET, "authjs.session-token")]);

/** A time near one of the boundaries that matter, in whole seconds. */
const nearBoundary = fc.oneof(
  fc.integer({ min: -3, max: 3 }).map((d) => NOW + d),
  fc.integer({ min: -3, max: 3 }).map((d) => NOW - CLOCK_TOLERANCE + d),
  fc.integer({ min: -3, max: 3 }).map((d) => NOW + CLOCK_TOLERANCE + d),
  fc.integer({ min: -200_000, max: 200_000 }).map((d) => NOW + d),
);

const claimSets = fc.record(
  {
    iat: nearBoundary,
    exp: nearBoundary,
    // Mostly times; sometimes a value of the wrong type, which both paths must refuse alike.
    nbf: fc.oneof({ weight: 5, arbitrary: nearBoundary }, { weight: 1, arbitrary: fc.constantFrom<unknown>("x", null, true, [1]) }),
    auth_time: nearBoundary,
  },
  { requiredKeys: ["iat", "exp"] },
);

describe("the fast path and jose agree on every claim boundary", () => {
  it("same outcome, same reason, for tokens that differ only in the route they take (with acceptExpired too)", async () => {
    await fc.assert(
      fc.asyncProperty(claimSets, fc.integer({ min: -2, max: 2 }), fc.boolean(), async (times, offset, acceptExpired) => {
        const now = NOW + offset;
        const claims = { sub: "user-1", jti: "j-1", sid: "s-1", ...times } as JWT;
        const key = keys[0];
        // Our own header: the fast path. The same header plus `typ`: not byte-identical, so jose decides.
        const fast = await encodeToken(claims, key);
        const viaJose = await new EncryptJWT(claims).setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: key.kid, typ: "JWT" }).encrypt(key.key);
        const [a, b] = await Promise.all([decodeToken(fast, keys, now, 12_288, { acceptExpired }), decodeToken(viaJose, keys, now, 12_288, { acceptExpired })]);
        expect(a.ok).toBe(b.ok);
        if (!a.ok && !b.ok) expect(a.reason).toBe(b.reason);
      }),
      { numRuns: Number(process.env.SESSIONPULSE_PROPERTY_RUNS ?? 300) },
    );
  });
});

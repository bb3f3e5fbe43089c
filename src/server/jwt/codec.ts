import { base64url, errors, jwtDecrypt, type JWTPayload } from "jose";
import { CLOCK_TOLERANCE, MAX_CLOCK_SKEW } from "../clock-skew.js";
import type { CookieRejection } from "../errors.js";
import { decryptCompact, encryptCompact } from "./jwe-cbc-hs512.js";
import type { DerivedKey } from "./keys.js";
import type { JWT } from "../types.js";

export { CLOCK_TOLERANCE };

const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export type DecodeResult =
  | { ok: true; token: JWT; /** false when an older secret's key opened it: re-issue under the first. */ primaryKey: boolean }
  | { ok: false; reason: CookieRejection };

/** The claims of an authenticated plaintext, or why they are refused. */
export type ClaimsResult = { ok: true; token: JWT } | { ok: false; reason: CookieRejection };

class UnknownKeyId extends Error {}

/**
 * Encrypts the claims as a compact JWE: `dir` + `A256CBC-HS512` under the first
 * secret's key, `kid` in the protected header (what jose's `EncryptJWT` makes,
 * on keys imported once).
 */
export async function encodeToken(claims: JWT, key: DerivedKey): Promise<string> {
  return encryptCompact(key.content, key.encodedHeader, JSON.stringify(claims));
}

const FAST_HEADER_KEYS = new Set(["alg", "enc", "kid"]);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The key for a token whose header is exactly what this server writes
 * (`dir`, `A256CBC-HS512`, an optional `kid`), or `undefined` for any other
 * header, which then goes to jose and its allow-lists.
 */
function plainHeaderKey(encodedHeader: string, keys: readonly DerivedKey[]): DerivedKey | null | undefined {
  // Every token this server mints carries one of these headers byte for byte: no need to parse it.
  const minted = keys.find((candidate) => candidate.encodedHeader === encodedHeader);
  if (minted) return minted;
  let header: unknown;
  try {
    header = JSON.parse(strictUtf8.decode(base64url.decode(encodedHeader)));
  } catch {
    return undefined;
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) return undefined;
  const fields = header as Record<string, unknown>;
  if (fields.alg !== "dir" || fields.enc !== "A256CBC-HS512" || !Object.keys(fields).every((name) => FAST_HEADER_KEYS.has(name))) return undefined;
  if (fields.kid === undefined) return keys[0];
  return keys.find((candidate) => candidate.kid === fields.kid) ?? null;
}

/** What jose's JWT claim checks do, for tokens that took the fast path. */
function registeredClaimsRejection(payload: Record<string, unknown>, nowSeconds: number, acceptExpired: boolean): CookieRejection | undefined {
  const { exp, iat, nbf, jti } = payload;
  if (typeof exp !== "number" || typeof iat !== "number" || jti === undefined) return "token_claims";
  // A malformed `nbf` is refused whatever the time (jose checks its type even with the widest tolerance).
  if (nbf !== undefined && typeof nbf !== "number") return "token_claims";
  if (acceptExpired) return undefined;
  if (nbf !== undefined && nbf > nowSeconds + CLOCK_TOLERANCE) return "token_claims";
  if (exp <= nowSeconds - CLOCK_TOLERANCE) return "token_expired";
  return undefined;
}

export interface DecodeOptions {
  /**
   * Opens a genuine token whatever its `exp` and `nbf` say. Only for ending a
   * session (a sign-out from a stale copy still ends every copy): never for
   * letting a request in.
   */
  acceptExpired?: boolean;
}

/**
 * Everything the prepared-key path checks after the tag: the plaintext is a
 * JSON object, and its claims pass jose's checks (`exp`, `nbf`, required
 * claims) and ours (see hasValidClaims). Each call parses anew, so every
 * caller gets a token of its own. A verified-token cache runs this on every
 * hit, so the time-dependent checks are the very ones a miss runs.
 */
export function claimsOf(plaintext: string, nowSeconds: number, { acceptExpired = false }: DecodeOptions = {}): ClaimsResult {
  let payload: unknown;
  try {
    payload = JSON.parse(plaintext);
  } catch {
    return { ok: false, reason: "token_malformed" };
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return { ok: false, reason: "token_malformed" };
  const rejection = registeredClaimsRejection(payload as Record<string, unknown>, nowSeconds, acceptExpired);
  if (rejection) return { ok: false, reason: rejection };
  if (!hasValidClaims(payload as JWTPayload, nowSeconds)) return { ok: false, reason: "token_claims" };
  return { ok: true, token: payload as JWT };
}

function rejectionOf(error: unknown): CookieRejection {
  if (error instanceof UnknownKeyId) return "token_key_unknown";
  if (error instanceof errors.JWTExpired) return "token_expired";
  if (error instanceof errors.JOSEAlgNotAllowed) return "token_algorithm";
  if (error instanceof errors.JWTClaimValidationFailed) return "token_claims";
  if (error instanceof errors.JOSENotSupported) return "token_unsupported";
  if (error instanceof errors.JWEDecryptionFailed) return "token_invalid";
  return "token_malformed";
}

/**
 * Decrypts and checks a session token; never throws. The length and shape are
 * checked first (jose has no size limit of its own). A token whose header is
 * exactly the one this server writes takes the prepared-key path; any other
 * goes to jose, which enforces the algorithm allow-lists, refuses compressed
 * payloads and unknown `crit`, and requires `exp`, `iat` and `jti`. Both
 * paths apply the same claim checks. A `kid` must name one of our keys; a
 * token without one (older Auth.js) is tried with the first key only.
 */
export async function decodeToken(
  token: string,
  keys: readonly DerivedKey[],
  nowSeconds: number,
  maxLength: number,
  options: DecodeOptions = {},
): Promise<DecodeResult> {
  return (await decodeWithPlaintext(token, keys, nowSeconds, maxLength, options)).result;
}

/**
 * {@link decodeToken}, with the authenticated plaintext of a token the prepared-key path opened and
 * accepted: what a verified-token cache may keep, to hand to {@link claimsOf} instead of decrypting
 * again. No plaintext for a refused token, nor for one jose opened (other headers are rare, and
 * keeping them out leaves the cache one path to trust).
 */
export async function decodeWithPlaintext(
  token: string,
  keys: readonly DerivedKey[],
  nowSeconds: number,
  maxLength: number,
  { acceptExpired = false }: DecodeOptions = {},
): Promise<{ result: DecodeResult; plaintext?: string }> {
  const refused = (reason: CookieRejection) => ({ result: { ok: false as const, reason } });
  if (token.length > maxLength) return refused("cookie_too_large");
  if (!COMPACT_JWE.test(token)) return refused("token_malformed");
  const parts = token.split(".");
  const fastKey = plainHeaderKey(parts[0]!, keys);
  if (fastKey === null) return refused("token_key_unknown");
  if (fastKey) {
    // `dir` has no encrypted key: anything there is a malformed token, not a failed decryption.
    if (parts[1] !== "") return refused("token_malformed");
    const plaintext = await decryptCompact(fastKey.content, parts);
    if (plaintext === null) return refused("token_invalid");
    const claims = claimsOf(plaintext, nowSeconds, { acceptExpired });
    return claims.ok ? { result: { ok: true, token: claims.token, primaryKey: fastKey === keys[0] }, plaintext } : { result: claims };
  }
  let usedKey: DerivedKey | undefined;
  try {
    const { payload } = await jwtDecrypt(
      token,
      (header) => {
        usedKey = header.kid === undefined ? keys[0] : keys.find((candidate) => candidate.kid === header.kid);
        if (!usedKey) throw new UnknownKeyId();
        return usedKey.key;
      },
      {
        keyManagementAlgorithms: ["dir"],
        contentEncryptionAlgorithms: ["A256CBC-HS512"],
        maxDecompressedLength: 0,
        requiredClaims: ["exp", "iat", "jti"],
        clockTolerance: acceptExpired ? Number.MAX_SAFE_INTEGER : CLOCK_TOLERANCE,
        currentDate: new Date(nowSeconds * 1000),
      },
    );
    if (!hasValidClaims(payload, nowSeconds)) return refused("token_claims");
    return { result: { ok: true, token: payload as JWT, primaryKey: usedKey === keys[0] } };
  } catch (error) {
    return refused(rejectionOf(error));
  }
}

/**
 * Checks what jose leaves to the caller: a token from the future (further
 * ahead than another node's clock can be), and the types of our own claims.
 */
function hasValidClaims(payload: JWTPayload, nowSeconds: number): boolean {
  const { iat, exp, jti, sid, sit, gen, dbt, auth_time: authTime, sub } = payload as Record<string, unknown>;
  if (typeof iat !== "number" || iat > nowSeconds + MAX_CLOCK_SKEW) return false;
  // `1e400` parses to Infinity, which passes jose's expiry check but no date can hold.
  if (typeof exp !== "number" || !Number.isFinite(exp) || exp > 1e11) return false;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > 128) return false;
  if (sid !== undefined && (typeof sid !== "string" || sid.length > 128)) return false;
  if (authTime !== undefined && (typeof authTime !== "number" || !Number.isFinite(authTime) || authTime > nowSeconds + MAX_CLOCK_SKEW)) return false;
  if (sit !== undefined && (typeof sit !== "number" || !Number.isFinite(sit))) return false;
  if (gen !== undefined && (typeof gen !== "number" || !Number.isFinite(gen))) return false;
  if (dbt !== undefined && (typeof dbt !== "string" || dbt.length > 64)) return false;
  if (sub !== undefined && typeof sub !== "string") return false;
  return true;
}

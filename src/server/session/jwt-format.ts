import type { ResolvedConfig } from "../config.js";
import type { CookieRejection } from "../errors.js";
import type { RequestContext } from "../context.js";
import { fromToken, toToken, type SessionRecord } from "./record.js";
import { seconds } from "./time.js";
import { claimsOf, decodeWithPlaintext, encodeToken, type DecodeOptions } from "../jwt/codec.js";
import { createKeyring, type DerivedKey } from "../jwt/keys.js";
import { createLruCache, entryBytes } from "../jwt/token-cache.js";

export type OpenedToken =
  | {
      ok: true;
      record: SessionRecord;
      /** False when an older secret's key opened it: re-seal under the first. */
      primaryKey: boolean;
      /**
       * The lifecycle's verdict once it has checked what the token cannot say by itself (the absolute
       * lifetime, revocation): `true` lets the verified-token cache keep the token, `false` drops it.
       */
      settle(accepted: boolean): void;
    }
  | { ok: false; reason: CookieRejection };

/**
 * A session carried in the cookie itself: an encrypted JWT. Knows how to open
 * and seal one; what is valid and when to re-seal is the lifecycle's call.
 */
export interface JwtFormat {
  /** Decrypts and checks the cookie value; never throws for bad input. `acceptExpired`: only to end a session. */
  open(context: RequestContext, value: string, options?: DecodeOptions): Promise<OpenedToken>;
  /** Seals the session into a cookie value under the first secret, as a new token (fresh `jti`, `iat` = now); returns both. */
  seal(context: RequestContext, record: SessionRecord): Promise<{ value: string; record: SessionRecord }>;
}

/** What the verified-token cache keeps for one cookie value. */
interface Verified {
  /**
   * The key list that authenticated it: the keyring makes one per cookie name, once. A hit needs the
   * very same list, so a token verified under one cookie name is never taken under another.
   */
  keys: readonly DerivedKey[];
  /** The decrypted claims as JSON text: a string cannot be changed, and each hit parses a token of its own. */
  plaintext: string;
  primaryKey: boolean;
}

const ignore = () => {};

/**
 * Opening a token costs an AES decryption and an HMAC; a browser polling `GET /session` sends the
 * same cookie value until it is re-issued. The verified-token cache (option `jwt.cache`, on by
 * default) maps the exact cookie value (after the chunks are joined) to its authenticated
 * plaintext, so a repeat skips the cryptography, and nothing else:
 *
 * - Only tokens that passed every check enter it: the tag and the claims here, then the absolute
 *   lifetime and the deny-list in the lifecycle, which calls `settle(true)` last. A token that
 *   fails any of them is never stored, so a flood of forged or foreign cookies neither grows
 *   it nor evicts anything; distinct genuine ones are held to its two bounds (entries, bytes).
 * - On a hit, {@link claimsOf} runs the same expiry, `nbf` and claim checks as on a miss, and the
 *   lifecycle then checks the lifetime and the deny-list exactly as for a miss: a hit skips only
 *   the decryption. The deny-list is not cached: the same reads as a miss (one `revokedAt` for the
 *   session id and one for the user's generation, sent together, so one store round trip) make a
 *   revocation on another node count at once. A hit refused later is dropped from the cache.
 * - The cache belongs to this format, made once per `createSessionHandler` with its secrets and
 *   callbacks: a key rotation or a callback change is a new handler and so an empty cache. The
 *   callbacks are not cached either: they run on every request, on a token parsed for it.
 */
export function createJwtFormat(config: ResolvedConfig): JwtFormat {
  const keyring = createKeyring(config.secrets);
  const cache = config.tokenCache === false ? undefined : createLruCache<Verified>(config.tokenCache);
  return {
    async open(context, value, options) {
      const keys = await keyring(context.names.sessionToken);
      const now = seconds(context.now);
      const hit = cache?.get(value);
      if (hit !== undefined && hit.keys === keys) {
        const claims = claimsOf(hit.plaintext, now, options);
        if (!claims.ok) {
          cache!.delete(value);
          return claims;
        }
        const drop = (accepted: boolean) => void (accepted || cache!.delete(value));
        return { ok: true, record: fromToken(claims.token), primaryKey: hit.primaryKey, settle: drop };
      }
      const { result: decoded, plaintext } = await decodeWithPlaintext(value, keys, now, config.maxCookieSize, options);
      if (!decoded.ok) return decoded;
      const { primaryKey } = decoded;
      // A token opened only to end its session (`acceptExpired`) may be past its exp: it is not kept.
      const keep =
        cache && plaintext !== undefined && !options?.acceptExpired
          ? (accepted: boolean) => void (accepted && cache.set(value, { keys, plaintext, primaryKey }, entryBytes(value, plaintext)))
          : ignore;
      return { ok: true, record: fromToken(decoded.token), primaryKey, settle: keep };
    },
    async seal(context, record) {
      const [primary] = await keyring(context.names.sessionToken);
      const sealed = { ...record, tokenId: crypto.randomUUID(), refreshedAt: context.now };
      return { value: await encodeToken(toToken(sealed), primary!), record: sealed };
    },
  };
}

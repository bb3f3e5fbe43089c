import type { ResolvedConfig } from "../config.js";
import type { CookieRejection } from "../errors.js";
import type { RequestContext } from "../context.js";
import { fromToken, toToken, type SessionRecord } from "./record.js";
import { seconds } from "./time.js";
import { decodeToken, encodeToken, type DecodeOptions } from "../jwt/codec.js";
import { createKeyring } from "../jwt/keys.js";

export type OpenedToken =
  | { ok: true; record: SessionRecord; /** False when an older secret's key opened it: re-seal under the first. */ primaryKey: boolean }
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

export function createJwtFormat(config: ResolvedConfig): JwtFormat {
  const keyring = createKeyring(config.secrets);
  return {
    async open(context, value, options) {
      const keys = await keyring(context.names.sessionToken);
      const decoded = await decodeToken(value, keys, seconds(context.now), config.maxCookieSize, options);
      return decoded.ok ? { ok: true, record: fromToken(decoded.token), primaryKey: decoded.primaryKey } : decoded;
    },
    async seal(context, record) {
      const [primary] = await keyring(context.names.sessionToken);
      const sealed = { ...record, tokenId: crypto.randomUUID(), refreshedAt: context.now };
      return { value: await encodeToken(toToken(sealed), primary!), record: sealed };
    },
  };
}

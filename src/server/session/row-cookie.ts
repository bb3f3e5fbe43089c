import type { ResolvedConfig } from "../config.js";
import type { RequestContext } from "../context.js";
import { serializeCookie } from "../cookies/set-cookie.js";
import { createSealer } from "../jwt/sealed.js";
import type { SessionRecord } from "./record.js";

/** Its own key derivation: a cached row never opens as a session cookie, a pending sign-in or provider tokens. */
const SALT = "sessionpulse.session-data";
/** A row this large is not cached: one cookie stays one cookie, and a big one would cost every request more than the read it saves. */
const MAX_VALUE = 3_800;

type CachedRow = Pick<SessionRecord, "id" | "userId" | "claims" | "signedInAt" | "refreshedAt" | "expires" | "origin">;

/**
 * The database strategy's session cache (`session.cookieCache`): the session row, sealed under the
 * secret in a short-lived cookie beside the session cookie, so a poll within its age needs no store
 * read. It is bound to the row (the hash of the session cookie's token), so it never vouches for
 * another session; a second copy of it (a planted one) is ignored. Everything the lifecycle checks
 * on a row it checks on a cached one; what the cache cannot know is a revocation made elsewhere,
 * which reaches this browser when the cache expires.
 */
export function createRowCookie(config: ResolvedConfig) {
  const age = config.cookieCacheAge;
  if (age === undefined) return undefined;
  const sealer = createSealer(config.secrets, SALT);

  return {
    /** The cached row for `rowId`, unless absent, planted twice, expired, or of another session. */
    async read(context: RequestContext, rowId: string): Promise<SessionRecord | undefined> {
      const values = context.jar.get(context.names.sessionData);
      if (values?.length !== 1) return undefined;
      const cached = await sealer.open<CachedRow>(values[0], context.now, MAX_VALUE);
      if (!cached || cached.id !== rowId || !(cached.expires > context.now)) return undefined;
      const { id, userId, claims, signedInAt, refreshedAt, expires, origin } = cached;
      return { id, tokenId: id, userId, claims, signedInAt, refreshedAt, expires, origin, generation: 0 };
    },

    /** Queues the cookie caching `record` (as the store has it now) for the cache's age, never past the session's expiry. */
    async write(context: RequestContext, record: SessionRecord): Promise<void> {
      const row: CachedRow = {
        id: record.id,
        userId: record.userId,
        claims: record.claims,
        signedInAt: record.signedInAt,
        refreshedAt: record.refreshedAt,
        expires: record.expires,
        ...(record.origin !== undefined && { origin: record.origin }),
      };
      const value = await sealer.seal({ ...row }, context.now, age);
      if (value.length > MAX_VALUE) return;
      const expires = new Date(Math.min(context.now + age * 1000, record.expires));
      context.setCookies.push(
        serializeCookie(
          context.names.sessionData,
          value,
          { secure: context.secure, sameSite: config.sameSite, domain: config.cookieDomain, expires },
          context.now,
        ),
      );
    },
  };
}

export type RowCookie = NonNullable<ReturnType<typeof createRowCookie>>;

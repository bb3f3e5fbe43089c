import type { Session, SessionListing } from "../../shared/session.js";
import type { ResolvedConfig } from "../config.js";
import { clearSessionCookie } from "./session-cookie.js";
import { createDatabaseFormat } from "./database-format.js";
import { SessionServerError, type SessionServerErrorCode } from "../errors.js";
import type { RequestContext } from "../context.js";
import { createJwtFormat } from "./jwt-format.js";
import type { Store, StoredSession } from "../stores/store.js";
import type { User } from "../types.js";
import { createLifecycle, rootIdOf, type LoadedSession } from "./lifecycle.js";
import type { ProviderTokenKeeper } from "../oauth/provider-tokens.js";
import type { ProviderTokens } from "../oauth/providers.js";
import { lifetimePolicy } from "./policy.js";
import { toToken, userClaims, type SessionRecord } from "./record.js";
import { createRevocations } from "./revocation.js";
import { claimsOf, shapeToken, toSession } from "./shaping.js";
import { assertStorable } from "./storable.js";
import { iso } from "./time.js";

export type RevokeTarget = { id: string } | { all: true } | { others: true };

/** A stored row as `GET /sessions` shows it (database sessions and JWT listing rows alike). */
const listingOf = (row: StoredSession, currentId: string): SessionListing => ({
  id: row.id,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
  expires: iso(row.expires),
  userAgent: row.userAgent,
  current: row.id === currentId,
});

/** What a revocation request may name: session ids are base64url, hex or UUIDs, never longer. Anything else matches nothing, unqueried. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** What the routes ask of the sessions, whichever strategy carries them. */
export interface Sessions {
  /**
   * `GET /session`: the public session, refreshing its expiry when due. Bad cookies: null and cleared.
   * With `refresh: false` (for callers whose answer cannot carry cookies) it only reads: no
   * re-issue, no sliding write, no strategy migration, whose new cookie would be lost.
   */
  current(context: RequestContext, options?: { refresh?: boolean }): Promise<Session | null>;
  /** `POST /session`: the callbacks with `trigger: "update"`. */
  update(context: RequestContext, data: unknown): Promise<Session>;
  /**
   * Mints a new session, ending the one the request came with (no fixation). Null when the `jwt` callback
   * refused; else `session()` gives its public shape (running the `session` callback, only when asked).
   */
  signIn(
    context: RequestContext,
    user: User,
    from?: { provider: string; tokens: ProviderTokens },
  ): Promise<{ id: string; session: () => Session | Promise<Session> } | null>;
  /**
   * The provider tokens of the request's session (refreshed first when due, waiting for another server's
   * refresh if the token has expired), without writing cookies; null when it has none, undefined without a session.
   */
  providerTokens(context: RequestContext): Promise<Awaited<ReturnType<ProviderTokenKeeper["current"]>> | undefined>;
  /** When the request's session was signed in (ms), without writing anything; undefined without a valid session. */
  signedInAt(context: RequestContext): Promise<number | undefined>;
  /** Ends every session of a user, by id ("sign out everywhere" from server code). */
  revokeUser(context: RequestContext, userId: string): Promise<void>;
  /**
   * Ends the request's session and clears its cookie, even when the revocation cannot be recorded:
   * then `error` says why (`store_unavailable`, typically).
   */
  signOut(context: RequestContext): Promise<{ error?: SessionServerErrorCode }>;
  /** `GET /sessions`: the signed-in user's sessions. */
  list(context: RequestContext): Promise<SessionListing[]>;
  /** `POST /sessions/revoke`: one of the user's sessions, or all ("sign out everywhere"). */
  revoke(context: RequestContext, target: RevokeTarget): Promise<void>;
}

/**
 * The session operations for both strategies: each asks the lifecycle what is
 * valid and has it write, and runs the callbacks around that.
 */
export function createSessions(config: ResolvedConfig, store: Store | undefined, providerTokens?: ProviderTokenKeeper): Sessions {
  const policy = lifetimePolicy(config);
  const revocations = createRevocations(store, policy);
  const database = store && createDatabaseFormat(store);
  const onEnd = providerTokens?.enabled ? (rootId: string) => providerTokens.drop(rootId) : undefined;
  const lifecycle = createLifecycle(config, { policy, revocations, jwt: createJwtFormat(config), database, onEnd });

  /** The polling tab's read renews the provider tokens ahead of expiry; a failure here never fails the read. */
  async function renewProviderTokens(context: RequestContext, loaded: LoadedSession): Promise<void> {
    if (!providerTokens?.enabled) return;
    await providerTokens.current(rootIdOf(loaded.record), context.now, false).catch((error: unknown) => {
      const code = error instanceof SessionServerError ? error.code : "internal_error";
      config.logger.warn("provider_refresh_failed", { path: context.url.pathname, error: code });
    });
  }

  async function mustLoad(context: RequestContext, what: string): Promise<LoadedSession> {
    const loaded = await lifecycle.load(context, { write: true });
    if (!loaded) throw new SessionServerError("unauthenticated", `sign in to ${what}`);
    return loaded;
  }

  /** JWT: re-seals when the expiry is due to slide, the callback changed the token, or an old key opened it; never once expired. */
  async function resealIfDue(context: RequestContext, loaded: LoadedSession, record: SessionRecord, changed: boolean): Promise<SessionRecord> {
    const due = policy.refreshDue(context.now, record);
    if (loaded.converted || context.now >= record.expires || !(due || changed || loaded.staleKey)) return record;
    try {
      return await lifecycle.reseal(context, due ? { ...record, expires: policy.expiryAt(context.now, record.signedInAt) } : record);
    } catch (error) {
      // A callback that grew the token past the budget must not sign the user out: keep the current cookie.
      if (!(error instanceof SessionServerError && error.code === "session_too_large")) throw error;
      config.logger.error("session_too_large", { path: context.url.pathname, message: error.message });
      return record;
    }
  }

  return {
    async current(context, { refresh = true } = {}) {
      const loaded = await lifecycle.load(context, { write: refresh });
      if (!loaded) return null;
      if (refresh) await renewProviderTokens(context, loaded);
      let { record } = loaded;
      if (config.strategy === "database") {
        if (refresh && !loaded.converted) record = await lifecycle.slide(context, loaded);
        return toSession(config, toToken(record));
      }
      const shaped = await shapeToken(config, toToken(record), {});
      if (!shaped) {
        // The jwt callback ended the session: every copy of it ends too.
        await lifecycle.end(context, record);
        clearSessionCookie(config, context);
        return null;
      }
      record = { ...record, claims: userClaims(shaped.token) };
      if (refresh) record = await resealIfDue(context, loaded, record, shaped.changed);
      return toSession(config, toToken(record));
    },

    async update(context, data) {
      const loaded = await mustLoad(context, "update the session");
      let { record } = loaded;
      // Inside the clock tolerance a token is still read, but nothing revives it.
      if (context.now >= record.expires) throw new SessionServerError("unauthenticated", "the session has expired");
      const shaped = await shapeToken(config, toToken(record), { trigger: "update", session: data });
      if (!shaped) {
        await lifecycle.end(context, record);
        clearSessionCookie(config, context);
        throw new SessionServerError("unauthenticated", "the jwt callback ended the session");
      }
      const claims = userClaims(shaped.token);
      assertStorable(config, claims);
      if (config.strategy === "jwt") {
        record = await lifecycle.reseal(context, { ...record, claims, expires: policy.expiryAt(context.now, record.signedInAt) });
      } else {
        // A sign-out racing this update wins: the update of a deleted row reports false.
        if (!(await database!.update(record, claims, context.now))) throw new SessionServerError("unauthenticated", "the session ended");
        record = { ...record, claims, refreshedAt: context.now };
        await lifecycle.remember(context, record);
      }
      return toSession(config, toToken(record), { trigger: "update", newSession: data });
    },

    async signIn(context, user, from) {
      const userId = String(user.id);
      const id = crypto.randomUUID();
      const initial: SessionRecord = {
        id,
        tokenId: id,
        userId,
        claims: userClaims(claimsOf(user)),
        signedInAt: context.now,
        refreshedAt: context.now,
        expires: policy.expiryAt(context.now, context.now),
        // Only JWTs carry it; a database session is ended by deleting its row.
        generation: config.strategy === "jwt" ? await revocations.generationOf(context.now, userId) : 0,
      };
      const shaped = await shapeToken(config, toToken(initial), { user, trigger: "signIn" });
      if (!shaped) return null;
      const claims = userClaims(shaped.token);
      assertStorable(config, claims);
      // The session the request came with ends (whoever it belonged to), and its id is never adopted.
      await lifecycle.endIncoming(context);
      const started = { ...initial, claims };
      const rootId = await lifecycle.start(context, started);
      if (from) await providerTokens?.keep(rootId, from.provider, from.tokens, context.now);
      return { id: rootId, session: () => toSession(config, toToken(started)) };
    },

    async providerTokens(context) {
      const loaded = await lifecycle.load(context, { write: false });
      if (!loaded) return undefined;
      return (await providerTokens?.current(rootIdOf(loaded.record), context.now, true)) ?? null;
    },

    async signedInAt(context) {
      return (await lifecycle.load(context, { write: false }))?.record.signedInAt;
    },

    async revokeUser(context, userId) {
      await revocations.endUser(context.now, userId);
    },

    async signOut(context) {
      let outcome: { error?: SessionServerErrorCode } = {};
      try {
        await lifecycle.endIncoming(context);
      } catch (error) {
        // The browser is signed out whatever went wrong; a copy of its cookie may still work until the store records it.
        const known = error instanceof SessionServerError ? error : undefined;
        outcome = { error: known?.code ?? "internal_error" };
        config.logger.error("revocation_not_recorded", { path: context.url.pathname, error: outcome.error, cause: known ? known.cause : error });
      }
      clearSessionCookie(config, context);
      return outcome;
    },

    async list(context) {
      const { record } = await mustLoad(context, "list sessions");
      if (config.strategy === "jwt") {
        const current: SessionListing = {
          id: record.id,
          createdAt: iso(record.signedInAt),
          updatedAt: iso(record.refreshedAt),
          expires: iso(record.expires),
          userAgent: null,
          current: true,
        };
        // Without a store a JWT session is kept nowhere: the only one the server can show is the current one.
        if (!database || record.userId === undefined) return [current];
        // With one, each session has a listing row; a row whose session was revoked meanwhile (a re-issue racing
        // the revocation can write it back) is not shown.
        const rows = await database.listJwt(record.userId, context.now);
        const live = await Promise.all(rows.map(async (row) => !(await revocations.isRevoked(context.now, [row.id], undefined, 0))));
        const listed = rows.filter((_, index) => live[index]).map((row) => listingOf(row, record.id));
        // A session signed in before its row existed (or by Auth.js, without a session id) is still shown.
        return listed.some((row) => row.current) ? listed : [...listed, current];
      }
      return (await database!.list(record.userId!, context.now)).map((row) => listingOf(row, record.id));
    },

    async revoke(context, target) {
      if (!revocations.enabled) throw new SessionServerError("store_required", "revoking JWT sessions needs a `store` for the deny-list");
      const { record } = await mustLoad(context, "revoke sessions");
      if ("all" in target || "others" in target) {
        if (record.userId === undefined) throw new SessionServerError("session_not_found", "this session has no user to sign out everywhere");
        if ("all" in target) {
          await revocations.endUser(context.now, record.userId);
          clearSessionCookie(config, context);
          return;
        }
        if (config.strategy === "database") {
          // Each other row ends as a sign-out of it would (its JWT copies under migration included).
          for (const row of await database!.list(record.userId, context.now)) {
            if (row.id === record.id) continue;
            const other = await database!.get(row.id, context.now);
            if (other) await lifecycle.end(context, other);
          }
          return;
        }
        // JWTs are stored nowhere to be listed: move the user's generation past every token, then give this
        // browser a token of the new generation (same session id, sign-in time and expiry).
        await revocations.endUser(context.now, record.userId);
        await lifecycle.reseal(context, { ...record, generation: await revocations.generationOf(context.now, record.userId) });
        return;
      }
      // Only the user's own sessions; anything else looks like a session that does not exist.
      const victim = !SESSION_ID.test(target.id)
        ? null
        : target.id === record.id
          ? record
          : config.strategy === "database"
            ? await database!.get(target.id, context.now)
            : // JWT: the session's listing row gives its owner and sign-in time (the deny-list entry's lifetime).
              ((await database?.getJwt(target.id, context.now)) ?? null);
      if (!victim || victim.userId !== record.userId) throw new SessionServerError("session_not_found", "no such session");
      await lifecycle.end(context, victim);
      if (victim === record) clearSessionCookie(config, context);
    },
  };
}

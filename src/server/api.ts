import type { ResolvedConfig } from "./config.js";
import { createReadContext, createRequestContext, type RequestContext } from "./context.js";
import { SessionServerError } from "./errors.js";
import type { Sessions } from "./session/sessions.js";
import type { SessionListing } from "../shared/session.js";
import type { Session, User } from "./types.js";
import { toPublic, usable, type ProviderToken } from "./oauth/provider-tokens.js";

/**
 * What a call that may set cookies returns: its result, and the `Set-Cookie`
 * values your response must carry (a new session cookie, a re-issued one, or
 * the clearing of it).
 */
export interface SessionApiResult<T> {
  value: T;
  /** `Set-Cookie` header values, in order; empty when nothing changed. */
  cookies: string[];
  /**
   * The response with the cookies appended: the same object when its headers can change, else a copy.
   *
   * @example
   * ```ts
   * return result.applyTo(Response.redirect(new URL("/", request.url), 303));
   * ```
   */
  applyTo(response: Response): Response;
}

/**
 * The server API for app code, for whatever signs the user in (a magic link, an OAuth callback of your own,
 * a password form you handle): start a session, read it with its side effects, end one or many. Every call
 * runs the same lifecycle, callbacks and revocation rules as the HTTP endpoints.
 */
export interface SessionApi {
  /**
   * Starts a session for a user your code authenticated (the `jwt` and `session` callbacks run with
   * `trigger: "signIn"`). The session the request came with ends, whoever it belonged to. `value` is null
   * when the `jwt` callback refused the sign-in.
   *
   * @example
   * ```ts
   * const user = await verifyMagicLink(token); // your code
   * const { cookies } = await auth.api.signIn(request, { id: user.id, email: user.email });
   * return new Response(null, { status: 303, headers: [["location", "/"], ...cookies.map((c): [string, string] => ["set-cookie", c])] });
   * ```
   */
  signIn(request: Request, user: User): Promise<SessionApiResult<Session | null>>;
  /**
   * The request's session with the side effects of `GET /session` (re-issue, sliding expiry, migration
   * between strategies): send the cookies with your response. `auth.getSession` is the read-only one.
   *
   * @example
   * ```ts
   * const { value: session, applyTo } = await auth.api.getSession(request);
   * return applyTo(Response.json({ user: session?.user ?? null }));
   * ```
   */
  getSession(request: Request): Promise<SessionApiResult<Session | null>>;
  /**
   * Ends the request's session and clears its cookie, always; `revoked: false` (with `error`) when the
   * store could not record the revocation, so a copy of the cookie may work until it is back.
   *
   * @example
   * ```ts
   * const { applyTo } = await auth.api.signOut(request);
   * return applyTo(Response.redirect(new URL("/", request.url), 303));
   * ```
   */
  signOut(request: Request): Promise<SessionApiResult<{ revoked: boolean; error?: string }>>;
  /**
   * The sessions of the request's user: all of them (JWT strategy: with a `store`; without one, the current one only).
   *
   * @example
   * ```ts
   * const sessions = await auth.api.listSessions(request);
   * ```
   */
  listSessions(request: Request): Promise<SessionListing[]>;
  /**
   * Ends one of the request's user's sessions by id (from `listSessions`); ending the current one clears its cookie.
   *
   * @example
   * ```ts
   * const { applyTo } = await auth.api.revokeSession(request, id);
   * ```
   */
  revokeSession(request: Request, id: string): Promise<SessionApiResult<void>>;
  /**
   * Ends every session of the request's user except this one ("sign out other devices").
   *
   * @example
   * ```ts
   * const { applyTo } = await auth.api.revokeOtherSessions(request);
   * ```
   */
  revokeOtherSessions(request: Request): Promise<SessionApiResult<void>>;
  /**
   * Ends every session of a user, by user id, from anywhere in your server code (an admin action, a
   * password change, a banned account). Needs a `store` (JWT: the per-user generation lives there).
   *
   * @example
   * ```ts
   * await auth.api.revokeUserSessions(user.id);
   * ```
   */
  revokeUserSessions(userId: string): Promise<void>;
  /**
   * The request's session if it was signed in within `session.freshAge` (default 1 day), for a sensitive
   * action (changing the password, deleting the account). Throws `SessionServerError` with code
   * `unauthenticated` without a session, `session_not_fresh` (403) when it is older: ask the user to sign in again.
   *
   * @example
   * ```ts
   * const session = await auth.api.requireFreshSession(request);
   * ```
   */
  requireFreshSession(request: Request): Promise<Session>;
  /**
   * The access token of the provider the request's session signed in with (one with `keepTokens: true`),
   * refreshed first when it is due, for calling the provider's API from your server. Once per session
   * across requests, tabs and servers: a concurrent call waits for the one refresh instead of using the
   * refresh token again. Null when the session has no kept tokens (it signed in another way). Throws
   * `SessionServerError` with code `unauthenticated` without a session, `provider_token_refused` (401)
   * when the provider refused the refresh token (sign in with it again), `provider_unavailable` (503) when
   * the token has expired and the provider cannot be reached to renew it.
   *
   * @example
   * ```ts
   * const token = await auth.api.getProviderToken(request);
   * const repos = await fetch("https://api.github.com/user/repos", { headers: { authorization: `Bearer ${token?.accessToken}` } });
   * ```
   */
  getProviderToken(request: Request): Promise<ProviderToken | null>;
}

export function createSessionApi(config: ResolvedConfig, sessions: Sessions): SessionApi {
  async function withCookies<T>(request: Request, run: (context: RequestContext) => Promise<T>): Promise<SessionApiResult<T>> {
    const context = createRequestContext(config, request);
    const value = await run(context);
    const cookies = [...context.setCookies];
    return {
      value,
      cookies,
      applyTo(response) {
        if (cookies.length === 0) return response;
        let target = response;
        try {
          for (const cookie of cookies) target.headers.append("set-cookie", cookie);
        } catch {
          // Immutable headers (Response.redirect, a fetched response): copy it.
          target = new Response(response.body, response);
          for (const cookie of cookies) target.headers.append("set-cookie", cookie);
        }
        return target;
      },
    };
  }

  return {
    signIn: (request, user) =>
      withCookies(request, async (context) => {
        // A caller's mistake, not a request's: say so at once.
        if (typeof user?.id !== "string" || user.id === "") throw new TypeError("sessionpulse: auth.api.signIn needs a user with a non-empty string `id`");
        const started = await sessions.signIn(context, user);
        return started && (await started.session());
      }),
    getSession: (request) => withCookies(request, (context) => sessions.current(context)),
    signOut: (request) =>
      withCookies(request, async (context) => {
        const { error } = await sessions.signOut(context);
        return error ? { revoked: false, error } : { revoked: true };
      }),
    listSessions: (request) => sessions.list(createRequestContext(config, request)),
    revokeSession: (request, id) => withCookies(request, (context) => sessions.revoke(context, { id })),
    revokeOtherSessions: (request) => withCookies(request, (context) => sessions.revoke(context, { others: true })),
    async revokeUserSessions(userId) {
      if (typeof userId !== "string" || userId === "") throw new TypeError("sessionpulse: auth.api.revokeUserSessions needs a non-empty string user id");
      // No request: only the clock of a context is used.
      await sessions.revokeUser(createRequestContext(config, new Request(config.publicOrigin ?? "http://localhost/")), userId);
    },
    async requireFreshSession(request) {
      const context = createReadContext(config, request);
      const session = await sessions.current(context, { refresh: false });
      const signedInAt = session ? await sessions.signedInAt(context) : undefined;
      if (!session || signedInAt === undefined) throw new SessionServerError("unauthenticated", "sign in first");
      if (context.now - signedInAt > config.freshAge * 1000)
        throw new SessionServerError("session_not_fresh", "signed in too long ago for this action: sign in again");
      return session;
    },
    async getProviderToken(request) {
      const context = createReadContext(config, request);
      const kept = await sessions.providerTokens(context);
      if (kept === undefined) throw new SessionServerError("unauthenticated", "sign in first");
      if (kept === null) return null;
      if (kept.refused) throw new SessionServerError("provider_token_refused", `${kept.provider} refused to renew the access token: sign in with it again`);
      if (!usable(kept, config.clock()))
        throw new SessionServerError("provider_unavailable", `the access token of ${kept.provider} has expired and could not be renewed now: try again later`);
      return toPublic(kept);
    },
  };
}

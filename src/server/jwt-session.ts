import type { Session } from "../shared/session.js";
import type { ResolvedConfig } from "./config.js";
import { SessionServerError, type CookieRejection } from "./errors.js";
import { decodeToken, encodeToken } from "./jwt-codec.js";
import { createKeyring } from "./keys.js";
import type { RequestContext } from "./request-context.js";
import { clearSessionCookie, readSessionCookie, writeSessionCookie } from "./session-cookie.js";
import type { JWT, User } from "./types.js";

/** Claims the server owns; whatever a callback does to them is undone. */
const RESERVED = ["iat", "exp", "jti", "sid", "auth_time"] as const;

export type ReadToken = { kind: "none" } | { kind: "valid"; token: JWT; primaryKey: boolean };

/** Reads, refreshes and writes JWT sessions for one handler. */
export interface JwtSessions {
  /** The request's valid token, or `none` after clearing a bad cookie. Never throws for bad input. */
  read(context: RequestContext): Promise<ReadToken>;
  /** `GET /session`: the public session, re-issuing the token when due. */
  current(context: RequestContext): Promise<Session | null>;
  /** `POST /session`: runs the callbacks with `trigger: "update"` and re-issues. */
  update(context: RequestContext, data: unknown): Promise<Session>;
  /** Sign-in: mints a new session for `user` (a fresh `sid`, whatever cookie came in). */
  signIn(context: RequestContext, user: User): Promise<boolean>;
  /** Sign-out: expires the cookie. */
  signOut(context: RequestContext): Promise<void>;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

function defaultSession(token: JWT): Session {
  const user: Session["user"] = {};
  if (token.sub !== undefined) user.id = token.sub;
  if (token.name !== undefined) user.name = token.name;
  if (token.email !== undefined) user.email = token.email;
  if (token.picture !== undefined) user.image = token.picture;
  return { user, expires: new Date(token.exp * 1000).toISOString() };
}

async function runCallback<T>(name: string, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    throw new SessionServerError("callback_error", `the ${name} callback threw`, { cause });
  }
}

export function createJwtSessions(config: ResolvedConfig): JwtSessions {
  const keyring = createKeyring(config.secrets);
  const { jwt: jwtCallback, session: sessionCallback } = config.callbacks;

  function reject(context: RequestContext, reason: CookieRejection, clear: boolean): ReadToken {
    config.logger.warn(reason, { path: context.url.pathname });
    if (clear) clearSessionCookie(config, context);
    return { kind: "none" };
  }

  /** Latest `exp` allowed: `maxAge` from now, never past the absolute lifetime. */
  function expiryFor(nowSec: number, authTime: number): number {
    const idle = nowSec + config.maxAge;
    return config.maxLifetime === undefined ? idle : Math.min(idle, authTime + config.maxLifetime);
  }

  async function read(context: RequestContext): Promise<ReadToken> {
    const cookie = readSessionCookie(config, context);
    if (cookie.kind === "absent") return { kind: "none" };
    if (cookie.kind === "rejected") return reject(context, cookie.reason, cookie.clear);
    const nowSec = seconds(context.now);
    const keys = await keyring(context.names.sessionToken);
    const decoded = await decodeToken(cookie.value, keys, nowSec, config.maxCookieSize);
    if (!decoded.ok) return reject(context, decoded.reason, true);
    const authTime = decoded.token.auth_time ?? decoded.token.iat;
    if (config.maxLifetime !== undefined && nowSec >= authTime + config.maxLifetime) {
      return reject(context, "session_lifetime_exceeded", true);
    }
    return { kind: "valid", token: decoded.token, primaryKey: decoded.primaryKey };
  }

  /** Encrypts `token` with fresh `iat`/`exp`/`jti` and queues the cookie. */
  async function issue(context: RequestContext, token: JWT): Promise<JWT> {
    const nowSec = seconds(context.now);
    const authTime = token.auth_time ?? token.iat;
    const claims: JWT = { ...token, iat: nowSec, exp: expiryFor(nowSec, authTime), jti: crypto.randomUUID(), sid: token.sid ?? token.jti, auth_time: authTime };
    const [primary] = await keyring(context.names.sessionToken);
    const value = await encodeToken(claims, primary!);
    writeSessionCookie(config, context, value, new Date(claims.exp * 1000));
    return claims;
  }

  /** Runs the `jwt` callback; returns the shaped token (reserved claims restored) and whether it changed. */
  async function shape(token: JWT, params: { user?: User; trigger?: "signIn" | "update"; session?: unknown }) {
    if (!jwtCallback) return { token, changed: false };
    const before = JSON.stringify(token);
    const result = await runCallback("jwt", () => jwtCallback({ token: structuredClone(token), ...params }));
    if (result === null || typeof result !== "object") return { token: null, changed: true };
    const shaped = { ...result } as JWT;
    for (const claim of RESERVED) {
      if (token[claim] === undefined) delete shaped[claim];
      else (shaped as Record<string, unknown>)[claim] = token[claim];
    }
    return { token: shaped, changed: JSON.stringify(shaped) !== before };
  }

  async function toSession(token: JWT, params: { trigger?: "update"; newSession?: unknown } = {}): Promise<Session> {
    const session = defaultSession(token);
    if (!sessionCallback) return session;
    return runCallback("session", () => sessionCallback({ session, token, ...params }));
  }

  return {
    read,

    async current(context) {
      const found = await read(context);
      if (found.kind === "none") return null;
      const shaped = await shape(found.token, {});
      if (!shaped.token) {
        clearSessionCookie(config, context);
        return null;
      }
      let token = shaped.token;
      const due = seconds(context.now) - token.iat >= config.updateAge;
      if (due || shaped.changed || !found.primaryKey) {
        try {
          token = await issue(context, token);
        } catch (error) {
          // A callback that grew the token past the budget must not sign the user out: keep the current cookie.
          if (!(error instanceof SessionServerError && error.code === "session_too_large")) throw error;
          config.logger.error("session_too_large", { path: context.url.pathname, message: error.message });
        }
      }
      return toSession(token);
    },

    async update(context, data) {
      const found = await read(context);
      if (found.kind === "none") throw new SessionServerError("unauthenticated", "no session to update");
      const shaped = await shape(found.token, { trigger: "update", session: data });
      if (!shaped.token) {
        clearSessionCookie(config, context);
        throw new SessionServerError("unauthenticated", "the jwt callback ended the session");
      }
      const token = await issue(context, shaped.token);
      return toSession(token, { trigger: "update", newSession: data });
    },

    async signIn(context, user) {
      const nowSec = seconds(context.now);
      const initial: JWT = {
        sub: String(user.id),
        ...(user.name !== undefined && { name: user.name }),
        ...(user.email !== undefined && { email: user.email }),
        ...(user.image !== undefined && { picture: user.image }),
        iat: nowSec,
        exp: expiryFor(nowSec, nowSec),
        jti: crypto.randomUUID(),
        sid: crypto.randomUUID(),
        auth_time: nowSec,
      };
      const shaped = await shape(initial, { user, trigger: "signIn" });
      if (!shaped.token) return false;
      await issue(context, shaped.token);
      return true;
    },

    async signOut(context) {
      clearSessionCookie(config, context);
    },
  };
}

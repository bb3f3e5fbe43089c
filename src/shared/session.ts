/**
 * Wire types shared by the client and the server (the Auth.js wire format). These are the
 * JSON bodies of `GET /session`, identical to Auth.js's.
 */

/** The signed-in user as the session exposes it. Extra fields come from the `session` callback. */
export interface SessionUser {
  id?: string;
  name?: string | null;
  email?: string | null;
  image?: string | null;
  [key: string]: unknown;
}

/**
 * A session as `GET /session` returns it.
 *
 * @example
 * ```ts
 * const session: Session = { user: { name: "Ada" }, expires: "2026-12-28T10:00:00.000Z" };
 * ```
 */
export interface Session {
  user: SessionUser;
  /** ISO 8601 instant after which the server no longer accepts the session. */
  expires: string;
  [key: string]: unknown;
}

/**
 * One of the signed-in user's sessions, as `GET /sessions` lists them: no
 * token, nothing secret. Times are ISO 8601.
 *
 * @example
 * ```ts
 * const sessions: SessionListing[] = await (await fetch("/api/auth/sessions")).json();
 * const others = sessions.filter((session) => !session.current);
 * ```
 */
export interface SessionListing {
  id: string;
  createdAt: string;
  updatedAt: string;
  expires: string;
  userAgent: string | null;
  /** The session the request belongs to. */
  current: boolean;
}

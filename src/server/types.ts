import type { Session } from "../shared/session.js";
import type { Store } from "./stores/store.js";

/** A user as `authorize` returns it. `id` becomes the token's `sub`. */
import type { OAuthProvider } from "./oauth/providers.js";

export interface User {
  id: string;
  name?: string | null;
  email?: string | null;
  image?: string | null;
  [key: string]: unknown;
}

/**
 * The decrypted session token. `sub`, `iat`, `exp`, `jti`, `sid`, `auth_time`, `gen`
 * (and `sit`, `dbt`) are managed by the server: a callback may read them, its
 * changes to them are ignored, and `update()` data never reaches them.
 */
export interface JWT {
  sub?: string;
  name?: string | null;
  email?: string | null;
  picture?: string | null;
  /** Issued at, seconds since epoch. */
  iat: number;
  /** Expiry, seconds since epoch. */
  exp: number;
  /** Id of this token; a re-issued token gets a new one. */
  jti: string;
  /** Id of the session; stays the same across re-issues (absent in tokens minted by Auth.js). */
  sid?: string;
  /** Sign-in time, seconds since epoch; the absolute lifetime counts from here. */
  auth_time?: number;
  /** The user's generation when the session started: "sign out everywhere" ends every token below the store's. */
  gen?: number;
  /** Sign-in time in ms, in tokens from before `gen`: read as their generation. */
  sit?: number;
  /** A session converted from the database strategy: its database cookie, so converting back lands on the same row. */
  dbt?: string;
  [key: string]: unknown;
}

export interface JwtCallbackParams {
  token: JWT;
  /** Present on sign-in only. */
  user?: User;
  /** `"signIn"` when the token is minted, `"update"` on `POST /session`, absent on a plain read. */
  trigger?: "signIn" | "update";
  /** The `data` a client sent with `update(data)`; untrusted input. */
  session?: unknown;
}

export interface SessionCallbackParams {
  session: Session;
  token: JWT;
  trigger?: "update";
  /** The `data` a client sent with `update(data)`; untrusted input. */
  newSession?: unknown;
}

export interface SessionCallbacks {
  /** Shapes the token. Return `null` to end the session. */
  jwt?: (params: JwtCallbackParams) => JWT | null | Promise<JWT | null>;
  /** Shapes the public session that `GET /session` returns. */
  session?: (params: SessionCallbackParams) => Session | Promise<Session>;
}

export type LogLevel = "error" | "warn" | "debug";

/**
 * Receives a stable code and details that never hold a secret, a token or a cookie value.
 *
 * @example
 * ```ts
 * const logger: SessionLogger = { warn: (code, details) => console.warn(code, details) };
 * ```
 */
export type SessionLogger = Partial<Record<LogLevel, (code: string, details?: Record<string, unknown>) => void>>;

export interface CookieOptions {
  /** `"auto"` (default): `Secure` and the `__Secure-`/`__Host-` prefixes when the request is https. */
  secure?: boolean | "auto";
  /** First part of every cookie name. Default `"authjs"`, giving `authjs.session-token`. */
  prefix?: string;
  /** `Domain` attribute for the session cookie; the CSRF cookie stays host-only. */
  domain?: string;
  sameSite?: "lax" | "strict" | "none";
  /**
   * Budget in bytes for the session cookie across all its chunks. A session that
   * would exceed it is refused (`session_too_large`) instead of being written,
   * because a Cookie header past ~16 KB makes Node answer 431 to every request,
   * sign-out included. Default 12288.
   */
  maxSize?: number;
}

export interface SessionOptions {
  /** `"jwt"` (default): the session lives in an encrypted cookie. `"database"`: an opaque id in the cookie, the session in `store`. */
  strategy?: "jwt" | "database";
  /**
   * Accept sessions of the other strategy and convert them on their next
   * request, so switching strategies signs nobody out. `"database"` needs `store`.
   */
  migrateFrom?: "jwt" | "database";
  /** Idle lifetime in seconds: a session unused for this long expires. Default 30 days. */
  maxAge?: number;
  /** Seconds after which a token is re-issued (sliding expiry). `0` re-issues on every request. Default 1 day. */
  updateAge?: number;
  /** Absolute lifetime in seconds from sign-in, whatever the activity. Default: none. */
  maxLifetime?: number;
  /**
   * Seconds after sign-in during which a session counts as fresh, for sensitive actions
   * (`auth.api.requireFreshSession`): after it the user must sign in again. Default 1 day.
   */
  freshAge?: number;
  /**
   * Database strategy: a short-lived cache of the session row in a sealed cookie (encrypted and
   * authenticated under `secret`, bound to the session cookie), so most polls do not read the store.
   * The trade-off: a session revoked elsewhere (another device's "sign out everywhere", an admin's
   * `revokeUserSessions`) keeps working in a browser for up to `maxAge` seconds, until its cache
   * expires; a sign-out in the browser itself ends at once. Off by default; `true` is `{ maxAge: 60 }`.
   *
   * @example
   * ```ts
   * createSessionHandler({ secret, store, session: { strategy: "database", cookieCache: { maxAge: 60 } } });
   * ```
   */
  cookieCache?: boolean | { maxAge: number };
}

/** Bounds of the verified-token cache; see {@link JwtOptions.cache}. Whichever is reached first evicts the least recently used token. */
export interface TokenCacheOptions {
  /** Most tokens held at once: a positive integer. Default 10,000. */
  maxEntries?: number;
  /**
   * Most bytes held at once: a positive integer. Counted per token: its cookie value and its claims
   * as V8 stores them (one byte a character, two for text beyond Latin-1) plus 160 bytes. Default 16 MiB
   * (about 16,000 tokens of 600 characters with the claims of a typical user: the 10,000-token bound binds first).
   */
  maxBytes?: number;
}

/** Options of the JWT strategy (and of JWT cookies read under `migrateFrom: "jwt"`). */
export interface JwtOptions {
  /**
   * The verified-token cache: a repeat request with the same session cookie (a browser polling
   * `GET /session`) skips the decryption. It maps the exact cookie value to the claims it decrypted
   * to, in memory, per handler, least recently used first out. Only tokens that passed every check
   * are kept; on a hit the expiry, `maxLifetime` and the revocation deny-list are checked exactly as
   * on a miss, and the callbacks run as always. A new handler (say, with a rotated secret) starts empty.
   * `true` or absent: on, with the default bounds; `false`: off (every request decrypts).
   *
   * @example
   * ```ts
   * createSessionHandler({ secret, jwt: { cache: { maxEntries: 50_000, maxBytes: 32 * 1024 * 1024 } } });
   * ```
   */
  cache?: boolean | TokenCacheOptions;
}

/**
 * The fields of a credentials sign-in, as text: a form's values as posted, a JSON body's strings, numbers and
 * booleans as strings (nested objects and arrays are dropped). A field that was not sent is `undefined`.
 */
export type Credentials = Partial<Record<string, string>>;

/**
 * The Credentials provider's check: return the user, or `null` to refuse.
 *
 * @example
 * ```ts
 * const authorize: Authorize = async ({ email, password }) => (email && password ? await checkPassword(email, password) : null);
 * ```
 */
export type Authorize = (credentials: Credentials, request: Request) => User | null | Promise<User | null>;

/**
 * Options of {@link createSessionHandler}.
 */
export interface SessionHandlerConfig {
  /** One secret, or several for rotation: the first encrypts, all decrypt. Each ≥ 32 bytes. */
  secret: string | readonly string[];
  /** Path under which the endpoints live. Default `"/api/auth"`. */
  basePath?: string;
  session?: SessionOptions;
  /** JWT strategy: the verified-token cache (`cache`, on by default). */
  jwt?: JwtOptions;
  /** Required for the database strategy; with JWT, enables sign-out revocation and "sign out everywhere" (a deny-list). */
  store?: Store;
  /** Longest wait for the store, ms; past it the request answers 503 `store_unavailable`. Default 2000. */
  storeTimeout?: number;
  authorize?: Authorize;
  callbacks?: SessionCallbacks;
  cookies?: CookieOptions;
  /** Origins besides the server's own that may send state-changing requests. */
  trustedOrigins?: readonly string[];
  /**
   * Public origin of the site (e.g. `https://app.example.com`). Used for the
   * `Origin` check and redirects instead of the request URL, which a proxy may rewrite.
   */
  url?: string;
  /**
   * Without `url`: take the public origin from `X-Forwarded-Proto` and `X-Forwarded-Host` (as Auth.js's
   * `trustHost` does), for an app behind a reverse proxy or a dev server that rewrites the request URL.
   * Only when that proxy sets them and strips them from clients: otherwise a client could name any
   * origin. Default false; `url`, when set, wins.
   */
  trustHost?: boolean;
  /** Where failed sign-ins are sent (`?error=<code>`): `error` for provider sign-ins, else `signIn`. Default `${basePath}/signin`. */
  pages?: { signIn?: string; error?: string };
  /**
   * OpenID Connect and OAuth 2 providers (`oidc(…)`, `github(…)`): `GET {basePath}/signin/<id>` sends the
   * browser there, `GET {basePath}/callback/<id>` starts the session when it comes back.
   */
  providers?: readonly OAuthProvider[];
  /** `"next-auth-v4"` answers `{}` instead of `null` when signed out. */
  compat?: "next-auth-v4";
  /** Milliseconds since epoch. For tests and simulations. */
  clock?: () => number;
  logger?: SessionLogger;
}

export type { Session };

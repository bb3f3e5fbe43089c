import type { Session, SessionListing } from "../shared/session.js";
import type { ClientEnv } from "./env.js";
import type { SessionError } from "./errors.js";

export type SessionStatus = "loading" | "authenticated" | "unauthenticated";

/** What `getSnapshot()` returns: the same object until something in it changes. */
export interface SessionSnapshot {
  /** `loading` only until the first answer; refreshes and updates keep the data visible. */
  status: SessionStatus;
  data: Session | null;
  /** The last failure, cleared by the next success. */
  error: SessionError | null;
  /** True while the data shown could not be confirmed by the server (errors, offline). */
  isStale: boolean;
  /** When `data` last changed, ms since epoch (this machine's clock, for display only). */
  updatedAt: number;
  /** Whether this tab is the one that polls for the browser. */
  isLeader: boolean;
}

export interface SessionClientOptions {
  /** Where the session server lives: a path (`/api/auth`) or a full URL. */
  basePath?: string;
  /** Keep-alive poll, seconds; `0` turns it off. Only the leader tab polls. Default 300. */
  refetchInterval?: number;
  /** Refresh when a tab becomes visible or focused, if the last sync (by any tab) is older than `focusThrottle`. Default true. */
  refetchOnWindowFocus?: boolean;
  /** Seconds, shared by all tabs. Default 5. */
  focusThrottle?: number;
  /** Keep polling while offline. Default false: pause, then one refresh on reconnect. */
  refetchWhenOffline?: boolean;
  /** Share state and elect one polling tab over a BroadcastChannel. Default true. */
  crossTab?: boolean;
  /** The channel the tabs share; only clients with the same name sync and elect a leader together. Default `"sessionpulse"`. */
  channelName?: string;
  /** The session from server rendering (`null` = signed out): no request on start. */
  initialSession?: Session | null;
  /** Per-request timeout, in ms (unlike the other durations, which are seconds); above 0. Default 10000. */
  timeout?: number;
  /** Replaces `env.fetch`. */
  fetch?: ClientEnv["fetch"];
  /** Replaces the browser sources; pass a partial set to override some. */
  env?: Partial<ClientEnv>;
}

/** `leader`: this tab started (or stopped) being the one that polls; see `snapshot.isLeader`. */
export type SessionEventType = "signin" | "signout" | "update" | "refresh" | "expired" | "error" | "leader";

export interface SessionEvent {
  type: SessionEventType;
  /** `local`: this tab caused it; `remote`: it arrived from another tab. */
  source: "local" | "remote";
  session: Session | null;
  error?: SessionError;
}

export interface SignInResult {
  ok: boolean;
  /**
   * Why it failed: the Auth.js error name from the answer's URL (`"CredentialsSignin"`), or the server's
   * code for a request it refused before reading it (`"origin_forbidden"`, `"body_malformed"`); null on success.
   */
  error: string | null;
  status: number;
  /** Where to go next; null when the server refused the request itself. */
  url: string | null;
}

export interface RedirectOptions {
  /** Navigate to the resulting URL. Default true, as in Auth.js. */
  redirect?: boolean;
  callbackUrl?: string;
}

/** The client returned by `createSessionClient`. */
export interface SessionClient {
  /** Where the session server lives, as given (default `/api/auth`). */
  readonly basePath: string;
  getSnapshot: () => SessionSnapshot;
  /** Calls `listener` when the snapshot changes. The first subscriber starts the client, the last stops it. */
  subscribe: (listener: () => void) => () => void;
  /**
   * Asks the server now; calls made together share one request. The answer is
   * always to a request sent after the call (never one already on its way),
   * so it reflects changes the app made just before, e.g. revoking sessions.
   */
  refresh: () => Promise<SessionSnapshot>;
  /** `POST /session` with `data`; the result goes to every tab. */
  update: (data?: unknown) => Promise<Session | null>;
  /**
   * `"credentials"`: posts `fields` to the server's `authorize`. Any other id: an OpenID / OAuth provider the
   * server lists at `GET /providers`; the browser goes to the provider's page (whatever `redirect` says) and
   * comes back signed in to `callbackUrl`.
   */
  signIn: (provider: string, fields?: Record<string, string>, options?: RedirectOptions) => Promise<SignInResult>;
  signOut: (options?: RedirectOptions) => Promise<{ url: string }>;
  /**
   * The signed-in user's sessions (`GET /sessions`): where they are signed in, never a token.
   *
   * @example
   * ```ts
   * const others = (await client.listSessions()).filter((session) => !session.current);
   * ```
   */
  listSessions: () => Promise<SessionListing[]>;
  /** Ends one of the user's sessions by its `id` from {@link SessionClient.listSessions}; the current one signs every tab out. */
  revokeSession: (id: string) => Promise<void>;
  /** Ends every session of the user but this browser's ("sign out other devices"). */
  revokeOtherSessions: () => Promise<void>;
  /** Ends every session of the user, this one included ("sign out everywhere"). */
  signOutEverywhere: () => Promise<void>;
  on: (type: SessionEventType, listener: (event: SessionEvent) => void) => () => void;
  /** Removes every timer, listener and channel. */
  destroy: () => void;
  /** Channel messages refused by validation so far (malformed, forged, foreign versions). */
  readonly droppedMessages: number;
}

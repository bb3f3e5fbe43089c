import type { Session, SessionListing } from "../../shared/session.js";

export type { SessionListing };
import type { RequestContext } from "../http/request-context.js";
import type { User } from "../types.js";

export type RevokeTarget = { id: string } | { all: true };

/** What the routes ask of a session strategy (JWT or database). */
export interface SessionStrategy {
  /**
   * `GET /session`: the public session, refreshing its expiry when due. Bad cookies: null and cleared.
   * With `refresh: false` (for callers whose answer cannot carry cookies) it only reads: no
   * re-issue, no sliding write, no strategy migration, whose new cookie would be lost.
   */
  current(context: RequestContext, options?: { refresh?: boolean }): Promise<Session | null>;
  /** `POST /session`: the callbacks with `trigger: "update"`. */
  update(context: RequestContext, data: unknown): Promise<Session>;
  /** Mints a new session (never reuses the incoming one: no fixation). False when the `jwt` callback refused. */
  signIn(context: RequestContext, user: User): Promise<boolean>;
  signOut(context: RequestContext): Promise<void>;
  /** `GET /sessions`: the signed-in user's sessions. */
  list(context: RequestContext): Promise<SessionListing[]>;
  /** `POST /sessions/revoke`: one of the user's sessions, or all ("sign out everywhere"). */
  revoke(context: RequestContext, target: RevokeTarget): Promise<void>;
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** Whole seconds since epoch, as JWT claims count time. */
export const seconds = (ms: number) => Math.floor(ms / 1000);

/** The `User-Agent` a session row records, bounded so a hostile header cannot bloat the store. */
export const userAgentOf = (context: RequestContext) => context.request.headers.get("user-agent")?.slice(0, 512) ?? null;

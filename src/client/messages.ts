import type { Session } from "../shared/session.js";
import type { SessionErrorCode } from "./errors.js";
import type { readSession } from "./session-shape.js";

/** Bump when a message's meaning changes; tabs drop versions they do not know. */
export const PROTOCOL_VERSION = 2;
/** Largest session a message may carry, in characters of JSON: more than any cookie holds. */
const MAX_SESSION_JSON = 16_384;
const MAX_ID = 64;
/** Write ids a state message lists (see `seen`). */
export const MAX_SEEN = 16;

/** Answers of a read (`verify`: a read made to check an identity change another tab announced). */
const READ_REASONS = ["refresh", "sync", "verify"] as const;
/** Outcomes of this tab's own writes. */
const WRITE_REASONS = ["signin", "signout", "update"] as const;
export type SessionReason = (typeof READ_REASONS)[number] | (typeof WRITE_REASONS)[number];
export const isWrite = (reason: SessionReason) => (WRITE_REASONS as readonly string[]).includes(reason);
const REASONS: readonly string[] = [...READ_REASONS, ...WRITE_REASONS];

const ERROR_CODES: readonly SessionErrorCode[] = ["network", "timeout", "server", "http", "redirected", "invalid_response"];

/**
 * What tabs tell each other. No message carries a tab's clock: tabs' clocks
 * may disagree by a day, and their monotonic clocks have separate origins.
 * - `state`: a session the server answered. `seen` lists the latest writes
 *   the sender had seen when its read went out, so a tab whose latest write
 *   is not among them drops it (it may predate that write; tabs may see
 *   concurrent writes in different orders, hence a list); `server` is the sender's
 *   estimate of the server's clock (from `Date` headers), to judge `expires`.
 * - `failure`: the leader's read failed; every tab shows it, stale.
 * - `poll`: the leader is sending a read (a sign of life while it waits).
 * - `hello`: a new tab asks for the current state.
 */
export type TabMessage =
  | { v: 2; type: "state"; id: string; reason: SessionReason; session: Session | null; seen: string[]; server?: number; re?: string }
  | { v: 2; type: "failure"; id: string; code: SessionErrorCode; status?: number }
  | { v: 2; type: "poll"; id: string }
  | { v: 2; type: "hello"; id: string };

export type StateMessage = Extract<TabMessage, { type: "state" }>;
/** A message as a tab composes it: the version and a fresh id are added when it is posted. */
export type OutgoingMessage = TabMessage extends infer M ? (M extends TabMessage ? Omit<M, "v" | "id"> & { id?: string } : never) : never;
export type MessageVerdict = { ok: true; message: TabMessage } | { ok: false; ours: boolean };

const TYPES = ["state", "failure", "poll", "hello"];
const isId = (value: unknown): value is string => typeof value === "string" && value.length > 0 && value.length <= MAX_ID;

/**
 * Validates a message from the channel: anything malformed, foreign or too
 * big is refused, never thrown on. `ours` says whether it looked like one of
 * ours (then a newer client version may have sent it, and one tab converges
 * through the server). Sessions are checked with `checkSession`, the client's
 * check of server answers.
 */
export function readMessage(raw: unknown, checkSession: typeof readSession): MessageVerdict {
  if (typeof raw !== "object" || raw === null) return { ok: false, ours: false };
  const message = raw as Record<string, unknown>;
  const { type, status, seen, server, re } = message;
  const refuse = { ok: false, ours: TYPES.includes(type as string) } as const;
  if (message.v !== PROTOCOL_VERSION || !isId(message.id) || !refuse.ours) return refuse;
  if (type === "failure") {
    const valid = ERROR_CODES.includes(message.code as SessionErrorCode) && (status === undefined || (Number.isInteger(status) && (status as number) < 600));
    return valid ? { ok: true, message: raw as TabMessage } : refuse;
  }
  if (type !== "state") return { ok: true, message: raw as TabMessage };
  const session = checkSession(message.session);
  const valid =
    REASONS.includes(message.reason as SessionReason) &&
    Array.isArray(seen) &&
    seen.length <= MAX_SEEN &&
    seen.every(isId) &&
    (server === undefined || Number.isFinite(server)) &&
    (re === undefined || isId(re)) &&
    session !== undefined &&
    !(session && JSON.stringify(session).length > MAX_SESSION_JSON);
  // `session` normalised: `{}` (next-auth v4's signed out) travels as null.
  return valid ? { ok: true, message: { ...(raw as StateMessage), session } } : refuse;
}

/** Who the session says the user is (`""` when signed out): a change of it over the channel is checked with the server first. */
export const identityOf = (session: Session | null): string => (session ? JSON.stringify(session.user) : "");

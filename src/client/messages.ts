import type { Session } from "../shared/session.js";
import { readSession } from "./session-shape.js";

/** Bump when a message's meaning changes; tabs drop versions they do not know. */
export const PROTOCOL_VERSION = 1;
/** Largest session a message may carry, in characters of JSON: more than any cookie holds. */
const MAX_SESSION_JSON = 16_384;

const REASONS = ["refresh", "signin", "signout", "update", "sync"] as const;
export type SessionReason = (typeof REASONS)[number];

/**
 * What tabs tell each other. `at` orders session states across tabs (they
 * share the machine clock): a read is as new as its request's start, a write as
 * its response's arrival; older states never overwrite newer ones.
 */
export type TabMessage =
  { v: 1; type: "session"; from: string; at: number; reason: SessionReason; session: Session | null; offset: number } | { v: 1; type: "hello"; from: string };

export type MessageVerdict = { ok: true; message: TabMessage } | { ok: false; ours: boolean };

/**
 * Validates a message from the channel. Anything malformed, foreign, too big,
 * from the future or claiming to come from this tab is refused; `ours` says
 * whether it looked like one of ours (then a newer client version may have
 * sent it, and a refresh lets this tab converge through the server).
 */
export function readMessage(raw: unknown, self: string, now: number): MessageVerdict {
  if (typeof raw !== "object" || raw === null) return { ok: false, ours: false };
  const message = raw as Record<string, unknown>;
  const ours = message.type === "session" || message.type === "hello";
  const refuse = { ok: false, ours } as const;
  if (message.v !== PROTOCOL_VERSION || typeof message.from !== "string" || message.from.length > 64 || message.from === self) return refuse;
  if (message.type === "hello") return { ok: true, message: raw as TabMessage };
  if (message.type !== "session" || !REASONS.includes(message.reason as SessionReason)) return refuse;
  const { at, offset } = message;
  // A state stamped in the future would block every real update until then.
  if (typeof at !== "number" || !Number.isFinite(at) || at > now + 5_000) return refuse;
  if (typeof offset !== "number" || !Number.isFinite(offset)) return refuse;
  const session = readSession(message.session);
  if (session === undefined || (session && JSON.stringify(session).length > MAX_SESSION_JSON)) return refuse;
  // `session` normalised: `{}` (next-auth v4's signed out) travels as null.
  return { ok: true, message: { ...(raw as TabMessage & { type: "session" }), session } };
}

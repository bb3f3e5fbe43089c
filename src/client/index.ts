/**
 * `sessionpulse`: the browser session client.
 *
 * @packageDocumentation
 */
export { createSessionClient } from "./client.js";
export { browserEnv } from "./browser-env.js";
export { SessionError, type SessionErrorCode } from "./errors.js";
export type { ClientEnv, TabLink } from "./env.js";
export type {
  RedirectOptions,
  SessionClient,
  SessionClientOptions,
  SessionEvent,
  SessionEventType,
  SessionSnapshot,
  SessionStatus,
  SignInResult,
} from "./types.js";
export type { Session, SessionListing, SessionUser } from "../shared/session.js";

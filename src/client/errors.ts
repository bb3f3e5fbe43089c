/**
 * Why a session request failed. Stable codes: match on `code`, not `message`.
 * - `network`: the request never got an answer (offline, DNS, CORS, reset).
 * - `timeout`: no answer within `timeout`.
 * - `server`: a 5xx answer.
 * - `http`: another non-2xx answer (401, 403, 404, 429, …); see `status`. A 404 on `/session` usually means a wrong `basePath`.
 * - `redirected`: the server answered with a redirect (e.g. to a login page) instead of JSON.
 * - `invalid_response`: the body was not JSON or not a session.
 * - `csrf`: the server refused the CSRF token twice.
 * - `unauthenticated`: a call that needs a session was made without one.
 * - `destroyed`: the client was destroyed.
 */
export type SessionErrorCode = "network" | "timeout" | "server" | "http" | "redirected" | "invalid_response" | "csrf" | "unauthenticated" | "destroyed";

/**
 * The error on a snapshot (`snapshot.error`) and in rejected promises.
 *
 * @example
 * ```ts
 * if (client.getSnapshot().error?.code === "network") showOfflineBanner();
 * ```
 */
export class SessionError extends Error {
  override readonly name = "SessionError";
  constructor(
    readonly code: SessionErrorCode,
    /** HTTP status when the server answered. */
    readonly status?: number,
    /** The URL asked, e.g. `/api/auth/session`. */
    readonly path?: string,
    /** How long the server asked to wait (`Retry-After`), ms. */
    readonly retryAfter?: number,
  ) {
    // One message shape for every failure keeps the browser bundle small; `code` is what callers match on.
    super(`sessionpulse: ${code}${path ? ` on ${path}` : ""}${status ? ` (HTTP ${status})` : ""}${status === 404 ? ": is basePath right?" : ""}`);
  }
}

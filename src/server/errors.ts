/**
 * Every failure the server can report has a stable `code`. Codes reach logs and
 * error bodies; they never carry a secret, a token or a cookie value.
 */
export type SessionServerErrorCode =
  | "body_malformed"
  | "body_too_large"
  | "callback_error"
  | "csrf_invalid"
  | "internal_error"
  | "method_not_allowed"
  | "not_found"
  | "origin_forbidden"
  | "provider_not_configured"
  | "provider_token_refused"
  | "provider_unavailable"
  | "session_data_invalid"
  | "session_not_found"
  | "session_not_fresh"
  | "session_too_large"
  | "store_input_rejected"
  | "store_misconfigured"
  | "store_required"
  | "store_unavailable"
  | "unauthenticated"
  | "unsupported_media_type";

const statusByCode: Record<SessionServerErrorCode, number> = {
  body_malformed: 400,
  body_too_large: 413,
  callback_error: 500,
  csrf_invalid: 403,
  internal_error: 500,
  method_not_allowed: 405,
  not_found: 404,
  origin_forbidden: 403,
  provider_not_configured: 404,
  provider_token_refused: 401,
  provider_unavailable: 503,
  session_data_invalid: 400,
  session_not_found: 404,
  session_not_fresh: 403,
  session_too_large: 413,
  store_input_rejected: 400,
  store_misconfigured: 500,
  store_required: 400,
  store_unavailable: 503,
  unauthenticated: 401,
  unsupported_media_type: 415,
};

/**
 * An error the handler turns into an HTTP answer. `status` follows from `code`.
 *
 * @example
 * ```ts
 * throw new SessionServerError("csrf_invalid", "CSRF token missing or wrong");
 * ```
 */
export class SessionServerError extends Error {
  override readonly name = "SessionServerError";
  readonly code: SessionServerErrorCode;
  readonly status: number;

  constructor(code: SessionServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = statusByCode[code];
  }
}

/**
 * A mistake in the options given to `createSessionHandler`, raised at start-up
 * so a misconfigured server never serves a request.
 *
 * @example
 * ```ts
 * try {
 *   createSessionHandler({ secret: "too short" });
 * } catch (error) {
 *   if (error instanceof SessionConfigError) console.error(error.message); // says which option and why
 * }
 * ```
 */
export class SessionConfigError extends TypeError {
  override readonly name = "SessionConfigError";
  readonly code = "invalid_config" as const;
}

/**
 * Why a session cookie was refused. Logged at `warn`; the request itself gets
 * `200 null` and the cookie cleared.
 */
export type CookieRejection =
  | "cookie_chunks_invalid"
  | "cookie_duplicated"
  | "cookie_too_large"
  | "session_lifetime_exceeded"
  | "session_revoked"
  | "session_unknown"
  | "token_algorithm"
  | "token_claims"
  | "token_expired"
  | "token_invalid"
  | "token_key_unknown"
  | "token_malformed"
  | "token_unsupported";

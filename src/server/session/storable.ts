import type { ResolvedConfig } from "../config.js";
import { SessionServerError } from "../errors.js";

/**
 * A JSON escape of a NUL or of a lone surrogate that is not itself escaped:
 * JSON.stringify writes both as `\u` escapes (a well-formed pair is written
 * as is), and an even run of backslashes before one is a literal backslash.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/**
 * Refuses session data that some store cannot keep, whatever the store of
 * this server is, so a session behaves the same on every store and survives a
 * strategy switch: PostgreSQL's `jsonb` has no NUL and no lone surrogate, and
 * its driver's refusal would otherwise surface as a store outage. Also keeps
 * the data within the cookie budget, which bounds a database session too.
 */
export function assertStorable(config: ResolvedConfig, claims: Record<string, unknown>): void {
  let json: string;
  try {
    json = JSON.stringify(claims);
  } catch (cause) {
    throw new SessionServerError("callback_error", "the session data is not JSON (the jwt callback returned something JSON.stringify refuses)", { cause });
  }
  if (json.length > config.maxCookieSize)
    throw new SessionServerError("session_too_large", `session data is ${json.length} bytes; the budget is ${config.maxCookieSize}`);
  if (UNSTORABLE_ESCAPE.test(json))
    throw new SessionServerError("session_data_invalid", "session data may not hold a NUL character or a lone UTF-16 surrogate");
}

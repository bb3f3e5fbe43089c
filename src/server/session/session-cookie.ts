import type { ResolvedConfig } from "../config.js";
import { SessionServerError, type CookieRejection } from "../errors.js";
import type { RequestContext } from "../context.js";
import { ownNames, readChunkedCookie, splitIntoChunks, type ChunkedCookie } from "../cookies/chunks.js";
import { serializeClearedCookie, serializeCookie } from "../cookies/set-cookie.js";

/**
 * The one place that reads and writes the session cookie: every strategy,
 * migration and sign-out goes through these, so chunking, the size budget and
 * which names may be cleared are decided once.
 */

/** Reads the (possibly chunked) session cookie of a request. */
export function readSessionCookie(config: ResolvedConfig, context: RequestContext): ChunkedCookie {
  return readChunkedCookie(context.jar, context.names.sessionToken, config.maxCookieSize);
}

/** The pieces of the session cookie the request sent, among the names this server may have written. */
function presentSessionNames(config: ResolvedConfig, context: RequestContext): string[] {
  return ownNames(context.names.sessionToken, config.maxCookieSize).filter((name) => context.jar.has(name));
}

function attributes(config: ResolvedConfig, context: RequestContext) {
  return { secure: context.secure, sameSite: config.sameSite, domain: config.cookieDomain };
}

/**
 * Queues `Set-Cookie` lines that store `value` as the session cookie, split
 * into chunks when needed, and expire the request's pieces that the new value
 * no longer uses. A value over the size budget is refused before anything is
 * queued, so a user is never handed a cookie that gets every request refused.
 */
export function writeSessionCookie(config: ResolvedConfig, context: RequestContext, value: string, expires: Date): void {
  if (value.length > config.maxCookieSize) {
    throw new SessionServerError("session_too_large", `session is ${value.length} bytes; the cookie budget is ${config.maxCookieSize}`);
  }
  const chunks = splitIntoChunks(context.names.sessionToken, value);
  const kept = new Set(chunks.map((chunk) => chunk.name));
  for (const chunk of chunks) {
    context.setCookies.push(serializeCookie(chunk.name, chunk.value, { ...attributes(config, context), expires }, context.now));
  }
  for (const name of presentSessionNames(config, context)) {
    if (!kept.has(name)) context.setCookies.push(serializeClearedCookie(name, attributes(config, context)));
  }
}

/** Logs why the request's session cookie is refused and, unless told not to, queues its removal; answers null (no session). */
export function refuseSessionCookie(config: ResolvedConfig, context: RequestContext, reason: CookieRejection, clear = true): null {
  config.logger.warn(reason, { path: context.url.pathname });
  if (clear) clearSessionCookie(config, context);
  return null;
}

/**
 * Queues `Set-Cookie` lines that expire every piece of the session cookie the request sent (our own names
 * only), and its cached row (`session.cookieCache`), which must never outlive the session in the browser.
 */
export function clearSessionCookie(config: ResolvedConfig, context: RequestContext): void {
  for (const name of presentSessionNames(config, context)) {
    context.setCookies.push(serializeClearedCookie(name, attributes(config, context)));
  }
  clearCachedRow(config, context);
}

/** Expires the cached row the request sent, if any (a sign-out, or a cache found stale). */
export function clearCachedRow(config: ResolvedConfig, context: RequestContext): void {
  if (context.jar.has(context.names.sessionData)) context.setCookies.push(serializeClearedCookie(context.names.sessionData, attributes(config, context)));
}

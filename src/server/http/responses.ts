import type { RequestContext } from "../context.js";

/** Session answers are per user: no shared cache may keep them. */
const CACHE_CONTROL = "private, no-store";

/** The headers of every JSON answer. */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ "content-type": "application/json", "cache-control": CACHE_CONTROL });

/**
 * A JSON response carrying the request's queued cookies. Session answers are
 * per user and must never be stored by a shared cache.
 */
export function jsonResponse(context: RequestContext, body: unknown, status = 200): Response {
  // Most answers set no cookie: a plain header list then costs less than a `Headers` object.
  if (context.setCookies.length === 0) return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
  const headers = new Headers(JSON_HEADERS);
  for (const cookie of context.setCookies) headers.append("set-cookie", cookie);
  return new Response(JSON.stringify(body), { status, headers });
}

/** A redirect carrying the request's queued cookies. */
export function redirectResponse(context: RequestContext, location: string, extraHeader?: readonly [string, string]): Response {
  const headers = new Headers({ location, "cache-control": CACHE_CONTROL });
  if (extraHeader) headers.set(...extraHeader);
  for (const cookie of context.setCookies) headers.append("set-cookie", cookie);
  return new Response(null, { status: 302, headers });
}

export interface FormOutcomeOptions {
  /** The status of a failed outcome for next-auth v4's `json=true` form, which reads `ok` from it. */
  failedStatus?: number;
  /** More fields for the JSON answers, beside `url`. */
  body?: Record<string, unknown>;
  /** One more header, for every form of the answer (a redirect has no body to say it in). */
  header?: readonly [string, string];
}

/**
 * How the Auth.js clients want the outcome of a form post: next-auth v4 posts
 * `json=true` and reads `{ url }` (and `ok`), v5 sends `X-Auth-Return-Redirect: 1`;
 * a plain HTML form gets a 302.
 */
export function formOutcome(context: RequestContext, fields: Record<string, unknown>, url: string, options: FormOutcomeOptions = {}): Response {
  const json = fields.json === "true" || fields.json === true;
  const response =
    json || context.request.headers.get("x-auth-return-redirect") === "1"
      ? jsonResponse(context, { url, ...options.body }, json ? (options.failedStatus ?? 200) : 200)
      : redirectResponse(context, url, options.header);
  if (options.header && response.status !== 302) response.headers.set(...options.header);
  return response;
}

import type { ResolvedConfig } from "./config.js";
import { parseCookieHeader, type CookieJar } from "./cookies/header.js";
import type { CookieNames } from "./cookies/names.js";
import { SessionConfigError } from "./errors.js";
import { forwardedOrigin } from "./http/host.js";

/** What one request needs to know about itself, computed once. */
export interface RequestContext {
  request: Request;
  url: URL;
  /** The site's origin: the configured `url`, else the request's own. */
  origin: string;
  secure: boolean;
  names: CookieNames;
  jar: CookieJar;
  /** Milliseconds since epoch, read once per request so every check agrees. */
  now: number;
  /** `Set-Cookie` values the response will carry. */
  setCookies: string[];
}

export function createRequestContext(config: ResolvedConfig, request: Request): RequestContext {
  const url = new URL(request.url);
  const origin = config.publicOrigin ?? (config.trustHost ? forwardedOrigin(request.headers) : undefined) ?? url.origin;
  const secure = config.secure === "auto" ? origin.startsWith("https:") : config.secure;
  return {
    request,
    url,
    origin,
    secure,
    names: secure ? config.cookieNames.secure : config.cookieNames.plain,
    jar: parseCookieHeader(request.headers.get("cookie")),
    now: config.clock(),
    setCookies: [],
  };
}

/**
 * The context of a read that only has the request's headers (server
 * rendering: `getSession(await headers())`). The cookie names depend on
 * whether the site is https, which headers cannot tell: the configured `url`
 * (or an explicit `cookies.secure`) does, never a placeholder URL, whose
 * `http:` would pick the unprefixed name that a sibling subdomain can plant.
 */
export function createReadContext(config: ResolvedConfig, input: Request | Headers): RequestContext {
  if (input instanceof Request) return createRequestContext(config, input);
  const origin = config.publicOrigin ?? (config.secure === true ? "https://localhost" : config.secure === false ? "http://localhost" : undefined);
  if (origin === undefined) {
    throw new SessionConfigError(
      'sessionpulse: getSession(headers) needs the site\'s public origin to pick the cookie names: set `url` (e.g. "https://app.example.com") or `cookies.secure`, or pass the incoming Request',
    );
  }
  return createRequestContext(config, new Request(origin, { headers: input }));
}

import type { Session } from "../shared/session.js";
import { createSessionApi, type SessionApi } from "./api.js";
import { resolveConfig, type ResolvedConfig } from "./config.js";
import { SessionConfigError, SessionServerError } from "./errors.js";
import { createCsrfTokens } from "./http/csrf.js";
import { createReadContext, createRequestContext, type RequestContext } from "./context.js";
import { JSON_HEADERS, jsonResponse } from "./http/responses.js";
import { oauthRoute } from "./http/oauth-routes.js";
import { guardedFields, routes, type RouteDeps } from "./http/routes.js";
import { createOAuthFlows } from "./oauth/flow.js";
import { createProviderTokens } from "./oauth/provider-tokens.js";
import { createSessions } from "./session/sessions.js";
import { guardStore } from "./stores/guard.js";
import type { SessionHandlerConfig } from "./types.js";

/** What {@link createSessionHandler} returns. */
export interface SessionHandler {
  /** Answers every request under `basePath`; never throws, never answers 5xx for bad input. */
  handler: (request: Request) => Promise<Response>;
  /**
   * The session of an incoming request, for server rendering and API guards:
   * the `Request`, or only its headers (`getSession(await headers())` in a
   * Next.js Server Component). Applies the same checks as `GET /session` but
   * only reads: it cannot set cookies, so re-issuing, sliding the expiry and
   * converting a cookie after a strategy switch stay with `GET /session`, which
   * the client calls. The cookie names follow the configured `url` (https:
   * the `__Secure-` name); with headers alone and no `url` (nor
   * `cookies.secure`) it throws a `SessionConfigError` saying so.
   *
   * @example
   * ```ts
   * const session = await auth.getSession(request);
   * if (!session) return new Response("sign in first", { status: 401 });
   * ```
   */
  getSession: (request: Request | Headers) => Promise<Session | null>;
  /**
   * The server API for app code: start a session for a user your code signed in, read it with its side
   * effects, sign out, revoke one, the others or all of a user's sessions, require a fresh sign-in.
   *
   * @example
   * ```ts
   * const { applyTo } = await auth.api.signIn(request, { id: user.id, email: user.email });
   * return applyTo(Response.redirect(new URL("/", request.url), 303));
   * ```
   */
  api: SessionApi;
}

function errorResponse(config: ResolvedConfig, context: RequestContext | undefined, error: unknown): Response {
  const known = error instanceof SessionServerError ? error : new SessionServerError("internal_error", "unexpected error", { cause: error });
  const details = { path: context?.url.pathname, message: known.message };
  if (known.status >= 500) {
    config.logger.error(known.code, { ...details, cause: known.cause });
    // A server-side failure must not sign the user out: drop queued cookie changes.
    if (context) context.setCookies.length = 0;
  } else {
    config.logger.warn(known.code, details);
  }
  const body = { error: known.code, message: known.message };
  if (!context) return new Response(JSON.stringify(body), { status: known.status, headers: JSON_HEADERS });
  const response = jsonResponse(context, body, known.status);
  if (known.code === "store_unavailable") response.headers.set("retry-after", "5");
  if (known.code === "method_not_allowed") {
    const action = routeName(config, context.url.pathname);
    response.headers.set("allow", Object.keys((action && routes[action]) ?? {}).join(", "));
  }
  return response;
}

/** A handler whose secret is missing: each use says so (a 500 from `handler`, a `SessionConfigError` from the rest). */
function withoutSecret(options: SessionHandlerConfig): SessionHandler {
  const config = resolveConfig({ ...options, secret: "placeholder-only-to-check-the-other-options" });
  const missing = () =>
    new SessionConfigError("sessionpulse: `secret` is required: a string of at least 32 bytes (set AUTH_SECRET, e.g. `openssl rand -base64 33`)");
  const fail = () => Promise.reject(missing());
  return {
    handler: (request) =>
      Promise.resolve(errorResponse(config, undefined, new SessionServerError("internal_error", missing().message, { cause: request.url }))),
    getSession: fail,
    api: {
      signIn: fail,
      getSession: fail,
      signOut: fail,
      listSessions: fail,
      revokeSession: fail,
      revokeOtherSessions: fail,
      revokeUserSessions: fail,
      requireFreshSession: fail,
      getProviderToken: fail,
    },
  };
}

function routeName(config: ResolvedConfig, pathname: string): string | undefined {
  const prefix = `${config.basePath}/`;
  if (!pathname.startsWith(prefix)) return undefined;
  return pathname.slice(prefix.length).replace(/\/+$/, "");
}

/**
 * Creates the session server: a Web-standard `(Request) => Promise<Response>`
 * serving the Auth.js wire format under `basePath`, with the JWT strategy.
 * Options are checked here; a mistake throws a `SessionConfigError`.
 *
 * @example
 * ```ts
 * import { createSessionHandler } from "sessionpulse/server";
 *
 * const auth = createSessionHandler({
 *   secret: process.env.AUTH_SECRET!,
 *   authorize: async ({ email, password }) => (await checkPassword(email, password)) ?? null,
 * });
 * export const GET = auth.handler;
 * export const POST = auth.handler;
 * ```
 */
export function createSessionHandler(options: SessionHandlerConfig): SessionHandler {
  // No secret at all (`process.env.AUTH_SECRET` unset) is what a build step sees (`next build` evaluates
  // route modules): every other option is checked now, the secret when the handler is first used.
  if (typeof options === "object" && options !== null && options.secret === undefined) return withoutSecret(options);
  const config = resolveConfig(options);
  const store = config.store && guardStore(config.store, config.storeTimeout);
  // A driver that is not installed would otherwise be found by the first sign-in: say so now, with the fix.
  store
    ?.prepare?.()
    .catch((cause: unknown) => config.logger.error("store_misconfigured", { message: cause instanceof Error ? cause.message : String(cause), cause }));
  const oauth = createOAuthFlows(config);
  const sessions = createSessions(config, store, createProviderTokens(config, store, oauth));
  const deps: RouteDeps = { config, csrf: createCsrfTokens(config.secrets), sessions, oauth };
  const oauthDeps = { config, sessions, flows: deps.oauth, guardedFields: (context: RequestContext) => guardedFields(deps, context) };

  async function handler(request: Request): Promise<Response> {
    let context: RequestContext | undefined;
    try {
      context = createRequestContext(config, request);
      const action = routeName(config, context.url.pathname);
      const byMethod = action === undefined ? undefined : routes[action];
      const provider = !byMethod && action !== undefined ? /^(signin|callback)\/([A-Za-z0-9_-]{1,64})$/.exec(action) : null;
      if (provider && deps.oauth.has(provider[2]!)) {
        const answer = await oauthRoute(oauthDeps, context, provider[1] as "signin" | "callback", provider[2]!);
        if (answer) return answer;
        throw new SessionServerError("method_not_allowed", `${request.method} is not allowed here`);
      }
      if (!byMethod) throw new SessionServerError("not_found", "no such endpoint");
      const route = byMethod[request.method];
      if (!route) throw new SessionServerError("method_not_allowed", `${request.method} is not allowed here`);
      return await route(deps, context);
    } catch (error) {
      return errorResponse(config, context, error);
    }
  }

  async function getSession(request: Request | Headers): Promise<Session | null> {
    return deps.sessions.current(createReadContext(config, request), { refresh: false });
  }

  return { handler, getSession, api: createSessionApi(config, sessions) };
}

import type { ResolvedConfig } from "../config.js";
import { serializeCookie } from "../cookies/set-cookie.js";
import { SessionServerError } from "../errors.js";
import type { OAuthFlows } from "../oauth/flow.js";
import type { Sessions } from "../session/sessions.js";
import type { Credentials, User } from "../types.js";
import { readFields, type RequestFields } from "./body.js";
import type { CsrfTokens } from "./csrf.js";
import { assertSameOrigin, safeRedirect } from "./origin.js";
import type { RequestContext } from "../context.js";
import { formOutcome, jsonResponse } from "./responses.js";

export interface RouteDeps {
  config: ResolvedConfig;
  csrf: CsrfTokens;
  sessions: Sessions;
  oauth: OAuthFlows;
}

type Route = (deps: RouteDeps, context: RequestContext) => Promise<Response>;

/** Fields of a sign-in form that are protocol, not credentials. */
const PROTOCOL_FIELDS = new Set(["csrfToken", "callbackUrl", "json", "redirect", "redirectTo"]);

function csrfCookie(context: RequestContext): string | undefined {
  const values = context.jar.get(context.names.csrfToken);
  // Two CSRF cookies means one was planted: trust neither.
  return values?.length === 1 ? values[0] : undefined;
}

/** Origin check, body, then CSRF: the gate of every state-changing request. */
export async function guardedFields({ config, csrf }: RouteDeps, context: RequestContext): Promise<RequestFields> {
  assertSameOrigin(config, context);
  const fields = await readFields(context.request);
  if (!(await csrf.verify(csrfCookie(context), fields.csrfToken))) {
    throw new SessionServerError("csrf_invalid", "CSRF token missing or wrong; GET /csrf and send it as csrfToken");
  }
  return fields;
}

const getSession: Route = async ({ config, sessions }, context) => {
  const session = await sessions.current(context);
  return jsonResponse(context, session ?? config.signedOutBody);
};

const updateSession: Route = async (deps, context) => {
  const fields = await guardedFields(deps, context);
  const session = await deps.sessions.update(context, fields.data);
  return jsonResponse(context, session);
};

const getCsrf: Route = async ({ config, csrf }, context) => {
  const existing = await csrf.read(csrfCookie(context));
  if (existing) return jsonResponse(context, { csrfToken: existing });
  const { token, cookieValue } = await csrf.issue();
  context.setCookies.push(serializeCookie(context.names.csrfToken, cookieValue, { secure: context.secure, sameSite: config.sameSite }, context.now));
  return jsonResponse(context, { csrfToken: token });
};

/** The Auth.js shape: `next-auth/react`'s `signIn("<id>")` and ours read it. */
const getProviders: Route = async ({ config, oauth }, context) => {
  const base = `${context.origin}${config.basePath}`;
  const entry = (id: string, name: string, type: string) => ({ id, name, type, signinUrl: `${base}/signin/${id}`, callbackUrl: `${base}/callback/${id}` });
  const providers: Record<string, ReturnType<typeof entry>> = {};
  if (config.authorize) providers.credentials = entry("credentials", "Credentials", "credentials");
  for (const provider of oauth.list()) providers[provider.id] = entry(provider.id, provider.name, provider.type);
  return jsonResponse(context, providers);
};

function signInErrorUrl(config: ResolvedConfig, context: RequestContext, error: string): string {
  const page = new URL(config.signInPage, context.origin);
  page.searchParams.set("error", error);
  page.searchParams.set("code", "credentials");
  return page.href;
}

const signInWithCredentials: Route = async (deps, context) => {
  const { config, sessions } = deps;
  const authorize = config.authorize;
  if (!authorize) throw new SessionServerError("provider_not_configured", "no credentials provider: pass `authorize`");
  const fields = await guardedFields(deps, context);
  const credentials: Credentials = {};
  for (const [key, value] of Object.entries(fields)) {
    if (PROTOCOL_FIELDS.has(key)) continue;
    if (typeof value === "string") credentials[key] = value;
    else if (typeof value === "number" || typeof value === "boolean") credentials[key] = String(value);
  }

  let user: User | null;
  try {
    user = await authorize(credentials, context.request);
  } catch (cause) {
    throw new SessionServerError("callback_error", "authorize threw", { cause });
  }
  if (user !== null && (typeof user !== "object" || user.id === undefined || user.id === null)) {
    throw new SessionServerError("callback_error", "authorize must return a user with an id, or null");
  }
  if (!user || !(await sessions.signIn(context, user))) {
    config.logger.debug("credentials_signin_refused", { path: context.url.pathname });
    return formOutcome(context, fields, signInErrorUrl(config, context, user ? "AccessDenied" : "CredentialsSignin"), { failedStatus: 401 });
  }
  return formOutcome(context, fields, safeRedirect(config, context, fields.callbackUrl ?? fields.redirectTo));
};

const signOut: Route = async (deps, context) => {
  const fields = await guardedFields(deps, context);
  const { error } = await deps.sessions.signOut(context);
  const url = safeRedirect(deps.config, context, fields.callbackUrl ?? fields.redirectTo);
  // The cookie is cleared either way; when the revocation could not be recorded, the answer says so.
  return formOutcome(context, fields, url, error ? { body: { revoked: false, error }, header: ["x-session-revocation", "not-recorded"] } : {});
};

const listSessions: Route = async ({ sessions }, context) => jsonResponse(context, await sessions.list(context));

const revokeSessions: Route = async (deps, context) => {
  const fields = await guardedFields(deps, context);
  if (fields.all === true || fields.all === "true") await deps.sessions.revoke(context, { all: true });
  else if (fields.others === true || fields.others === "true") await deps.sessions.revoke(context, { others: true });
  else if (typeof fields.id === "string" && fields.id.length > 0) await deps.sessions.revoke(context, { id: fields.id });
  else throw new SessionServerError("body_malformed", "send { id }, { others: true } or { all: true }");
  return jsonResponse(context, { ok: true });
};

/** Endpoints under `basePath`, by path then method. */
export const routes: Record<string, Partial<Record<string, Route>>> = {
  session: { GET: getSession, POST: updateSession },
  csrf: { GET: getCsrf },
  providers: { GET: getProviders },
  "callback/credentials": { POST: signInWithCredentials },
  signout: { POST: signOut },
  sessions: { GET: listSessions },
  "sessions/revoke": { POST: revokeSessions },
};

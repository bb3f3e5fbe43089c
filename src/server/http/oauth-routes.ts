import type { ResolvedConfig } from "../config.js";
import type { RequestContext } from "../context.js";
import { OAuthFlowError, type OAuthFlows } from "../oauth/flow.js";
import type { Sessions } from "../session/sessions.js";
import { safeRedirect } from "./origin.js";
import { formOutcome, redirectResponse } from "./responses.js";

export interface OAuthRouteDeps {
  config: ResolvedConfig;
  sessions: Sessions;
  flows: OAuthFlows;
  /** The origin, body and CSRF checks of a state-changing request. */
  guardedFields: (context: RequestContext) => Promise<Record<string, unknown>>;
}

/** The page a failed provider sign-in lands on, with Auth.js's `error=` code. */
function errorUrl(config: ResolvedConfig, context: RequestContext, code: string, provider: string): string {
  const page = new URL(config.errorPage, context.origin);
  page.searchParams.set("error", code);
  page.searchParams.set("provider", provider);
  return page.href;
}

function failed(deps: OAuthRouteDeps, context: RequestContext, provider: string, error: unknown): string {
  if (!(error instanceof OAuthFlowError)) throw error;
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  deps.config.logger.warn("oauth_signin_failed", { provider, error: error.code, message: error.message, ...(cause && { cause }) });
  return errorUrl(deps.config, context, error.code, provider);
}

/**
 * `GET|POST {basePath}/signin/<provider>` and `GET {basePath}/callback/<provider>`. Every outcome is a
 * redirect (or, for the Auth.js clients' POST, `{ url }`): a provider that is down, a denied consent, a
 * bad `state` or a replayed code end on the error page with `error=`, never a 5xx.
 */
export async function oauthRoute(deps: OAuthRouteDeps, context: RequestContext, step: "signin" | "callback", provider: string): Promise<Response | undefined> {
  const { config, sessions, flows } = deps;
  const method = context.request.method;
  if (step === "signin" && method === "GET") {
    const callbackUrl = safeRedirect(config, context, context.url.searchParams.get("callbackUrl") ?? undefined);
    const url = await flows.start(context, provider, callbackUrl).catch((error: unknown) => failed(deps, context, provider, error));
    return redirectResponse(context, url);
  }
  if (step === "signin" && method === "POST") {
    // next-auth/react and sessionpulse's signIn("<provider>"): CSRF-checked, answered with `{ url }`.
    const fields = await deps.guardedFields(context);
    const callbackUrl = safeRedirect(config, context, fields.callbackUrl ?? fields.redirectTo);
    const url = await flows.start(context, provider, callbackUrl).catch((error: unknown) => failed(deps, context, provider, error));
    return formOutcome(context, fields, url);
  }
  if (step === "callback" && method === "GET") {
    let target: string;
    try {
      const { user, callbackUrl, tokens } = await flows.finish(context, provider);
      target = (await sessions.signIn(context, user, { provider, tokens })) ? callbackUrl : errorUrl(config, context, "AccessDenied", provider);
    } catch (error) {
      target = failed(deps, context, provider, error);
    }
    return redirectResponse(context, target);
  }
  return undefined;
}

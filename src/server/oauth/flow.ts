import * as oauth from "oauth4webapi";
import type { ResolvedConfig } from "../config.js";
import type { RequestContext } from "../context.js";
import { serializeClearedCookie, serializeCookie } from "../cookies/set-cookie.js";
import type { User } from "../types.js";
import { createSealer } from "../jwt/sealed.js";
import { defaultUser, isLoopback, type OAuthProvider, type ProviderProfile, type ProviderTokens } from "./providers.js";

/** How long a started sign-in may take at the provider (consent page included), seconds. */
const STATE_TTL = 600;

/** Why a provider sign-in ended without a session, as Auth.js names it (the `error=` of the page it lands on). */
export type OAuthErrorCode = "OAuthSignin" | "OAuthCallbackError" | "AccessDenied";

export class OAuthFlowError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A refresh of a session's provider tokens that did not happen: `refused` when the provider turned the
 * refresh token down (revoked, expired, already used: the user must sign in with it again), else the
 * provider could not be reached or answered something else (a later attempt may work).
 */
export class ProviderRefreshError extends Error {
  constructor(
    readonly refused: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Longest wait for a provider's token endpoint during a refresh, ms: a request waiting on it is a user waiting. */
const REFRESH_TIMEOUT = 5_000;

/** What the browser carries between the redirect to the provider and its return: sealed, for this provider, short-lived. */
interface PendingSignIn {
  provider: string;
  verifier: string;
  state: string;
  nonce?: string;
  callbackUrl: string;
}

/** The key derivation of the session cookie, with its own salt: a sealed pending sign-in never opens as a session, nor the reverse. */
const STATE_SALT = "sessionpulse.oauth-state";

/**
 * OpenID Connect and OAuth 2 sign-in on `oauth4webapi`: the redirect to the provider with PKCE (S256),
 * `state` and (OIDC) `nonce` held in a sealed cookie, and the callback that checks them, exchanges the
 * code, validates the ID token and maps the profile to a user.
 */
export function createOAuthFlows(config: ResolvedConfig) {
  const providers = new Map(config.providers.map((provider) => [provider.id, provider]));
  const discovered = new Map<string, Promise<oauth.AuthorizationServer>>();
  const sealer = createSealer(config.secrets, STATE_SALT);

  const stateCookie = (context: RequestContext) => `${context.secure ? "__Secure-" : ""}${config.cookiePrefix}.oauth-state`;
  const attributes = (context: RequestContext) => ({ secure: context.secure, sameSite: "Lax" as const, domain: config.cookieDomain });
  const redirectUri = (context: RequestContext, provider: OAuthProvider) => `${context.origin}${config.basePath}/callback/${provider.id}`;
  const client = (provider: OAuthProvider): oauth.Client => ({ client_id: provider.clientId });
  const clientAuth = (provider: OAuthProvider) => (provider.clientSecret ? oauth.ClientSecretPost(provider.clientSecret) : oauth.None());
  /** http is allowed only on loopback (a provider in tests or on a developer's machine). */
  const requestOptions = (url: string) => ({ [oauth.allowInsecureRequests]: isLoopback(new URL(url)) });

  function server(provider: OAuthProvider): Promise<oauth.AuthorizationServer> {
    if (provider.type === "oauth") {
      return Promise.resolve({
        issuer: new URL(provider.authorization).origin,
        authorization_endpoint: provider.authorization,
        token_endpoint: provider.token,
        userinfo_endpoint: provider.userinfo,
      });
    }
    let found = discovered.get(provider.id);
    if (!found) {
      const issuer = new URL(provider.issuer);
      found = oauth
        .discoveryRequest(issuer, { algorithm: "oidc", ...requestOptions(provider.issuer) })
        .then((response) => oauth.processDiscoveryResponse(issuer, response));
      // A provider down at start-up must not stay "down" for the life of the process.
      found.catch(() => discovered.delete(provider.id));
      discovered.set(provider.id, found);
    }
    return found;
  }

  return {
    has: (id: string) => providers.has(id),
    list: () => [...providers.values()],

    /** Where to send the browser to sign in with `id`; the pending sign-in goes into a cookie on `context`. */
    async start(context: RequestContext, id: string, callbackUrl: string): Promise<string> {
      const provider = providers.get(id)!;
      let as: oauth.AuthorizationServer;
      try {
        as = await server(provider);
      } catch (cause) {
        throw new OAuthFlowError("OAuthSignin", `provider ${id} could not be reached for discovery`, { cause });
      }
      if (!as.authorization_endpoint) throw new OAuthFlowError("OAuthSignin", `provider ${id} has no authorization endpoint`);
      const verifier = oauth.generateRandomCodeVerifier();
      const pending: PendingSignIn = { provider: id, verifier, state: oauth.generateRandomState(), callbackUrl };
      if (provider.type === "oidc") pending.nonce = oauth.generateRandomNonce();
      const url = new URL(as.authorization_endpoint);
      url.searchParams.set("client_id", provider.clientId);
      url.searchParams.set("redirect_uri", redirectUri(context, provider));
      url.searchParams.set("response_type", "code");
      url.searchParams.set("scope", provider.scope ?? (provider.type === "oidc" ? "openid email profile" : ""));
      url.searchParams.set("state", pending.state);
      url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(verifier));
      url.searchParams.set("code_challenge_method", "S256");
      if (pending.nonce) url.searchParams.set("nonce", pending.nonce);
      const expires = new Date(context.now + STATE_TTL * 1000);
      context.setCookies.push(
        serializeCookie(stateCookie(context), await sealer.seal({ ...pending }, context.now, STATE_TTL), { ...attributes(context), expires }, context.now),
      );
      return url.href;
    },

    /** The provider sent the browser back: checks it, exchanges the code, maps the profile. The pending sign-in is used up either way. */
    async finish(context: RequestContext, id: string): Promise<{ user: User; callbackUrl: string; tokens: ProviderTokens }> {
      const provider = providers.get(id)!;
      const values = context.jar.get(stateCookie(context));
      context.setCookies.push(serializeClearedCookie(stateCookie(context), attributes(context)));
      // One cookie exactly: two means one was planted.
      const pending = values?.length === 1 ? await sealer.open<PendingSignIn>(values[0], context.now) : undefined;
      if (!pending || pending.provider !== id)
        throw new OAuthFlowError("OAuthCallbackError", "no sign-in with this provider is pending in this browser (expired, or another browser's)");
      const as = await server(provider).catch((cause: unknown) => {
        throw new OAuthFlowError("OAuthCallbackError", `provider ${id} could not be reached`, { cause });
      });
      let parameters: URLSearchParams;
      try {
        parameters = oauth.validateAuthResponse(as, client(provider), context.url, pending.state);
      } catch (cause) {
        const denied = cause instanceof oauth.AuthorizationResponseError && cause.error === "access_denied";
        throw new OAuthFlowError(
          denied ? "AccessDenied" : "OAuthCallbackError",
          denied ? "the user declined at the provider" : "the provider's answer did not match this sign-in",
          { cause },
        );
      }
      let tokens: ProviderTokens;
      let profile: ProviderProfile;
      try {
        const options = requestOptions(as.token_endpoint!);
        const response = await oauth.authorizationCodeGrantRequest(
          as,
          client(provider),
          clientAuth(provider),
          parameters,
          redirectUri(context, provider),
          pending.verifier,
          options,
        );
        const result = await oauth.processAuthorizationCodeResponse(as, client(provider), response, {
          ...(pending.nonce ? { expectedNonce: pending.nonce, requireIdToken: true } : {}),
        });
        tokens = result;
        if (provider.type === "oidc") {
          profile = { ...oauth.getValidatedIdTokenClaims(result) };
        } else {
          const info = await fetch(provider.userinfo, { headers: { authorization: `Bearer ${result.access_token}`, accept: "application/json" } });
          if (!info.ok) throw new Error(`userinfo answered ${info.status}`);
          profile = (await info.json()) as ProviderProfile;
        }
      } catch (cause) {
        throw new OAuthFlowError(
          "OAuthCallbackError",
          `the code exchange with ${id} failed (replayed or expired code, wrong client, or the provider is down)`,
          { cause },
        );
      }
      let user: User | null;
      try {
        user = await (provider.profile ?? defaultUser)(profile, tokens);
      } catch (cause) {
        throw new OAuthFlowError("OAuthCallbackError", `the profile callback of ${id} threw`, { cause });
      }
      if (!user || typeof user.id !== "string" || user.id === "") throw new OAuthFlowError("AccessDenied", `the profile callback of ${id} refused the user`);
      return { user, callbackUrl: pending.callbackUrl, tokens };
    },

    /** New tokens for `refreshToken` from provider `id`'s token endpoint (the ID token, if any, validated). */
    async refresh(id: string, refreshToken: string): Promise<ProviderTokens> {
      const provider = providers.get(id);
      if (!provider) throw new ProviderRefreshError(true, `provider ${id} is no longer configured`);
      let as: oauth.AuthorizationServer;
      try {
        as = await server(provider);
      } catch (cause) {
        throw new ProviderRefreshError(false, `provider ${id} could not be reached for discovery`, { cause });
      }
      let response: Response;
      try {
        response = await oauth.refreshTokenGrantRequest(as, client(provider), clientAuth(provider), refreshToken, {
          ...requestOptions(as.token_endpoint!),
          signal: AbortSignal.timeout(REFRESH_TIMEOUT),
        });
      } catch (cause) {
        throw new ProviderRefreshError(false, `the token endpoint of ${id} could not be reached`, { cause });
      }
      try {
        return await oauth.processRefreshTokenResponse(as, client(provider), response);
      } catch (cause) {
        // invalid_grant is the provider's "no": the refresh token is dead. Anything else (a 5xx, a bad body) may pass.
        const refused = cause instanceof oauth.ResponseBodyError && (cause.error === "invalid_grant" || cause.error === "unauthorized_client");
        throw new ProviderRefreshError(
          refused,
          `the provider ${id} ${refused ? `refused the refresh token (${cause.error})` : "answered the refresh with an error"}`,
          {
            cause,
          },
        );
      }
    },
  };
}

export type OAuthFlows = ReturnType<typeof createOAuthFlows>;

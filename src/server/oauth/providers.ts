import type { User } from "../types.js";

/** What a provider's user info looks like before `profile` maps it: ID token claims (OIDC) or the API's user (OAuth 2). */
export type ProviderProfile = Record<string, unknown>;

/** The provider's tokens, as the token endpoint answered them. */
export interface ProviderTokens {
  access_token: string;
  token_type: string;
  expires_in?: number | undefined;
  refresh_token?: string | undefined;
  id_token?: string | undefined;
  scope?: string | undefined;
}

interface CommonProvider {
  /** The path segment: `GET {basePath}/signin/<id>`, `GET {basePath}/callback/<id>`. */
  id: string;
  /** Shown by sign-in pages (`GET /providers`). */
  name: string;
  clientId: string;
  /** Absent for a public client (PKCE only). */
  clientSecret?: string | undefined;
  /** Space-separated scopes to ask for. */
  scope?: string | undefined;
  /**
   * Maps the provider's profile to your user (look up or create your account here); `null` refuses the
   * sign-in (`error=AccessDenied`). The default takes `sub`/`id`, `name`, `email` and `picture`/`avatar_url`.
   */
  profile?: ((profile: ProviderProfile, tokens: ProviderTokens) => User | null | Promise<User | null>) | undefined;
  /**
   * Keep the provider's tokens with the session, sealed (encrypted under `secret`) in the `store` and never
   * sent to the browser, and refresh the access token ahead of its expiry: at most once per session across
   * tabs (the polling tab's `GET /session` does it) and across servers (a short lock in the store), so a
   * rotating refresh token is never used twice. Read them in server code with `auth.api.getProviderToken`.
   * Needs a `store` (either strategy). Default false: the tokens are used for the sign-in and dropped.
   */
  keepTokens?: boolean | undefined;
  /** Seconds before the access token expires at which it is refreshed: default 300, or half its lifetime when that is shorter. */
  refreshAhead?: number | undefined;
}

/** An OpenID Connect provider, configured by discovery from its issuer URL. The ID token is validated (signature, issuer, audience, nonce, expiry). */
export interface OidcProvider extends CommonProvider {
  type: "oidc";
  /** The issuer URL (`/.well-known/openid-configuration` is read from it). https, or http on loopback only. */
  issuer: string;
}

/** A plain OAuth 2 provider (no ID token): the user comes from `userinfo`, called with the access token. */
export interface OAuth2Provider extends CommonProvider {
  type: "oauth";
  authorization: string;
  token: string;
  userinfo: string;
}

export type OAuthProvider = OidcProvider | OAuth2Provider;

/**
 * Any OpenID Connect provider, by its issuer URL (Google, Microsoft Entra, Auth0, Keycloak, Okta, …).
 *
 * @example
 * ```ts
 * providers: [oidc({ id: "google", name: "Google", issuer: "https://accounts.google.com", clientId, clientSecret })]
 * ```
 */
export function oidc(options: Omit<OidcProvider, "type">): OidcProvider {
  return { scope: "openid email profile", ...options, type: "oidc" };
}

/**
 * GitHub (OAuth 2, no OpenID Connect): the user from `GET https://api.github.com/user`.
 *
 * @example
 * ```ts
 * providers: [github({ clientId: process.env.GITHUB_ID!, clientSecret: process.env.GITHUB_SECRET! })]
 * ```
 */
export function github(
  options: Pick<CommonProvider, "clientId" | "clientSecret" | "profile"> & { id?: string; name?: string; scope?: string },
): OAuth2Provider {
  return {
    id: "github",
    name: "GitHub",
    scope: "read:user user:email",
    authorization: "https://github.com/login/oauth/authorize",
    token: "https://github.com/login/oauth/access_token",
    userinfo: "https://api.github.com/user",
    ...options,
    type: "oauth",
  };
}

/** The default mapping: the provider's subject as the user id. */
export function defaultUser(profile: ProviderProfile): User | null {
  const id = profile.sub ?? profile.id;
  if ((typeof id !== "string" && typeof id !== "number") || String(id) === "") return null;
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  return {
    id: String(id),
    name: text(profile.name) ?? text(profile.login),
    email: text(profile.email),
    image: text(profile.picture) ?? text(profile.avatar_url),
  };
}

/** A provider on this machine (tests, a developer's own): the only place plain http is accepted. */
export const isLoopback = (url: URL) => ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);

/**
 * `sessionpulse/server`: the session server. Fetch and Web Crypto only, so it
 * runs on Node ≥ 20, Deno, Bun and edge runtimes.
 *
 * @packageDocumentation
 */
export { createSessionHandler, type SessionHandler } from "./handler.js";
export type { SessionApi, SessionApiResult } from "./api.js";
export { github, oidc, type OAuth2Provider, type OAuthProvider, type OidcProvider, type ProviderProfile, type ProviderTokens } from "./oauth/providers.js";
export type { ProviderToken } from "./oauth/provider-tokens.js";
export { memoryStore } from "./stores/memory.js";
export type { Store, StoredSession } from "./stores/store.js";
export { StoreInputError } from "./stores/input-error.js";
export { StoreSetupError } from "./stores/setup-error.js";
export { toNodeHandler, type NodeRequestLike, type NodeResponseLike } from "./http/node-handler.js";
export { SessionConfigError, SessionServerError, type CookieRejection, type SessionServerErrorCode } from "./errors.js";
export type {
  Authorize,
  Credentials,
  CookieOptions,
  JWT,
  JwtCallbackParams,
  JwtOptions,
  Session,
  SessionCallbackParams,
  SessionCallbacks,
  SessionHandlerConfig,
  SessionLogger,
  SessionOptions,
  TokenCacheOptions,
  User,
} from "./types.js";
export type { SessionListing, SessionUser } from "../shared/session.js";

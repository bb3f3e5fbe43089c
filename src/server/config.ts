import { isLoopback, type OAuth2Provider, type OAuthProvider, type OidcProvider } from "./oauth/providers.js";
import { SessionConfigError } from "./errors.js";
import { cookieNames, type CookieNames } from "./cookies/names.js";
import { STORE_METHODS, type Store } from "./stores/store.js";
import type { LruBounds } from "./jwt/token-cache.js";
import type { Authorize, SessionCallbacks, SessionHandlerConfig, SessionLogger } from "./types.js";

const DAY = 86_400;
const MIN_SECRET_BYTES = 32;

/** Options after defaults and checks; every field is present and valid. */
export interface ResolvedConfig {
  secrets: readonly string[];
  strategy: "jwt" | "database";
  migrateFrom: "jwt" | "database" | undefined;
  store: Store | undefined;
  storeTimeout: number;
  basePath: string;
  maxAge: number;
  updateAge: number;
  maxLifetime: number | undefined;
  freshAge: number;
  /** The database strategy's row cache in a cookie, in seconds; undefined when off. */
  cookieCacheAge: number | undefined;
  authorize: Authorize | undefined;
  callbacks: SessionCallbacks;
  secure: boolean | "auto";
  /** The cookie names for plain http and for https, made once rather than per request. */
  cookieNames: { plain: CookieNames; secure: CookieNames };
  cookieDomain: string | undefined;
  cookiePrefix: string;
  providers: readonly OAuthProvider[];
  errorPage: string;
  sameSite: "Lax" | "Strict" | "None";
  maxCookieSize: number;
  /** The verified-token cache's bounds (JWT), or false when it is off. */
  tokenCache: LruBounds | false;
  publicOrigin: string | undefined;
  trustHost: boolean;
  trustedOrigins: ReadonlySet<string>;
  signInPage: string;
  signedOutBody: null | Record<string, never>;
  clock: () => number;
  logger: Required<SessionLogger>;
}

const defaultLogger: Required<SessionLogger> = {
  error: (code, details) => console.error(`[sessionpulse] ${code}`, details ?? ""),
  warn: (code, details) => console.warn(`[sessionpulse] ${code}`, details ?? ""),
  debug: () => {},
};

function fail(message: string): never {
  throw new SessionConfigError(`sessionpulse: ${message}`);
}

function seconds(value: unknown, name: string, fallback: number, { allowZero = false } = {}): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    fail(`${name} must be a ${allowZero ? "non-negative" : "positive"} number of seconds`);
  }
  return value;
}

function resolveProviders(providers: unknown, store: unknown): OAuthProvider[] {
  if (providers === undefined) return [];
  if (!Array.isArray(providers)) fail("providers must be an array (oidc(…), github(…))");
  const seen = new Set<string>(["credentials"]);
  return (providers as unknown[]).map((provider, index) => {
    const entry = provider as (Partial<OidcProvider> & Partial<OAuth2Provider>) | null;
    if (!entry || (entry.type !== "oidc" && entry.type !== "oauth"))
      fail(`providers[${index}] must come from oidc(…) or github(…), or have type "oidc" or "oauth"`);
    if (typeof entry.id !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(entry.id)) fail(`providers[${index}].id must be letters, digits, '_' or '-'`);
    if (seen.has(entry.id)) fail(`providers[${index}].id "${entry.id}" is used twice (or is "credentials")`);
    seen.add(entry.id);
    if (typeof entry.clientId !== "string" || entry.clientId === "") fail(`providers[${index}] (${entry.id}) needs a clientId`);
    const urls = entry.type === "oidc" ? { issuer: entry.issuer } : { authorization: entry.authorization, token: entry.token, userinfo: entry.userinfo };
    for (const [name, value] of Object.entries(urls)) {
      let url: URL | undefined;
      try {
        url = new URL(String(value));
      } catch {
        // reported below
      }
      const loopback = url && isLoopback(url);
      if (!url || !(url.protocol === "https:" || (url.protocol === "http:" && loopback)))
        fail(`providers[${index}].${name} must be an https URL (http only on loopback)`);
    }
    if (entry.keepTokens !== undefined && typeof entry.keepTokens !== "boolean") fail(`providers[${index}].keepTokens must be a boolean`);
    if (entry.keepTokens && store === undefined)
      fail(`providers[${index}] (${entry.id}) keeps its tokens (keepTokens: true): that needs a \`store\` to keep them in, for either strategy`);
    if (entry.refreshAhead !== undefined && !(typeof entry.refreshAhead === "number" && entry.refreshAhead >= 0 && Number.isFinite(entry.refreshAhead)))
      fail(`providers[${index}].refreshAhead must be a non-negative number of seconds`);
    return entry as OAuthProvider;
  });
}

function resolveSecrets(secret: unknown): string[] {
  const list: unknown[] = typeof secret === "string" ? [secret] : Array.isArray(secret) ? [...(secret as unknown[])] : [];
  if (list.length === 0) fail("`secret` is required: a string of at least 32 bytes, or a non-empty array of them");
  const encoder = new TextEncoder();
  return list.map((entry, index) => {
    if (typeof entry !== "string") fail(`secret[${index}] must be a string`);
    const bytes = encoder.encode(entry).byteLength;
    // The secret itself never appears in the message, only its length.
    if (bytes < MIN_SECRET_BYTES) {
      fail(
        `secret${list.length > 1 ? `[${index}]` : ""} is ${bytes} bytes; at least ${MIN_SECRET_BYTES} are required (generate one with \`openssl rand -base64 32\`)`,
      );
    }
    return entry;
  });
}

function resolveOrigin(value: unknown, name: string): string {
  if (typeof value !== "string") fail(`${name} must be an absolute http(s) URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`${name} must be an absolute http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail(`${name} must be an http(s) URL`);
  return url.origin;
}

function resolveTrustedOrigins(value: unknown): Set<string> {
  if (value === undefined) return new Set();
  // A lone string (`trustedOrigins: process.env.ADMIN_ORIGIN`) is a likely slip; say so instead of failing inside `.map`.
  if (!Array.isArray(value)) fail('trustedOrigins must be an array of origins, e.g. ["https://admin.example.com"]');
  return new Set(value.map((origin, i) => resolveOrigin(origin, `trustedOrigins[${i}]`)));
}

/**
 * The verified-token cache's default bounds: 10,000 tokens, 16 MiB. The byte bound leaves room for 10,000
 * typical tokens (about 1 KB charged each: 600 characters of cookie, the claims, the overhead), so the
 * count is what binds: at 8 MiB only about 8,000 fitted, and a round robin over 10,000 sessions missed on
 * every request (bench/load).
 */
export const DEFAULT_TOKEN_CACHE: Readonly<LruBounds> = Object.freeze({ maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 });

function resolveTokenCache(jwt: unknown): LruBounds | false {
  if (jwt === undefined) return { ...DEFAULT_TOKEN_CACHE };
  if (jwt === null || typeof jwt !== "object" || Array.isArray(jwt)) fail("jwt must be an object, e.g. { cache: { maxEntries: 10000 } }");
  const cache = (jwt as { cache?: unknown }).cache;
  if (cache === false) return false;
  if (cache === undefined || cache === true) return { ...DEFAULT_TOKEN_CACHE };
  if (cache === null || typeof cache !== "object" || Array.isArray(cache)) fail("jwt.cache must be true, false or { maxEntries?, maxBytes? }");
  const bound = (name: keyof LruBounds): number => {
    const value = (cache as Record<string, unknown>)[name];
    if (value === undefined) return DEFAULT_TOKEN_CACHE[name];
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) fail(`jwt.cache.${name} must be a positive integer`);
    return value;
  };
  return { maxEntries: bound("maxEntries"), maxBytes: bound("maxBytes") };
}

function resolveBasePath(value: unknown): string {
  if (value === undefined) return "/api/auth";
  if (typeof value !== "string" || !value.startsWith("/") || /[?#\s]/.test(value)) {
    fail("basePath must be a path starting with '/', e.g. \"/api/auth\"");
  }
  return value.replace(/\/+$/, "");
}

/**
 * Checks every option once, at start-up, and fills in defaults. A mistake
 * throws a {@link SessionConfigError} that names the option.
 */
export function resolveConfig(config: SessionHandlerConfig): ResolvedConfig {
  if (config === null || typeof config !== "object") fail("createSessionHandler needs an options object");
  const session = config.session ?? {};
  const strategy = session.strategy ?? "jwt";
  if (strategy !== "jwt" && strategy !== "database") fail(`session.strategy must be "jwt" or "database", got ${JSON.stringify(strategy)}`);
  const store = config.store;
  if (store !== undefined && (store === null || typeof store !== "object" || STORE_METHODS.some((method) => typeof store[method] !== "function"))) {
    fail(`store must implement the Store interface (${STORE_METHODS.join(", ")})`);
  }
  if (strategy === "database" && !store) fail('session.strategy "database" needs a `store`, e.g. sqliteStore({ path: "sessions.db" })');
  const migrateFrom = session.migrateFrom;
  if (migrateFrom !== undefined && (migrateFrom === strategy || (migrateFrom !== "jwt" && migrateFrom !== "database"))) {
    fail(`session.migrateFrom must name the other strategy than "${strategy}"`);
  }
  if (migrateFrom === "database" && !store) fail('session.migrateFrom "database" needs the `store` the sessions are in');
  const storeTimeout = config.storeTimeout ?? 2000;
  if (!Number.isFinite(storeTimeout) || storeTimeout <= 0) fail("storeTimeout must be a positive number of milliseconds");

  const maxAge = seconds(session.maxAge, "session.maxAge", 30 * DAY);
  const updateAge = seconds(session.updateAge, "session.updateAge", DAY, { allowZero: true });
  if (updateAge > maxAge) fail("session.updateAge must not exceed session.maxAge");
  const maxLifetime = session.maxLifetime === undefined ? undefined : seconds(session.maxLifetime, "session.maxLifetime", 0);
  const freshAge = seconds(session.freshAge, "session.freshAge", DAY, { allowZero: true });
  const cookieCache = session.cookieCache;
  if (cookieCache !== undefined && typeof cookieCache !== "boolean" && !(typeof cookieCache === "object" && cookieCache !== null))
    fail("session.cookieCache must be true, false or { maxAge } (seconds)");
  const cookieCacheAge =
    cookieCache === undefined || cookieCache === false ? undefined : cookieCache === true ? 60 : seconds(cookieCache.maxAge, "session.cookieCache.maxAge", 60);
  if (cookieCacheAge !== undefined && strategy !== "database")
    fail("session.cookieCache is for the database strategy (a JWT already carries the session in its cookie)");

  const cookies = config.cookies ?? {};
  const secure = cookies.secure ?? "auto";
  if (secure !== "auto" && typeof secure !== "boolean") fail('cookies.secure must be true, false or "auto"');
  const cookiePrefix = cookies.prefix ?? "authjs";
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(cookiePrefix)) fail("cookies.prefix may hold only letters, digits, '.', '_' and '-'");
  if (cookies.domain !== undefined && !/^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(cookies.domain)) fail("cookies.domain must be a host name");
  const sameSiteInput = cookies.sameSite ?? "lax";
  const sameSite = ({ lax: "Lax", strict: "Strict", none: "None" } as const)[sameSiteInput];
  if (!sameSite) fail('cookies.sameSite must be "lax", "strict" or "none"');
  if (sameSite === "None" && secure === false) fail('cookies.sameSite "none" needs secure cookies');
  const maxCookieSize = cookies.maxSize ?? 12_288;
  if (!Number.isInteger(maxCookieSize) || maxCookieSize < 1024) fail("cookies.maxSize must be an integer of at least 1024 bytes");

  const basePath = resolveBasePath(config.basePath);
  const publicOrigin = config.url === undefined ? undefined : resolveOrigin(config.url, "url");
  const trustedOrigins = resolveTrustedOrigins(config.trustedOrigins);

  if (config.authorize !== undefined && typeof config.authorize !== "function") fail("authorize must be a function");
  const callbacks = config.callbacks ?? {};
  for (const name of ["jwt", "session"] as const) {
    if (callbacks[name] !== undefined && typeof callbacks[name] !== "function") fail(`callbacks.${name} must be a function`);
  }
  if (config.clock !== undefined && typeof config.clock !== "function") fail("clock must be a function returning milliseconds");
  if (config.compat !== undefined && config.compat !== "next-auth-v4") fail('compat must be "next-auth-v4" when set');

  return {
    secrets: resolveSecrets(config.secret),
    strategy,
    migrateFrom,
    store,
    storeTimeout,
    basePath,
    maxAge,
    updateAge,
    maxLifetime,
    freshAge,
    cookieCacheAge,
    authorize: config.authorize,
    callbacks,
    secure,
    cookieNames: { plain: cookieNames(cookiePrefix, false), secure: cookieNames(cookiePrefix, true) },
    cookieDomain: cookies.domain,
    cookiePrefix,
    providers: resolveProviders(config.providers, store),
    errorPage: config.pages?.error ?? config.pages?.signIn ?? `${basePath}/signin`,
    sameSite,
    maxCookieSize,
    tokenCache: resolveTokenCache(config.jwt),
    publicOrigin,
    trustHost: config.trustHost === true,
    trustedOrigins,
    signInPage: config.pages?.signIn ?? `${basePath}/signin`,
    signedOutBody: config.compat === "next-auth-v4" ? {} : null,
    clock: config.clock ?? Date.now,
    logger: { ...defaultLogger, ...config.logger },
  };
}

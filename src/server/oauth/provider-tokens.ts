import type { ResolvedConfig } from "../config.js";
import { createSealer } from "../jwt/sealed.js";
import type { Store } from "../stores/store.js";
import { ProviderRefreshError, type OAuthFlows } from "./flow.js";
import type { ProviderTokens } from "./providers.js";

/**
 * A session's access token at its provider, as `auth.api.getProviderToken` gives it to server code.
 */
export interface ProviderToken {
  /** The provider's id (`oidc({ id })`, `"github"`). */
  provider: string;
  accessToken: string;
  /** `"bearer"` (lowercase), or what the provider said. */
  tokenType: string;
  /** When the access token expires, or null when the provider did not say (then it is never refreshed ahead). */
  expiresAt: Date | null;
  scope: string | null;
  /** The latest ID token (OpenID Connect), or null. */
  idToken: string | null;
}

/** What the store keeps for a session, sealed. Times in ms. */
export interface KeptTokens {
  provider: string;
  accessToken: string;
  tokenType: string;
  expiresAt: number | null;
  obtainedAt: number;
  refreshToken: string | null;
  scope: string | null;
  idToken: string | null;
  /** The provider refused the refresh token: nothing will renew these until the user signs in with it again. */
  refused?: true;
}

const SALT = "sessionpulse.provider-tokens";
const DEFAULT_REFRESH_AHEAD = 300;
/** How long one server may hold a session's refresh before another may try, ms: past the provider's timeout. */
const LOCK_TTL = 15_000;
/** How often a request waiting on another server's refresh looks for its result, ms. */
const WAIT_STEP = 50;
/** Kept this long past the session's idle lifetime, so a session used again at the last moment still has them. */
const KEEP_MARGIN = 86_400_000;
/** Sealed tokens (an ID token can be a few KB) are refused past this when read back. */
const MAX_SEALED = 65_536;

const tokensKey = (sessionId: string) => `provider-tokens:${sessionId}`;
const lockKey = (sessionId: string) => `provider-tokens-refresh:${sessionId}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function fromResponse(provider: string, tokens: ProviderTokens, now: number, previous?: KeptTokens): KeptTokens {
  const lifetime = typeof tokens.expires_in === "number" && Number.isFinite(tokens.expires_in) && tokens.expires_in > 0 ? tokens.expires_in : undefined;
  return {
    provider,
    accessToken: tokens.access_token,
    tokenType: tokens.token_type,
    expiresAt: lifetime === undefined ? null : now + lifetime * 1000,
    obtainedAt: now,
    // A provider that does not rotate answers a refresh without a new one: the old one stays good.
    refreshToken: tokens.refresh_token ?? previous?.refreshToken ?? null,
    scope: tokens.scope ?? previous?.scope ?? null,
    idToken: tokens.id_token ?? previous?.idToken ?? null,
  };
}

/** Whether kept tokens can be used at `now`: not refused, not expired. */
export const usable = (kept: KeptTokens, now: number) => !kept.refused && (kept.expiresAt === null || now < kept.expiresAt);

/** The public shape handed to server code. */
export function toPublic(kept: KeptTokens): ProviderToken {
  return {
    provider: kept.provider,
    accessToken: kept.accessToken,
    tokenType: kept.tokenType,
    expiresAt: kept.expiresAt === null ? null : new Date(kept.expiresAt),
    scope: kept.scope,
    idToken: kept.idToken,
  };
}

/**
 * The provider tokens of sessions signed in with a provider that has `keepTokens`: kept sealed in the
 * store under the session's id, refreshed ahead of expiry by exactly one request across tabs and servers
 * (a put-if-absent lock in the store, then a second read: a request that took the lock after another
 * finished finds the new tokens and does not refresh again), dropped when the session ends.
 */
export function createProviderTokens(config: ResolvedConfig, store: Store | undefined, flows: OAuthFlows) {
  const keeping = new Map(config.providers.filter((provider) => provider.keepTokens).map((provider) => [provider.id, provider]));
  const sealer = createSealer(config.secrets, SALT);
  const ttlSeconds = Math.ceil((config.maxAge * 1000 + KEEP_MARGIN) / 1000);

  const due = (kept: KeptTokens, now: number) => {
    if (kept.expiresAt === null || kept.refused || kept.refreshToken === null) return false;
    const ahead = Math.min((keeping.get(kept.provider)?.refreshAhead ?? DEFAULT_REFRESH_AHEAD) * 1000, (kept.expiresAt - kept.obtainedAt) / 2);
    return now >= kept.expiresAt - ahead;
  };

  async function read(sessionId: string, now: number): Promise<KeptTokens | null> {
    const sealed = await store!.getValue(tokensKey(sessionId), now);
    return (await sealer.open<KeptTokens>(sealed, now, MAX_SEALED)) ?? null;
  }

  async function write(sessionId: string, kept: KeptTokens, now: number): Promise<void> {
    const sealed = await sealer.seal({ ...kept }, now, ttlSeconds);
    await store!.putValue(tokensKey(sessionId), sealed, now + ttlSeconds * 1000, now);
  }

  /** Refreshes `kept` unless another request does or did; resolves with the newest tokens this request may use. */
  async function refresh(sessionId: string, kept: KeptTokens, now: number, waitForOthers: boolean): Promise<KeptTokens | null> {
    const owner = crypto.randomUUID();
    if (!(await store!.putValue(lockKey(sessionId), owner, now + LOCK_TTL, now, true))) {
      // Another tab's request or another server refreshes: use its result, or the current token while it is still good.
      if (!waitForOthers || usable(kept, now)) return kept;
      for (let waited = 0; waited < LOCK_TTL; waited += WAIT_STEP) {
        await sleep(WAIT_STEP);
        const latest = await read(sessionId, config.clock());
        if (!latest || latest.accessToken !== kept.accessToken || latest.refused) return latest;
      }
      return kept;
    }
    try {
      // Read again under the lock: a request that finished just before may have renewed them already.
      const latest = await read(sessionId, now);
      if (!latest || latest.accessToken !== kept.accessToken || !due(latest, now)) return latest;
      let renewed: KeptTokens;
      try {
        renewed = fromResponse(latest.provider, await flows.refresh(latest.provider, latest.refreshToken!), config.clock(), latest);
      } catch (error) {
        if (!(error instanceof ProviderRefreshError)) throw error;
        const cause = error.cause instanceof Error ? error.cause.message : undefined;
        config.logger.warn(error.refused ? "provider_token_refused" : "provider_refresh_failed", {
          provider: latest.provider,
          message: error.message,
          ...(cause && { cause }),
        });
        if (!error.refused) return latest; // the lock lapses on its own: the next try is LOCK_TTL away at the earliest
        renewed = { ...latest, refused: true };
      }
      await write(sessionId, renewed, config.clock());
      return renewed;
    } finally {
      // Released only by its owner, and never before the new tokens are written; a lapsed lock is left to its new owner.
      if ((await store!.getValue(lockKey(sessionId), config.clock()).catch(() => null)) === owner) await store!.deleteValue(lockKey(sessionId));
    }
  }

  return {
    /** Whether any provider keeps tokens: else nothing here runs and no request reads the store for them. */
    enabled: keeping.size > 0,

    /** After a sign-in with provider `id`: keeps its tokens for the new session, if that provider keeps them. */
    async keep(sessionId: string, id: string, tokens: ProviderTokens, now: number): Promise<void> {
      if (!keeping.has(id)) return;
      await write(sessionId, fromResponse(id, tokens, now), now);
    },

    /**
     * The session's tokens, refreshed first when due. With `waitForOthers` (server code that needs a token
     * now) a request finding an expired token while another refreshes waits for the result; without it (the
     * polling tab's `GET /session`) it never waits.
     */
    async current(sessionId: string, now: number, waitForOthers: boolean): Promise<KeptTokens | null> {
      if (!store || keeping.size === 0) return null;
      const kept = await read(sessionId, now);
      if (!kept || !due(kept, now)) return kept;
      return refresh(sessionId, kept, now, waitForOthers);
    },

    /** The session ended: its tokens go with it. */
    async drop(sessionId: string): Promise<void> {
      if (store && keeping.size > 0) await store.deleteValue(tokensKey(sessionId));
    },
  };
}

export type ProviderTokenKeeper = ReturnType<typeof createProviderTokens>;

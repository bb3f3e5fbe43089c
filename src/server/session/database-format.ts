import type { CookieRejection } from "../errors.js";
import type { RequestContext } from "../context.js";
import { fromRow, type SessionRecord } from "./record.js";
import type { Store, StoredSession } from "../stores/store.js";
import { newDatabaseToken, storeIdOf } from "../database/token.js";

/** The `User-Agent` a session row records, bounded so a hostile header cannot bloat the store. */
const userAgentOf = (context: RequestContext) => context.request.headers.get("user-agent")?.slice(0, 512) ?? null;

/** A row's data: the claims, and for a converted session the JWT session id it continues (ending it ends that one too). */
const dataOf = (record: Pick<SessionRecord, "origin">, claims: Record<string, unknown>) =>
  record.origin === undefined ? claims : { ...claims, sid: record.origin };

export type OpenedRow = { ok: true; record: SessionRecord } | { ok: false; reason: CookieRejection };

/**
 * A session kept in the store: the cookie holds a random 256-bit token, the
 * store its SHA-256 with the session. Knows how to find, write and list rows;
 * what is valid and when to write is the lifecycle's call.
 */
export interface DatabaseFormat {
  /** The live row of the cookie value, or why there is none. */
  open(context: RequestContext, value: string): Promise<OpenedRow>;
  /** The live row with this id (not a cookie value: a row's id is the hash of its token). */
  get(id: string, now: number): Promise<SessionRecord | null>;
  /** Stores the session under `token` (a new random one by default); returns the row's id and the token. */
  create(context: RequestContext, record: Omit<SessionRecord, "id" | "tokenId">, token?: string): Promise<{ id: string; token: string }>;
  /** Extends the expiry if it is still at most `ifExpiresBy`: of concurrent calls one writes. */
  touch(id: string, expires: number, now: number, ifExpiresBy: number): Promise<boolean>;
  /** Replaces the session's data (keeping what it continues); false when the session ended meanwhile (a racing sign-out wins). */
  update(record: SessionRecord, claims: Record<string, unknown>, now: number): Promise<boolean>;
  /** The user's database sessions (not the JWT listing rows). */
  list(userId: string, now: number): Promise<StoredSession[]>;
  /** JWT strategy: writes (or refreshes) the session's listing row, under its session id. */
  track(context: RequestContext, record: SessionRecord): Promise<void>;
  /** JWT strategy: the listing rows of the user's sessions. */
  listJwt(userId: string, now: number): Promise<StoredSession[]>;
  /** JWT strategy: the session with this id, by its listing row (a database row is not one). */
  getJwt(id: string, now: number): Promise<SessionRecord | null>;
}

/** JWT sessions' listing rows: no claims, just what `GET /sessions` shows, under the session id. */
export const JWT_LISTING = "jwt";
export const isJwtListing = (row: StoredSession) => row.data[JWT_LISTING] === true;

export function createDatabaseFormat(store: Store): DatabaseFormat {
  return {
    async open(context, value) {
      const row = await store.get(storeIdOf(value), context.now);
      return row ? { ok: true, record: fromRow(row) } : { ok: false, reason: "session_unknown" };
    },
    async get(id, now) {
      const row = await store.get(id, now);
      return row ? fromRow(row) : null;
    },
    async create(context, record, token = newDatabaseToken()) {
      const id = storeIdOf(token);
      await store.create({
        id,
        userId: record.userId!,
        data: dataOf(record, record.claims),
        createdAt: record.signedInAt,
        updatedAt: context.now,
        expires: record.expires,
        userAgent: userAgentOf(context),
      });
      return { id, token };
    },
    touch: (id, expires, now, ifExpiresBy) => store.touch(id, expires, now, ifExpiresBy),
    update: (record, claims, now) => store.update(record.id, dataOf(record, claims), now),
    list: async (userId, now) => (await store.listByUser(userId, now)).filter((row) => !isJwtListing(row)),
    async track(context, record) {
      await store.create({
        id: record.id,
        userId: record.userId!,
        data: { [JWT_LISTING]: true },
        createdAt: record.signedInAt,
        updatedAt: context.now,
        expires: record.expires,
        userAgent: userAgentOf(context),
      });
    },
    listJwt: async (userId, now) => (await store.listByUser(userId, now)).filter(isJwtListing),
    async getJwt(id, now) {
      const row = await store.get(id, now);
      return row && isJwtListing(row) ? fromRow(row) : null;
    },
  };
}

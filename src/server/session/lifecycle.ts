import type { ResolvedConfig } from "../config.js";
import { clearCachedRow, readSessionCookie, refuseSessionCookie, writeSessionCookie } from "./session-cookie.js";
import { createRowCookie } from "./row-cookie.js";
import type { DatabaseFormat } from "./database-format.js";
import { convertedDatabaseToken, DATABASE_TOKEN, storeIdOf } from "../database/token.js";
import type { CookieRejection } from "../errors.js";
import type { RequestContext } from "../context.js";
import type { JwtFormat } from "./jwt-format.js";
import type { LifetimePolicy } from "./policy.js";
import type { SessionRecord } from "./record.js";
import type { Revocations } from "./revocation.js";

/** The kind of cookie a request came with. */
type Carrier = "jwt" | "database";

/** A request's session, valid by every rule, and what this request already did about it. */
export interface LoadedSession {
  record: SessionRecord;
  /** The session cookie's value as the request sent it (a database session's sliding expiry writes it back). */
  value: string;
  /** A JWT opened with an older secret's key: the next write re-seals it under the first. */
  staleKey: boolean;
  /** This request converted the session to the configured strategy; its new cookie is queued. */
  converted: boolean;
}

/**
 * "Is this session still valid, and what must be written?" for both
 * strategies and for migration between them. Every request that reads a
 * session goes through {@link Lifecycle.load}, which applies, in one place:
 * the cookie rules (chunks, tossing, the size budget), the token or row
 * checks, the absolute lifetime, revocation (deny-list and the user's
 * generation), and the conversion of a cookie of the other strategy
 * (`migrateFrom`), which passes all of the same checks first. Refreshing
 * (sliding, re-issuing), starting and ending sessions live here too, so
 * the rules each strategy shares are written once.
 */
export interface Lifecycle {
  readonly policy: LifetimePolicy;
  readonly revocations: Revocations;
  /**
   * The request's valid session, or null (a bad cookie's removal queued, unless it may be planted).
   * With `write`, a cookie of the other strategy is converted; without (for answers that cannot
   * carry cookies) the request only reads: a conversion would be lost with its cookie.
   */
  load(context: RequestContext, options: { write: boolean }): Promise<LoadedSession | null>;
  /** JWT: seals the session under the first key with `expires` (never revives an expired one); queues the cookie. */
  reseal(context: RequestContext, record: SessionRecord): Promise<SessionRecord>;
  /** Database: extends the expiry when due, with a conditional write; queues the cookie when this request wrote. */
  slide(context: RequestContext, loaded: LoadedSession): Promise<SessionRecord>;
  /** Database: puts the row as the store now has it into the cookie cache (`session.cookieCache`), when that is on. */
  remember(context: RequestContext, record: SessionRecord): Promise<void>;
  /** Writes the new session (cookie, and row for the database strategy); resolves with its root id. */
  start(context: RequestContext, record: SessionRecord): Promise<string>;
  /** Ends whatever session the request's cookie carries, valid or not (sign-out, sign-in over it). */
  endIncoming(context: RequestContext): Promise<void>;
  /** Ends this session everywhere, under all its ids (the request's own cookie is the caller's to clear). */
  end(context: RequestContext, record: SessionRecord): Promise<void>;
}

interface Parts {
  policy: LifetimePolicy;
  revocations: Revocations;
  jwt: JwtFormat;
  /** Present whenever there is a store. */
  database: DatabaseFormat | undefined;
  /** Runs once a session has ended, with its root id: what was kept for it elsewhere (its provider tokens) goes too. */
  onEnd?: (rootId: string) => Promise<void>;
}

/** The id a session keeps across re-issues and conversions between strategies: what anything kept for it is filed under. */
export const rootIdOf = (record: Pick<SessionRecord, "id" | "origin">): string => record.origin ?? record.id;

export function createLifecycle(config: ResolvedConfig, { policy, revocations, jwt, database, onEnd }: Parts): Lifecycle {
  const convertedToken = convertedDatabaseToken(config.secrets);
  const rowCookie = createRowCookie(config);
  /** The row a JWT session becomes (or became) under the database strategy. */
  const convertedRowId = (sessionId: string) => storeIdOf(convertedToken(sessionId));

  const refuse = (context: RequestContext, reason: CookieRejection, clear = true) => refuseSessionCookie(config, context, reason, clear);

  /**
   * Every id one session can be known by. A session keeps one root id across
   * strategy switches: a JWT's `sid`; a database row's own id, or, for a row
   * converted from a JWT, that JWT's `sid` (its `origin`). The row a JWT
   * converts to derives from the root, and a row converted back to a JWT
   * gives it the root as `sid`, so these ids reach every cookie of the session.
   */
  function idsOf(record: Pick<SessionRecord, "id" | "origin">): string[] {
    const root = rootIdOf(record);
    return [...new Set([record.id, root, convertedRowId(root)])];
  }

  /** A database session's row: from the cookie cache when it has a live copy, else from the store (then cached). */
  async function openRow(context: RequestContext, value: string, cacheable: boolean) {
    if (!rowCookie || !cacheable) return database!.open(context, value);
    const cached = await rowCookie.read(context, storeIdOf(value));
    if (cached) return { ok: true, record: cached } as const;
    const opened = await database!.open(context, value);
    if (opened.ok) await rowCookie.write(context, opened.record);
    return opened;
  }

  async function load(context: RequestContext, { write }: { write: boolean }): Promise<LoadedSession | null> {
    const cookie = readSessionCookie(config, context);
    if (cookie.kind === "absent") return null;
    if (cookie.kind === "rejected") return refuse(context, cookie.reason, cookie.clear);
    const carrier: Carrier = DATABASE_TOKEN.test(cookie.value) ? "database" : "jwt";
    if (carrier !== config.strategy && carrier !== config.migrateFrom) return refuse(context, "token_malformed");
    const opened = carrier === "jwt" ? await jwt.open(context, cookie.value) : await openRow(context, cookie.value, carrier === config.strategy);
    if (!opened.ok) return refuse(context, opened.reason);
    const { record } = opened;
    // A JWT joins the verified-token cache only after every check below, and leaves it when one fails (jwt-format.ts).
    const { settle } = opened as { settle?: (accepted: boolean) => void };
    if (policy.lifetimeOver(context.now, record.signedInAt)) {
      settle?.(false);
      // A row past its lifetime goes; a JWT's copies are all past it too, so nothing needs writing for them.
      if (carrier === "database") await revocations.endSession(context.now, idsOf(record), record.signedInAt);
      return refuse(context, "session_lifetime_exceeded");
    }
    // A database row is its own revocation check (ending a session deletes its rows); a JWT is checked against the store.
    if (carrier === "jwt" && (await revocations.isRevoked(context.now, [record.id], record.userId, record.generation))) {
      settle?.(false);
      return refuse(context, "session_revoked");
    }
    settle?.(true);
    const loaded: LoadedSession = { record, value: cookie.value, staleKey: "primaryKey" in opened && !opened.primaryKey, converted: false };
    if (carrier === config.strategy || !write) return loaded;
    return carrier === "jwt" ? toDatabase(context, loaded) : toJwt(context, loaded);
  }

  /**
   * A JWT becomes the row its session id derives, so every copy and every racing request lands on
   * the same one. The revocation checks run again after the write: a sign-out that ran meanwhile
   * either deleted the row after it was written or left an entry that this second look finds.
   */
  async function toDatabase(context: RequestContext, loaded: LoadedSession): Promise<LoadedSession | null> {
    const { record } = loaded;
    if (record.userId === undefined) return refuse(context, "token_claims");
    // A JWT that came from a database session carries that session's cookie: back to the same row.
    const token = record.databaseToken !== undefined && DATABASE_TOKEN.test(record.databaseToken) ? record.databaseToken : convertedToken(record.id);
    const rowId = storeIdOf(token);
    let row = await database!.get(rowId, context.now);
    if (!row) {
      // The row continues the JWT's session id, unless it is that session's own row coming back.
      const origin = rowId === record.id ? undefined : record.id;
      const created = { ...record, origin, databaseToken: undefined, refreshedAt: context.now, expires: policy.expiryAt(context.now, record.signedInAt) };
      const { id } = await database!.create(context, created, token);
      if (await revocations.isRevoked(context.now, [record.id, id], record.userId, record.generation)) {
        await revocations.endSession(context.now, [record.id, id], record.signedInAt);
        return refuse(context, "session_revoked");
      }
      row = { ...created, id, tokenId: id, generation: 0 };
      config.logger.debug("session_migrated", { from: "jwt" });
    } else if (row.expires < record.expires && (await database!.touch(row.id, record.expires, context.now, record.expires))) {
      // The row was made by an earlier conversion and the JWT has been kept fresh since (as a JWT): the
      // session must not end sooner for coming back. One conditional write, only when the JWT is the fresher.
      row = { ...row, expires: record.expires, refreshedAt: context.now };
    }
    writeSessionCookie(config, context, token, new Date(row.expires));
    return { record: row, value: token, staleKey: false, converted: true };
  }

  /**
   * A database session becomes a JWT whose session id is the session's root id (see idsOf), so
   * ending either ends both, and racing requests with the same old cookie all get the same session
   * (the row stays until it expires). The user's generation is read between two reads of the row: finding the row the second
   * time means "sign out everywhere" (which deletes rows before and after moving the generation)
   * had not started, so the generation read is the one it will move past.
   */
  async function toJwt(context: RequestContext, loaded: LoadedSession): Promise<LoadedSession | null> {
    const { record } = loaded;
    const generation = await revocations.generationOf(context.now, record.userId!);
    const still = await database!.get(record.id, context.now);
    if (!still || (await revocations.isRevoked(context.now, [record.id], record.userId, generation))) return refuse(context, "session_revoked");
    // The JWT takes the session's root id: a row converted from a JWT gives that JWT's sid back.
    const id = record.origin ?? record.id;
    const sealed = await seal(context, {
      ...record,
      id,
      origin: undefined,
      databaseToken: loaded.value,
      generation,
      expires: policy.expiryAt(context.now, record.signedInAt),
    });
    config.logger.debug("session_migrated", { from: "database" });
    return { record: sealed.record, value: sealed.value, staleKey: false, converted: true };
  }

  async function seal(context: RequestContext, record: SessionRecord): Promise<{ record: SessionRecord; value: string }> {
    const sealed = await jwt.seal(context, record);
    writeSessionCookie(config, context, sealed.value, new Date(record.expires));
    // JWT with a store: each (re-)issue refreshes the session's listing row (at most once per updateAge), so the
    // user's sessions can be listed, and one revoked by id, from any node. Revocation deletes it (endSession, endUser).
    if (config.strategy === "jwt" && database && sealed.record.userId !== undefined) await database.track(context, sealed.record);
    return sealed;
  }

  const reseal = async (context: RequestContext, record: SessionRecord) => (await seal(context, record)).record;

  async function slide(context: RequestContext, { record, value }: LoadedSession): Promise<SessionRecord> {
    if (!policy.refreshDue(context.now, record)) return record;
    const expires = policy.expiryAt(context.now, record.signedInAt);
    if (!(await database!.touch(record.id, expires, context.now, policy.dueIfExpiresBy(context.now)))) {
      // Another request slid it: a cached copy is stale now (it would ask for a slide at every poll), so it goes.
      if (rowCookie) clearCachedRow(config, context);
      return record;
    }
    writeSessionCookie(config, context, value, new Date(expires));
    const slid = { ...record, expires, refreshedAt: context.now };
    await rowCookie?.write(context, slid);
    return slid;
  }

  async function start(context: RequestContext, record: SessionRecord): Promise<string> {
    if (config.strategy === "jwt") {
      await reseal(context, record);
      return rootIdOf(record);
    }
    const { id, token } = await database!.create(context, record);
    writeSessionCookie(config, context, token, new Date(record.expires));
    await rowCookie?.write(context, { ...record, id, tokenId: id, refreshedAt: context.now });
    return id;
  }

  async function endIncoming(context: RequestContext): Promise<void> {
    const cookie = readSessionCookie(config, context);
    if (cookie.kind !== "present") return;
    if (DATABASE_TOKEN.test(cookie.value)) {
      const id = storeIdOf(cookie.value);
      // The row tells the session's other ids. Without it (converted back to a JWT and on to a new row,
      // or expired) the id is taken as its own root, which reaches the row a JWT of it converts to.
      const record = database && (await database.get(id, context.now));
      await revocations.endSession(context.now, idsOf(record ?? { id }), record?.signedInAt ?? context.now);
      await onEnd?.(rootIdOf(record ?? { id }));
      return;
    }
    // A stale copy (past its exp) still ends the session its other copies keep fresh; a foreign token names none of ours.
    const opened = await jwt.open(context, cookie.value, { acceptExpired: true });
    if (opened.ok) await end(context, opened.record);
  }

  async function end(context: RequestContext, record: SessionRecord): Promise<void> {
    await revocations.endSession(context.now, idsOf(record), record.signedInAt);
    await onEnd?.(rootIdOf(record));
  }

  const remember = async (context: RequestContext, record: SessionRecord) => rowCookie?.write(context, record);

  return { policy, revocations, load, reseal, slide, start, endIncoming, end, remember };
}

import type { Session, SessionListing } from "../shared/session.js";
import { retryDelay } from "./backoff.js";
import type { TabLink } from "./env.js";
import { SessionError } from "./errors.js";
import { identityOf, isWrite, MAX_SEEN, PROTOCOL_VERSION, readMessage, type OutgoingMessage, type SessionReason, type StateMessage } from "./messages.js";
import { MAX_DELAY, readOptions } from "./options.js";
import { nextWake, standbyGrace, type Wake } from "./schedule.js";
import { createServerClock } from "./server-clock.js";
import { createSnapshotStore } from "./snapshot-store.js";
import { createTransport } from "./transport.js";
import type { SessionClient, SessionClientOptions, SessionSnapshot, SignInResult } from "./types.js";
import { createWriter } from "./writer.js";

/** Wait for another tab to answer `hello` before asking the server, ms. */
const HELLO_WAIT = 100;
/** Keep running this long after the last subscriber leaves, so a remount (React Strict Mode) does not restart anything, ms. */
const STOP_GRACE = 1_000;
const REFRESH_LOCK = "sessionpulse:refresh";
/** Held by the one follower that reads for a leader gone silent. */
const STANDBY_LOCK = "sessionpulse:standby";
/** Pause, after a conditional refresh waited for the lock, before it asks whether it is still needed, ms. */
const LOCK_SETTLE = 10;
/** The longest `Retry-After` obeyed, ms: a misconfigured server must not silence the client for days. */
const MAX_RETRY_AFTER = 300_000;

interface ReadOptions {
  /** Asked once the lock is held: another tab may have brought the answer meanwhile. */
  stillNeeded?: () => boolean;
  /** Hold the browser-wide read lock (default): one tab reads at a time. A standby read skips it (a hung leader may hold it). */
  lock?: boolean;
}

/**
 * Creates the session client: one per page. It holds the session, keeps it
 * fresh (one polling tab per browser, focus and reconnect refreshes, retries
 * with backoff) and identical across tabs. It starts working with its first
 * subscriber and stops after the last.
 *
 * @example
 * ```ts
 * import { createSessionClient } from "sessionpulse";
 *
 * const client = createSessionClient({ basePath: "/api/auth", refetchInterval: 300 });
 * const stop = client.subscribe(() => render(client.getSnapshot()));
 * await client.signIn("credentials", { email, password }, { redirect: false });
 * ```
 */
export function createSessionClient(options: SessionClientOptions = {}): SessionClient {
  const config = readOptions(options);
  const { env, interval, throttle, timeout, initialSession: initial } = config;
  const mono = () => env.monotonic();
  const newId = () => (env.random().toString(36).slice(2, 12) + env.random().toString(36).slice(2, 12)).padEnd(8, "0");
  const transport = createTransport(env, config.basePath, timeout);
  const serverClock = createServerClock(env);
  const store = createSnapshotStore(
    {
      status: initial === undefined ? "loading" : initial ? "authenticated" : "unauthenticated",
      data: initial ?? null,
      error: null,
      isStale: false,
      updatedAt: env.now(),
      isLeader: !config.crossTab,
    },
    (error) =>
      env.setTimeout(() => {
        throw error;
      }, 0),
  );
  const shown = () => store.get();

  // Freshness, on the monotonic clock.
  /** When the state shown was last confirmed by a server answer (a read counts from its request's start). */
  let syncedAt = initial === undefined ? -Infinity : mono();
  /** When this tab last heard from the polling tab, or had its own answer. */
  let heardAt = mono();
  let pollInFlight = false;
  let failures = 0;
  let retryAt = 0;
  /** The `expires` already refreshed ahead of, so an unchanged expiry does not loop. */
  let refreshedAheadOf: string | undefined;
  /** Whether this tab asked the server once because its own clock said the session had expired. */
  let askedForClock = false;

  // Reads.
  let reading: Promise<SessionSnapshot> | undefined;
  let readSentAt = Infinity;
  /** The held message the read in flight checks, if it went out after that message arrived. */
  let readChecks: StateMessage | undefined;
  let readAbort: AbortController | undefined;
  /** Why the read not sent yet is wanted, one predicate per caller: it goes out if any still holds. */
  let readNeeds: Array<() => boolean> = [];
  /** Writes applied (this tab's or announced by another): a read that went out before one may predate it. */
  let writesApplied = 0;

  // The tab protocol.
  let link: TabLink | undefined;
  let lastWrite: string | null = null;
  let lastWriteAt = -Infinity;
  const recentWrites: string[] = [];
  /** An identity change announced over the channel, shown only once a read confirms it. */
  let held: StateMessage | undefined;
  /** When a check last refuted an announced change: the next check waits a throttle window after it (a forger re-posting costs one read per window). */
  let refutedAt = -Infinity;
  let droppedMessages = 0;
  let lastDropRefresh = -Infinity;

  // Lifecycle.
  let running = false;
  let destroyed = false;
  let refs = 0;
  let cleanups: Array<() => void> = [];

  const online = () => config.refetchWhenOffline || env.isOnline();
  /** A one-shot timer on the monotonic clock that re-arming replaces; `Infinity` disarms it (and needs no `run`). */
  const timer = () => {
    let handle: unknown;
    return (at: number, run?: () => void) => {
      env.clearTimeout(handle);
      handle = at === Infinity ? undefined : env.setTimeout(run!, Math.min(MAX_DELAY, Math.max(0, at - mono())));
    };
  };
  const pollTimer = timer();
  const expiryTimer = timer();
  const helloTimer = timer();
  const stopTimer = timer();
  const checkTimer = timer();

  const post = (message: OutgoingMessage) => link?.post({ v: PROTOCOL_VERSION, id: newId(), ...message });
  const remember = (writeId: string) => {
    lastWrite = writeId;
    lastWriteAt = mono();
    recentWrites.push(writeId);
    if (recentWrites.length > MAX_SEEN) recentWrites.shift();
    writesApplied++;
  };

  /**
   * Shows a server answer: this tab's own (`local`: first sent to the other tabs, so they do not wait for
   * this tab's render) or one another tab sent and this tab accepted (`remote`).
   */
  function apply(
    session: Session | null,
    source: "local" | "remote",
    reason: SessionReason,
    { startedAt = mono(), server, writeId }: { startedAt?: number; server?: number; writeId?: string } = {},
  ) {
    if (server !== undefined) serverClock.set(server);
    if (isWrite(reason)) remember(writeId ?? newId());
    // A read confirming another tab's announced change: the change, and so its events, came from that tab.
    let cause = source;
    if (source === "local") {
      const checks = !isWrite(reason) && readChecks === held ? held : undefined;
      if (checks) {
        settleHeld(checks, session);
        cause = "remote";
      } else if (isWrite(reason)) held = undefined; // this tab's own write is newer than anything announced before it
      post({
        type: "state",
        ...(isWrite(reason) && { id: lastWrite! }),
        reason: checks ? "verify" : reason,
        session,
        seen: recentWrites,
        server: serverClock.shared(),
        ...(checks && { re: checks.id }),
      });
    }
    syncedAt = startedAt;
    heardAt = mono();
    pollInFlight = false;
    failures = 0;
    const previous = shown();
    const same = JSON.stringify(previous.data) === JSON.stringify(session);
    store.set({
      status: session ? "authenticated" : "unauthenticated",
      data: same ? previous.data : session,
      error: null,
      isStale: false,
      updatedAt: same ? previous.updatedAt : env.now(),
    });
    if (session && (reason === "signin" || previous.status === "unauthenticated")) store.emit("signin", cause);
    else if (!session && previous.data) store.emit("signout", cause);
    if (reason === "update") store.emit("update", cause);
    if (reason === "refresh" || reason === "sync" || reason === "verify") store.emit("refresh", cause);
    schedule();
  }

  /** A check of the held message came back with `session`: it confirms the change or refutes it. */
  function settleHeld(message: StateMessage, session: Session | null) {
    held = undefined;
    if (isWrite(message.reason) && identityOf(session) === identityOf(message.session)) remember(message.id);
    if (identityOf(session) !== identityOf(message.session)) {
      droppedMessages++;
      refutedAt = mono();
    }
  }

  function fail(error: unknown) {
    const sessionError = error instanceof SessionError ? error : new SessionError("network");
    failures++;
    // Backoff spares a struggling server, but never waits longer than a poll interval: once the outage is
    // over, every tab is fresh again within about one interval. The server's Retry-After is obeyed.
    const backoff = Math.min(retryDelay(failures, env.random), interval > 0 ? interval : Infinity);
    retryAt = mono() + Math.max(backoff, Math.min(sessionError.retryAfter ?? 0, MAX_RETRY_AFTER));
    heardAt = mono();
    pollInFlight = false;
    showFailure(sessionError, "local");
    post({ type: "failure", code: sessionError.code, ...(sessionError.status && { status: sessionError.status }) });
    schedule();
  }

  function showFailure(error: SessionError, source: "local" | "remote") {
    store.set({ error, isStale: shown().status !== "loading" });
    store.emit("error", source, error);
  }

  /** Arms the timers for the current state (see {@link nextWake}); called after every change of it. */
  function schedule() {
    if (!running) return;
    const { data, isLeader, status } = shown();
    const expiresAt = data ? serverClock.monotonicAt(data.expires) : Infinity;
    expiryTimer(expiresAt, expire);
    const wake = nextWake({
      isLeader,
      linked: !!link,
      status,
      interval,
      syncedAt,
      heardAt,
      pollInFlight,
      timeout,
      visible: env.isVisible(),
      failures,
      retryAt,
      expiresAt,
      refreshedAhead: !!data && refreshedAheadOf === data.expires,
      checking: !!held,
    });
    pollTimer(wake.at, () => onWake(wake));
  }

  function onWake(wake: Wake) {
    if (mono() < wake.at) return schedule(); // a wait beyond setTimeout's range, re-armed
    if (!online()) return; // resumed by the `online` event
    if (wake.reason === "standby") return standby();
    if (wake.reason === "ahead") refreshedAheadOf = shown().data?.expires;
    const stillNeeded = wake.reason === "retry" ? () => failures > 0 || !!held : wake.reason === "ahead" ? () => true : () => mono() - syncedAt >= interval;
    void refresh({ stillNeeded });
  }

  /** The leader went silent (its page hung, say): one follower reads instead, without the read lock the leader may hold. */
  function standby() {
    if (reading && readSentAt !== Infinity) return; // this tab's own read is out; its answer re-arms the timers
    const silent = () => mono() - heardAt >= interval + standbyGrace(interval, env.isVisible());
    const task = async () => {
      if (!silent()) return;
      readAbort?.abort(); // a read still queued for the lock the silent tab holds
      await (reading = read({ lock: false }).finally(() => ((reading = undefined), schedule())));
    };
    if (!env.tryLock) return void task();
    void env.tryLock(STANDBY_LOCK, timeout + 1_000, task).then((ran) => {
      if (ran) return;
      heardAt = mono(); // another follower stands in: give it a period
      schedule();
    });
  }

  function expire() {
    const { data } = shown();
    if (!data) return;
    // Until a server has told this tab its time, "expired" is only this machine's clock speaking, and it may
    // be a day off: ask the server rather than sign the tab out on it.
    if (serverClock.shared() === undefined && !askedForClock) {
      askedForClock = true;
      return void refresh({ stillNeeded: () => serverClock.shared() === undefined });
    }
    if (serverClock.now() < Date.parse(data.expires)) return schedule();
    store.set({ status: "unauthenticated", data: null, error: null, isStale: false, updatedAt: env.now() });
    store.emit("expired", "local");
    schedule();
  }

  /**
   * One read of `GET /session`, shared by concurrent callers in this tab and
   * serialised across tabs by a lock. A `fresh` caller (the public `refresh()`,
   * typically after a change made by its own request) never joins a read whose
   * request went out before the call: it waits for it, then reads again.
   */
  function refresh(request: ReadOptions & { fresh?: boolean } = {}): Promise<SessionSnapshot> {
    if (destroyed) return Promise.resolve(shown());
    if (reading) {
      // Not decided yet: join it, adding this caller's reason to need it (it goes out if any still holds).
      if (readSentAt === Infinity) return (readNeeds.push(request.stillNeeded ?? (() => true)), reading);
      // Skipped, or already on its way before a `fresh` call: wait for it, then decide again.
      if (readSentAt === -Infinity || (request.fresh && readSentAt < mono())) return reading.then(() => refresh(request));
      return reading;
    }
    // Every read, sent or skipped, ends by re-arming the timers: a poll that joined a read that then found
    // nothing to do must not leave the leader without its next poll.
    return (reading = read(request).finally(() => ((reading = undefined), schedule())));
  }

  async function read({ stillNeeded, lock = true }: ReadOptions): Promise<SessionSnapshot> {
    const needs = (readNeeds = [stillNeeded ?? (() => true)]);
    const controller = (readAbort = new AbortController());
    readSentAt = Infinity;
    const askedAt = mono();
    const task = async () => {
      const startedAt = mono();
      // Tabs that open or focus together queue on the lock; a grant after a wait can arrive before the channel
      // message with the previous holder's answer, so let that land before asking whether a read is still needed.
      if (startedAt > askedAt) await new Promise<void>((resolve) => env.setTimeout(resolve, LOCK_SETTLE));
      // A write since this read was queued aborted it: an abort listener added now would never fire.
      if (controller.signal.aborted || !needs.some((needed) => needed())) return void (readSentAt = -Infinity);
      const writesBefore = writesApplied;
      try {
        readSentAt = mono();
        readChecks = held;
        if (shown().isLeader) post({ type: "poll" });
        const { body, server } = await transport.session(controller.signal);
        if (server) serverClock.set(server.time, server.at);
        // A write applied since the request went out (here or in another tab) may be newer than this answer.
        if (writesApplied === writesBefore) apply(body, "local", "refresh", { startedAt });
      } catch (error) {
        if (!controller.signal.aborted) fail(error);
      }
    };
    await (lock && link && env.withLock ? env.withLock(REFRESH_LOCK, timeout + 1_000, task) : task()).catch(fail);
    return shown();
  }

  /** An answer another tab announced: shown at once unless it is stale, or changes who is signed in (then checked first). */
  function receive(message: StateMessage) {
    const { reason, seen, session } = message;
    if (reason === "verify" && held && message.re === held.id) {
      settleHeld(held, session);
      return apply(session, "remote", reason, { server: message.server });
    }
    if (needsCheck(session)) return hold(message);
    // A read whose sender had not seen this tab's latest write may be older than it, if it went out before
    // that write: then it arrives within a request timeout of it. (Tabs may see concurrent writes in
    // different orders, so after that window a read is taken whatever it lists.)
    if (!isWrite(reason) && lastWrite !== null && !seen.includes(lastWrite) && mono() - lastWriteAt < timeout + 1_000) return;
    apply(session, "remote", reason, { server: message.server, ...(isWrite(reason) && { writeId: message.id }) });
  }

  /**
   * The channel is for speed, not authority: any script of the origin can post on it. A change of who is
   * signed in (another user, signed in ↔ out) or an earlier expiry is shown only once a read confirms it;
   * the tabs share one read through the lock, and every tab hears its answer.
   */
  function needsCheck(session: Session | null) {
    const { status, data } = shown();
    if (status === "loading") return false;
    if (identityOf(session) !== identityOf(data)) return true;
    return !!session && !!data && Date.parse(session.expires) < Date.parse(data.expires);
  }

  function hold(message: StateMessage) {
    if (held) droppedMessages++; // superseded before it was checked
    held = message;
    const check = () => held === message;
    // A read already out went before this message and cannot confirm it: wait for it, then read again.
    const verify = () =>
      check() && void (reading && readSentAt !== Infinity && readChecks !== message ? reading : Promise.resolve()).then(() => refresh({ stillNeeded: check }));
    checkTimer(refutedAt + throttle, verify);
  }

  function onMessage(raw: unknown) {
    const verdict = readMessage(raw);
    if (!verdict.ok) {
      droppedMessages++;
      // Something that looked like ours but failed validation (a newer client version, or a forgery):
      // the leader converges through the server, at most once per throttle window; the others hear its answer.
      if (verdict.ours && shown().isLeader && mono() - lastDropRefresh >= throttle) {
        lastDropRefresh = mono();
        void refresh();
      }
      return;
    }
    const message = verdict.message;
    if (message.type === "hello") {
      if (shown().isLeader && shown().status !== "loading")
        post({ type: "state", reason: "sync", session: shown().data, seen: recentWrites, server: serverClock.shared() });
      return;
    }
    heardAt = mono();
    pollInFlight = message.type === "poll";
    if (message.type === "state") return receive(message);
    if (message.type === "failure") showFailure(new SessionError(message.code, message.status), "remote");
    schedule();
  }

  function onFocus() {
    if (!config.refetchOnFocus || !online() || mono() - syncedAt < throttle) return;
    void refresh({ stillNeeded: () => mono() - syncedAt >= throttle });
  }

  function onOnline(isOnline: boolean) {
    if (!isOnline) {
      if (shown().status !== "loading" && !config.refetchWhenOffline) store.set({ isStale: true });
      return;
    }
    // One refresh per browser on reconnect: the leader asks, the others hear the result.
    if (shown().isLeader) void refresh();
    else schedule();
  }

  function lead(isLeader: boolean) {
    if (!running || isLeader === shown().isLeader) return;
    store.set({ isLeader });
    store.emit("leader", "local");
    schedule();
  }

  function start() {
    running = true;
    heardAt = mono();
    cleanups = [env.onFocus(onFocus), env.onOnline(onOnline)];
    if (config.crossTab) {
      try {
        link = env.openTabLink!(config.channelName);
        link.onMessage(onMessage);
        link.onLeadership(lead);
      } catch {
        // No working channel (blocked storage, a broken polyfill): work as the only tab.
        link = undefined;
        lead(true);
      }
    }
    if (shown().status === "loading") {
      if (link) {
        // Another tab may already know the session: ask it before asking the server.
        post({ type: "hello" });
        helloTimer(mono() + HELLO_WAIT, () => void refresh({ stillNeeded: () => shown().status === "loading" }));
      } else void refresh();
    }
    schedule();
  }

  function stop() {
    running = false;
    [pollTimer, expiryTimer, helloTimer, stopTimer, checkTimer].forEach((disarm) => disarm(Infinity));
    cleanups.forEach((cleanup) => cleanup());
    cleanups = [];
    link?.close();
    link = undefined;
    if (config.crossTab) store.set({ isLeader: false });
  }

  /** Counts users of the client: the first starts it, the last stops it after a grace period. */
  function retain(): () => void {
    refs++;
    stopTimer(Infinity);
    if (!running && !destroyed) start();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--refs === 0 && running) stopTimer(mono() + STOP_GRACE, stop);
    };
  }

  // A write abandons the read in flight: its answer may predate the write.
  const writer = createWriter(transport, () => readAbort?.abort());
  /** A write: queued, and rejected with `destroyed` once the client is. */
  const write = <T>(task: () => Promise<T>): Promise<T> => (destroyed ? Promise.reject(new SessionError("destroyed")) : writer.write(task));
  /** Applies this tab's own answer and tells the other tabs. */
  const commit = (session: Session | null, reason: SessionReason, server?: { time: number; at: number }) => {
    if (server) serverClock.set(server.time, server.at);
    apply(session, "local", reason);
  };
  /** After revoking sessions, the current one may be gone: read it again inside the write, before the next. */
  const revoke = (body: object) =>
    write(async () => {
      await writer.withCsrf((csrfToken) => transport.postJson("/sessions/revoke", { ...body, csrfToken }));
      const { body: session, server } = await transport.session();
      commit(session, session ? "update" : "signout", server);
    });

  return {
    basePath: config.basePath,
    getSnapshot: shown,

    subscribe(listener) {
      const unlisten = store.listen(listener);
      const release = retain();
      return () => (unlisten(), release());
    },

    refresh: () => refresh({ fresh: true }),

    update(data) {
      return write(async () => {
        if (shown().status === "loading") await refresh();
        if (shown().status !== "authenticated") throw new SessionError("unauthenticated");
        const { body: session, server } = await writer.withCsrf((token) => transport.session(undefined, { csrfToken: token, data }));
        commit(session, "update", server);
        return session;
      });
    },

    signIn(provider, fields, { redirect = true, callbackUrl } = {}) {
      return write(async (): Promise<SignInResult> => {
        const outcome = await writer.postForm(`/callback/${provider}`, fields, callbackUrl ?? env.href() ?? "/");
        if (outcome.error) return { ok: false, error: outcome.error, status: outcome.status, url: null };
        const { url, status } = outcome;
        let error: string | null = null;
        try {
          error = new URL(url!, "http://base.invalid").searchParams.get("error");
        } catch {
          // Not a URL: no error code in it.
        }
        if (error) return { ok: false, error, status: status === 200 ? 401 : status, url };
        const { body, server } = await transport.session();
        commit(body, "signin", server);
        if (redirect) env.navigate(url!);
        return { ok: true, error, status, url };
      });
    },

    signOut({ redirect = true, callbackUrl } = {}) {
      return write(async () => {
        const outcome = await writer.postForm("/signout", {}, callbackUrl ?? env.href() ?? "/");
        if (outcome.error) throw new SessionError("http", outcome.status, config.basePath + "/signout");
        commit(null, "signout");
        if (redirect) env.navigate(outcome.url!);
        return { url: outcome.url! };
      });
    },

    async listSessions() {
      const { body } = await transport.get("/sessions");
      if (!Array.isArray(body)) throw new SessionError("invalid_response", 200, config.basePath + "/sessions");
      return body as SessionListing[];
    },
    revokeSession: (id) => revoke({ id }),
    revokeOtherSessions: () => revoke({ others: true }),
    signOutEverywhere: () => revoke({ all: true }),

    on(type, handler) {
      const off = store.on(type, handler);
      const release = retain();
      return () => (off(), release());
    },

    destroy() {
      if (destroyed) return;
      if (running) stop(); // stop() disarms stopTimer, which is only ever armed while running
      destroyed = true;
      readAbort?.abort();
      store.clear();
    },

    get droppedMessages() {
      return droppedMessages;
    },
  };
}

import type { Session } from "../shared/session.js";
import { retryDelay } from "./backoff.js";
import { browserEnv } from "./browser-env.js";
import type { ClientEnv, TabLink } from "./env.js";
import { SessionError } from "./errors.js";
import { PROTOCOL_VERSION, readMessage, type SessionReason } from "./messages.js";
import { createTransport } from "./transport.js";
import type { SessionClient, SessionClientOptions, SessionEvent, SessionEventType, SessionSnapshot, SignInResult } from "./types.js";

/** Wait for another tab to answer `hello` before asking the server, ms. */
const HELLO_WAIT = 100;
/** Keep running this long after the last subscriber leaves, so a remount (React Strict Mode) does not restart anything, ms. */
const STOP_GRACE = 1_000;
const REFRESH_LOCK = "sessionpulse:refresh";
/** Pause, after a conditional refresh waited for the lock, before it asks whether it is still needed, ms. */
const LOCK_SETTLE = 10;
/** setTimeout's largest delay (browsers fire longer ones at once); longer waits are re-armed when they fire, ms. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Reads a duration option, returning ms (`fallback` is in ms); a caller mistake is a TypeError at creation.
 * Given in seconds (`scale` 1000), where 0 turns it off, or, for `timeout`, in ms (`scale` 1), where it must be
 * above 0 (at 0 every request would time out at once).
 */
const duration = (value: unknown, name: string, fallback: number, scale = 1000) => {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(scale > 1 ? value >= 0 : value > 0))
    throw new TypeError(`sessionpulse: ${name} must be a ${scale > 1 ? "non-negative number of seconds" : "positive number of ms"}`);
  return value * scale;
};

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
  const env: ClientEnv = { ...browserEnv(), ...options.env, ...(options.fetch && { fetch: options.fetch }) };
  const interval = duration(options.refetchInterval, "refetchInterval", 300_000);
  const throttle = duration(options.focusThrottle, "focusThrottle", 5_000);
  // Capped so that it and the lock hold (timeout + 1 s) stay within setTimeout's range: `Infinity` means "no practical limit".
  const timeout = Math.min(MAX_DELAY - 1_000, duration(options.timeout, "timeout", 10_000, 1));
  const refetchOnFocus = options.refetchOnWindowFocus !== false;
  const crossTab = options.crossTab !== false && !!env.openTabLink;
  const basePath = (options.basePath ?? "/api/auth").replace(/\/+$/, "");
  const transport = createTransport(env, basePath, timeout);
  const tabId = `${env.now().toString(36)}-${env.random().toString(36).slice(2, 10)}`;
  const initial = options.initialSession;
  const created = env.now();

  let snapshot: SessionSnapshot = {
    status: initial === undefined ? "loading" : initial ? "authenticated" : "unauthenticated",
    data: initial ?? null,
    error: null,
    isStale: false,
    updatedAt: created,
    isLeader: !crossTab,
  };
  /**
   * Ordering key (see `TabMessage`) of the last server answer this tab applied, its own or another tab's,
   * local ms: older states are ignored, and polls and the focus throttle count from it.
   */
  let syncedAt = initial === undefined ? -Infinity : created;
  /** Server clock minus ours, ms. */
  let offset = 0;
  let failures = 0;
  let retryAt = 0;
  /** The `expires` we already refreshed ahead of, so an unchanged expiry does not loop. */
  let refreshedAheadOf: string | undefined;
  let reading: Promise<SessionSnapshot> | undefined;
  /** When the latest read sent its request: its answer may predate a change made since. */
  let readSentAt = Infinity;
  let readAbort: AbortController | undefined;
  let writeQueue: Promise<unknown> = Promise.resolve();
  let csrfToken: Promise<string> | undefined;
  let link: TabLink | undefined;
  let running = false;
  let destroyed = false;
  let refs = 0;
  let cleanups: Array<() => void> = [];
  let lastDropRefresh = -Infinity;
  const listeners = new Set<() => void>();
  const handlers = new Map<SessionEventType, Set<(event: SessionEvent) => void>>();
  /** Messages from the channel that failed validation; for diagnostics and tests. */
  let droppedMessages = 0;

  const now = () => env.now();
  const online = () => options.refetchWhenOffline === true || env.isOnline();
  /** A one-shot timer that re-arming replaces; `Infinity` disarms it (and needs no `run`). */
  const timer = () => {
    let handle: unknown;
    return (at: number, run?: () => void) => {
      env.clearTimeout(handle);
      handle = at === Infinity ? undefined : env.setTimeout(run!, Math.min(MAX_DELAY, Math.max(0, at - now())));
    };
  };
  const pollTimer = timer();
  const expiryTimer = timer();
  const helloTimer = timer();
  const stopTimer = timer();

  // A throwing listener must not break the client or the other listeners: report it asynchronously.
  const safely = (run: () => void) => {
    try {
      run();
    } catch (error) {
      env.setTimeout(() => {
        throw error;
      }, 0);
    }
  };

  function set(patch: Partial<SessionSnapshot>) {
    const next = { ...snapshot, ...patch };
    if ((Object.keys(next) as Array<keyof SessionSnapshot>).every((key) => next[key] === snapshot[key])) return;
    snapshot = next;
    listeners.forEach((listener) => safely(listener));
  }

  function emit(type: SessionEventType, source: SessionEvent["source"], error?: SessionError) {
    const event: SessionEvent = { type, source, session: snapshot.data, ...(error && { error }) };
    handlers.get(type)?.forEach((handler) => safely(() => handler(event)));
  }

  function broadcast(reason: SessionReason, session: Session | null, at: number, serverOffset = offset) {
    link?.post({ v: PROTOCOL_VERSION, type: "session", from: tabId, at, reason, session, offset: serverOffset });
  }

  /**
   * Applies a server answer (ours or another tab's) unless a newer one is
   * already shown. This tab's own answers go to the other tabs first, before
   * its listeners render, so they do not wait for this tab's render.
   */
  function apply(session: Session | null, at: number, source: SessionEvent["source"], reason: SessionReason, serverOffset?: number) {
    if (at < syncedAt) return;
    if (source === "local") broadcast(reason, session, at, serverOffset);
    // A read's answer is as old as its request: polls keep their rhythm instead of drifting by the latency.
    syncedAt = at;
    failures = 0;
    if (serverOffset !== undefined) offset = serverOffset;
    const previous = snapshot;
    const same = JSON.stringify(previous.data) === JSON.stringify(session);
    set({
      status: session ? "authenticated" : "unauthenticated",
      data: same ? previous.data : session,
      error: null,
      isStale: false,
      updatedAt: same ? previous.updatedAt : now(),
    });
    if (session && (reason === "signin" || previous.status === "unauthenticated")) emit("signin", source);
    else if (!session && previous.data) emit("signout", source);
    if (reason === "update") emit("update", source);
    if (reason === "refresh" || reason === "sync") emit("refresh", source);
    schedule();
  }

  function fail(error: unknown) {
    const sessionError = error instanceof SessionError ? error : new SessionError("network");
    failures++;
    retryAt = now() + retryDelay(failures, env.random);
    set({ error: sessionError, isStale: snapshot.status !== "loading" });
    emit("error", "local", sessionError);
    schedule();
  }

  /** Local time at which the shown session expires, judged by the server's clock. */
  const expiresAt = () => (snapshot.data ? Date.parse(snapshot.data.expires) - offset : Infinity);

  /**
   * Arms the timers for the current state: every tab drops a session at its
   * expiry; only the leader polls, retries, and refreshes ahead of expiry.
   */
  function schedule() {
    if (!running) return;
    const expires = expiresAt();
    expiryTimer(expires, expire);
    let due = Infinity;
    let ahead = false;
    if (snapshot.isLeader) {
      if (failures > 0) due = retryAt;
      else if (snapshot.status !== "unauthenticated") {
        if (interval > 0) due = syncedAt + interval;
        // Refresh before the session would lapse between two polls (margin: a quarter of what is left, at most a minute).
        const aheadAt = expires - Math.min(60_000, (expires - syncedAt) / 4);
        if (snapshot.data && refreshedAheadOf !== snapshot.data.expires && aheadAt < due) {
          due = aheadAt;
          ahead = true;
        }
      }
    }
    pollTimer(due, () => {
      if (now() < due) return schedule();
      if (!online()) return; // resumed by the `online` event
      if (ahead) refreshedAheadOf = snapshot.data?.expires;
      void refresh(() => failures > 0 || ahead || now() - syncedAt >= interval);
    });
  }

  function expire() {
    if (!snapshot.data) return;
    if (now() < expiresAt()) return schedule();
    set({ status: "unauthenticated", data: null, error: null, isStale: false, updatedAt: now() });
    emit("expired", "local");
    schedule();
  }

  /**
   * One read of `GET /session`, shared by concurrent callers in this tab and
   * serialised across tabs by a lock. `stillNeeded` is asked again once the
   * lock is held: another tab may have brought the answer meanwhile. A `fresh`
   * caller (the public `refresh()`, typically after a change made by its own
   * request) never joins a read whose request went out before the call: it
   * waits for it, then reads again.
   */
  function refresh(stillNeeded?: () => boolean, fresh?: boolean): Promise<SessionSnapshot> {
    if (destroyed) return Promise.resolve(snapshot);
    if (fresh && reading && readSentAt < now()) return reading.then(() => refresh(undefined, true));
    return (reading ??= read(stillNeeded).finally(() => (reading = undefined)));
  }

  async function read(stillNeeded?: () => boolean): Promise<SessionSnapshot> {
    const controller = (readAbort = new AbortController());
    readSentAt = Infinity;
    const askedAt = now();
    const task = async () => {
      // Stamped before the pause: an earlier key is the safe side (newer states win), and polls keep their rhythm.
      const startedAt = now();
      // Tabs that open or focus together queue on the lock; a grant after a wait can arrive before the channel
      // message with the previous holder's answer, so let that land before asking whether a read is still needed.
      if (stillNeeded && startedAt > askedAt) await new Promise<void>((resolve) => env.setTimeout(resolve, LOCK_SETTLE));
      // A write since this read was queued aborted it: an abort listener added now would never fire.
      if (controller.signal.aborted || (stillNeeded && !stillNeeded())) return;
      try {
        readSentAt = now();
        const { body, offset: serverOffset } = await transport.session(controller.signal);
        // A write that completed after this read started has a later key: apply() keeps its outcome.
        apply(body, startedAt, "local", "refresh", serverOffset);
      } catch (error) {
        if (!controller.signal.aborted) fail(error);
      }
    };
    await (link && env.withLock ? env.withLock(REFRESH_LOCK, timeout + 1_000, task) : task()).catch(fail);
    return snapshot;
  }

  /** Runs state-changing requests one at a time, in call order; a read in flight is abandoned. */
  function write<T>(task: () => Promise<T>): Promise<T> {
    if (destroyed) return Promise.reject(new SessionError("destroyed"));
    readAbort?.abort();
    const run = writeQueue.then(task);
    writeQueue = run.catch(() => {});
    return run;
  }

  /** Posts with the cached CSRF token; a refused token is fetched again once. */
  async function withCsrf<T>(send: (token: string) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const token = await (csrfToken ??= transport.csrf().catch((error) => {
        csrfToken = undefined;
        throw error;
      }));
      try {
        return await send(token);
      } catch (error) {
        if (!(error instanceof SessionError && error.status === 403)) throw error;
        csrfToken = undefined;
        if (attempt > 0) throw new SessionError("csrf", 403);
      }
    }
  }

  function onMessage(raw: unknown) {
    const verdict = readMessage(raw, tabId, now());
    if (!verdict.ok) {
      droppedMessages++;
      // Something that looked like ours but failed validation (a newer client version, or a forgery):
      // converge through the server, at most once per throttle window, and only where this tab may ask.
      if (verdict.ours && (snapshot.isLeader || env.isVisible()) && now() - lastDropRefresh >= throttle) {
        lastDropRefresh = now();
        void refresh();
      }
      return;
    }
    const message = verdict.message;
    if (message.type === "hello") {
      if (snapshot.isLeader && snapshot.status !== "loading") broadcast("sync", snapshot.data, syncedAt);
      return;
    }
    apply(message.session, message.at, "remote", message.reason, message.offset);
  }

  function onFocus() {
    if (!refetchOnFocus || !online() || now() - syncedAt < throttle) return;
    void refresh(() => now() - syncedAt >= throttle);
  }

  function onOnline(isOnline: boolean) {
    if (!isOnline) {
      if (snapshot.status !== "loading" && !options.refetchWhenOffline) set({ isStale: true });
      return;
    }
    // One refresh per browser on reconnect: the leader asks, the others hear the result.
    if (snapshot.isLeader) void refresh();
    else schedule();
  }

  function lead(isLeader: boolean) {
    if (!running || isLeader === snapshot.isLeader) return;
    set({ isLeader });
    emit("leader", "local");
    schedule();
  }

  function start() {
    running = true;
    cleanups = [env.onFocus(onFocus), env.onOnline(onOnline)];
    if (crossTab) {
      try {
        link = env.openTabLink!(options.channelName ?? "sessionpulse");
        link.onMessage(onMessage);
        link.onLeadership(lead);
      } catch {
        // No working channel (blocked storage, a broken polyfill): work as the only tab.
        link = undefined;
        lead(true);
      }
    }
    if (snapshot.status === "loading") {
      if (link) {
        // Another tab may already know the session: ask it before asking the server.
        link.post({ v: PROTOCOL_VERSION, type: "hello", from: tabId });
        helloTimer(now() + HELLO_WAIT, () => void refresh(() => snapshot.status === "loading"));
      } else void refresh();
    }
    schedule();
  }

  function stop() {
    running = false;
    [pollTimer, expiryTimer, helloTimer, stopTimer].forEach((disarm) => disarm(Infinity));
    cleanups.forEach((cleanup) => cleanup());
    cleanups = [];
    link?.close();
    link = undefined;
    if (crossTab) set({ isLeader: false });
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
      if (--refs === 0 && running) stopTimer(now() + STOP_GRACE, stop);
    };
  }

  /** Applies this tab's own answer and, unless something newer is shown, tells the other tabs. */
  function commit(session: Session | null, reason: SessionReason, serverOffset?: number) {
    apply(session, now(), "local", reason, serverOffset);
  }

  /**
   * A form post answered with `{ url }` (sign-in, sign-out), the way the Auth.js
   * clients do it: `json: "true"` for next-auth v4 servers, the
   * `X-Auth-Return-Redirect` header (sent by the transport) for v5 and ours. A
   * refused sign-in still carries its `url` (with `error=`) in a 401 body.
   */
  async function postForm(path: string, fields: Record<string, string>, requested: string | undefined) {
    const callbackUrl = requested ?? env.href() ?? "/";
    let body: unknown;
    let status = 200;
    try {
      ({ body } = await withCsrf((token) => transport.post(path, { ...fields, csrfToken: token, callbackUrl, json: "true" })));
    } catch (error) {
      body = (error as { body?: { url?: unknown } }).body;
      if (!(error instanceof SessionError && typeof (body as { url?: unknown } | null)?.url === "string")) throw error;
      status = error.status!;
    }
    const url = (body as { url?: unknown } | null)?.url;
    return { url: typeof url === "string" ? url : callbackUrl, status };
  }

  return {
    basePath,
    getSnapshot: () => snapshot,

    subscribe(listener) {
      listeners.add(listener);
      const release = retain();
      return () => {
        listeners.delete(listener);
        release();
      };
    },

    refresh: () => refresh(undefined, true),

    update(data) {
      return write(async () => {
        if (snapshot.status === "loading") await refresh();
        if (snapshot.status !== "authenticated") throw new SessionError("unauthenticated");
        const { body: session } = await withCsrf((token) => transport.session(undefined, { csrfToken: token, data }));
        commit(session, "update");
        return session;
      });
    },

    signIn(provider, fields, { redirect = true, callbackUrl } = {}) {
      return write(async (): Promise<SignInResult> => {
        const { url, status } = await postForm(`/callback/${provider}`, fields, callbackUrl);
        let error: string | null = null;
        try {
          error = new URL(url, "http://base.invalid").searchParams.get("error");
        } catch {
          // Not a URL: no error code in it.
        }
        if (error) return { ok: false, error, status: status === 200 ? 401 : status, url };
        const { body, offset: serverOffset } = await transport.session();
        commit(body, "signin", serverOffset);
        if (redirect) env.navigate(url);
        return { ok: true, error, status, url };
      });
    },

    signOut({ redirect = true, callbackUrl } = {}) {
      return write(async () => {
        const { url } = await postForm("/signout", {}, callbackUrl);
        commit(null, "signout");
        if (redirect) env.navigate(url);
        return { url };
      });
    },

    on(type, handler) {
      let bucket = handlers.get(type);
      if (!bucket) handlers.set(type, (bucket = new Set()));
      bucket.add(handler);
      const release = retain();
      return () => {
        bucket.delete(handler);
        release();
      };
    },

    destroy() {
      if (destroyed) return;
      if (running) stop(); // stop() disarms stopTimer, which is only ever armed while running
      destroyed = true;
      readAbort?.abort();
      listeners.clear();
      handlers.clear();
    },

    get droppedMessages() {
      return droppedMessages;
    },
  };
}

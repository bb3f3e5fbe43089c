import type { Session } from "../shared/session.js";
import { retryDelay } from "./backoff.js";
import { browserEnv } from "./browser-env.js";
import type { ClientEnv, TabLink } from "./env.js";
import { SessionError } from "./errors.js";
import { PROTOCOL_VERSION, readMessage, type SessionReason } from "./messages.js";
import { readSession } from "./session-shape.js";
import { createTransport } from "./transport.js";
import type { SessionClient, SessionClientOptions, SessionEvent, SessionEventType, SessionSnapshot, SignInResult } from "./types.js";

/** Wait for another tab to answer `hello` before asking the server, ms. */
const HELLO_WAIT = 100;
/** Keep running this long after the last subscriber leaves, so a remount (React Strict Mode) does not restart anything, ms. */
const STOP_GRACE = 1_000;
const REFRESH_LOCK = "sessionpulse:refresh";
/** setTimeout's largest delay; longer waits are re-armed when they fire. */
const MAX_DELAY = 2 ** 31 - 1;

const seconds = (value: unknown, name: string, fallback: number) => {
  if (value === undefined) return fallback * 1000;
  if (typeof value !== "number" || !(value >= 0)) throw new TypeError(`sessionpulse: ${name} must be a non-negative number of seconds`);
  return value * 1000;
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
  const interval = seconds(options.refetchInterval, "refetchInterval", 300);
  const throttle = seconds(options.focusThrottle, "focusThrottle", 5);
  const timeout = options.timeout ?? 10_000;
  const refetchOnFocus = options.refetchOnWindowFocus !== false;
  const crossTab = options.crossTab !== false && !!env.openTabLink;
  const transport = createTransport(env, options.basePath ?? "/api/auth", timeout);
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
  /** Ordering key of the data shown (see `TabMessage`); older states are ignored. */
  let orderKey = initial === undefined ? -Infinity : created;
  /** Ordering key of the last server answer this tab learned (its own or another tab's), local ms. */
  let syncedAt = initial === undefined ? -Infinity : created;
  /** Server clock minus ours, ms. */
  let offset = 0;
  let failures = 0;
  let retryAt = 0;
  /** The `expires` we already refreshed ahead of, so an unchanged expiry does not loop. */
  let refreshedAheadOf: string | undefined;
  let reading: Promise<SessionSnapshot> | undefined;
  let readAbort: AbortController | undefined;
  let writeQueue: Promise<unknown> = Promise.resolve();
  let csrfToken: Promise<string> | undefined;
  let link: TabLink | undefined;
  let running = false;
  let destroyed = false;
  let refs = 0;
  let cleanups: Array<() => void> = [];
  let lastDropRefresh = -Infinity;
  const timers: Record<"poll" | "expiry" | "stop" | "hello", unknown> = { poll: undefined, expiry: undefined, stop: undefined, hello: undefined };
  const listeners = new Set<() => void>();
  const handlers = new Map<SessionEventType, Set<(event: SessionEvent) => void>>();
  /** Messages from the channel that failed validation; for diagnostics and tests. */
  let droppedMessages = 0;

  const now = () => env.now();
  const online = () => options.refetchWhenOffline === true || env.isOnline();
  const arm = (name: keyof typeof timers, at: number, run: () => void) => {
    env.clearTimeout(timers[name]);
    timers[name] = at === Infinity ? undefined : env.setTimeout(run, Math.min(MAX_DELAY, Math.max(0, at - now())));
  };

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

  function broadcast(reason: SessionReason, session: Session | null, at: number) {
    link?.post({ v: PROTOCOL_VERSION, type: "session", from: tabId, at, reason, session, offset });
  }

  /** Applies a server answer (ours or another tab's) unless a newer one is already shown. */
  function apply(session: Session | null, at: number, source: SessionEvent["source"], reason: SessionReason, serverOffset?: number): boolean {
    if (at < orderKey) return false;
    orderKey = at;
    // The answer is as old as its request: polls keep their rhythm instead of drifting by the latency.
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
    return true;
  }

  function fail(error: unknown) {
    const sessionError = error instanceof SessionError ? error : new SessionError("network", String(error));
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
    arm("expiry", expires, expire);
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
    arm("poll", due, () => {
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
   * lock is held: another tab may have brought the answer meanwhile.
   */
  function refresh(stillNeeded: () => boolean = () => true): Promise<SessionSnapshot> {
    if (destroyed) return Promise.resolve(snapshot);
    return (reading ??= read(stillNeeded).finally(() => (reading = undefined)));
  }

  async function read(stillNeeded: () => boolean): Promise<SessionSnapshot> {
    const controller = (readAbort = new AbortController());
    const task = async () => {
      if (!stillNeeded()) return;
      const startedAt = now();
      try {
        const { body, offset: serverOffset } = await transport.session(controller.signal);
        // A write that completed after this read started has a later key: apply() keeps its outcome.
        if (apply(body, startedAt, "local", "refresh", serverOffset)) broadcast("refresh", body, startedAt);
      } catch (error) {
        if (!controller.signal.aborted) fail(error);
      }
    };
    await (link && env.withLock ? env.withLock(REFRESH_LOCK, timeout + 1_000, task) : task()).catch(fail);
    return snapshot;
  }

  /** Runs state-changing requests one at a time, in call order; a read in flight is abandoned. */
  function write<T>(task: () => Promise<T>): Promise<T> {
    if (destroyed) return Promise.reject(new SessionError("destroyed", "the session client was destroyed"));
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
        if (attempt > 0) throw new SessionError("csrf", "the server refused the CSRF token", 403);
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
      if (snapshot.isLeader && snapshot.status !== "loading") broadcast("sync", snapshot.data, orderKey);
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

  function start() {
    running = true;
    cleanups = [env.onFocus(onFocus), env.onOnline(onOnline)];
    if (crossTab) {
      link = env.openTabLink!(options.channelName ?? "sessionpulse");
      link.onMessage(onMessage);
      link.onLeadership((isLeader) => {
        if (!running || isLeader === snapshot.isLeader) return;
        set({ isLeader });
        emit("leader", "local");
        schedule();
      });
    }
    if (snapshot.status === "loading") {
      if (link) {
        // Another tab may already know the session: ask it before asking the server.
        link.post({ v: PROTOCOL_VERSION, type: "hello", from: tabId });
        arm("hello", now() + HELLO_WAIT, () => void refresh(() => snapshot.status === "loading"));
      } else void refresh();
    }
    schedule();
  }

  function stop() {
    running = false;
    for (const name of Object.keys(timers) as Array<keyof typeof timers>) arm(name, Infinity, () => {});
    cleanups.forEach((cleanup) => cleanup());
    cleanups = [];
    link?.close();
    link = undefined;
    if (crossTab) set({ isLeader: false });
  }

  /** Counts users of the client: the first starts it, the last stops it after a grace period. */
  function retain(): () => void {
    refs++;
    arm("stop", Infinity, () => {});
    if (!running && !destroyed) start();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--refs === 0 && running) arm("stop", now() + STOP_GRACE, stop);
    };
  }

  const callbackUrl = (requested: string | undefined) => requested ?? env.href() ?? "/";

  return {
    getSnapshot: () => snapshot,

    subscribe(listener) {
      listeners.add(listener);
      const release = retain();
      return () => {
        listeners.delete(listener);
        release();
      };
    },

    refresh: () => refresh(),

    update(data) {
      return write(async () => {
        if (snapshot.status === "loading") await refresh();
        if (snapshot.status !== "authenticated") throw new SessionError("unauthenticated", "update() needs a signed-in session");
        const { body } = await withCsrf((token) => transport.postJson("/session", { csrfToken: token, data }));
        const session = readSession(body);
        if (session === undefined) throw new SessionError("invalid_response", "/session did not answer a session");
        const at = now();
        if (apply(session, at, "local", "update")) broadcast("update", session, at);
        return session;
      });
    },

    signIn(provider, fields, { redirect = true, callbackUrl: requested } = {}) {
      return write(async (): Promise<SignInResult> => {
        let url: string | null = null;
        let status = 200;
        try {
          // `json: "true"` for next-auth v4 servers; the X-Auth-Return-Redirect header (sent by the transport) for v5 and ours.
          const { body } = await withCsrf((token) => transport.post(`/callback/${provider}`, { ...fields, csrfToken: token, callbackUrl: callbackUrl(requested), json: "true" }));
          url = typeof (body as { url?: unknown })?.url === "string" ? (body as { url: string }).url : null;
        } catch (error) {
          const failed = (error as { body?: { url?: unknown } }).body?.url;
          if (!(error instanceof SessionError && error.code === "http" && typeof failed === "string")) throw error;
          url = failed;
          status = error.status ?? 401;
        }
        let authError: string | null = null;
        try {
          authError = url ? new URL(url, "http://base.invalid").searchParams.get("error") : null;
        } catch {}
        if (authError) return { ok: false, error: authError, status: status === 200 ? 401 : status, url };
        const { body: session, offset: serverOffset } = await transport.session();
        const at = now();
        if (apply(session, at, "local", "signin", serverOffset)) broadcast("signin", session, at);
        if (redirect && url) env.navigate(url);
        return { ok: true, error: null, status, url };
      });
    },

    signOut({ redirect = true, callbackUrl: requested } = {}) {
      return write(async () => {
        const target = callbackUrl(requested);
        const { body } = await withCsrf((token) => transport.post("/signout", { csrfToken: token, callbackUrl: target, json: "true" }));
        const at = now();
        if (apply(null, at, "local", "signout")) broadcast("signout", null, at);
        const url = typeof (body as { url?: unknown })?.url === "string" ? (body as { url: string }).url : target;
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
      if (running) stop();
      arm("stop", Infinity, () => {});
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

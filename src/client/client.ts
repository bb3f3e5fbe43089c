import type { Session } from "../shared/session.js";
import { retryDelay } from "./backoff.js";
import type { TabLink } from "./env.js";
import { SessionError } from "./errors.js";
import type { OutgoingMessage, SessionReason, StateMessage } from "./messages.js";
import { MAX_DELAY, readOptions } from "./options.js";
import type { OperationHooks, Operations } from "./operations.js";
import { createReader } from "./reader.js";
import { nextWake, standbyGrace, type Wake } from "./schedule.js";
import { createServerClock } from "./server-clock.js";
import { createSnapshotStore } from "./snapshot-store.js";
import { readSession } from "./session-shape.js";
import type { TabProtocol, TabProtocolModule } from "./tab-protocol.js";
import { createTransport } from "./transport.js";
import type { SessionClient, SessionClientOptions, SessionSnapshot } from "./types.js";

/** Wait for another tab to answer `hello` before asking the server, ms. */
const HELLO_WAIT = 100;
/** Keep running this long after the last subscriber leaves, so a remount (React Strict Mode) does not restart anything, ms. */
const STOP_GRACE = 1_000;
/** The longest `Retry-After` obeyed, ms: a misconfigured server must not silence the client for days. */
const MAX_RETRY_AFTER = 300_000;

/** A chunk loaded on first use, once; a failed load (offline, or removed by a deploy) is tried again by the next call. */
function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
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

  // Lifecycle.
  let link: TabLink | undefined;
  let running = false;
  let destroyed = false;
  let refs = 0;
  let cleanups: Array<() => void> = [];
  /** What the tabs tell each other: loaded with the link (a chunk of its own), created on the first join and kept across restarts. */
  let tabs: TabProtocol | undefined;
  /**
   * This tab's writes applied, counted here because a tab with no link has no protocol: a read sent before one is
   * not shown. The protocol counts the writes it hears of (a linked tab's own too): only a change of the sum matters.
   */
  let ownWrites = 0;
  /** Why this tab last changed its state before its link was up: the change is announced once it is. */
  let unannounced: SessionReason | undefined;

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
  const joinTimer = timer();

  const post = (message: OutgoingMessage) => tabs?.post(message);

  const reader = createReader<StateMessage | undefined>(env, transport, timeout, {
    locked: () => !!link,
    writes: () => ownWrites + (tabs?.writes ?? 0),
    sending() {
      if (shown().isLeader) post({ type: "poll" });
      return tabs?.held;
    },
    answered(session, server, startedAt, mark) {
      if (server) serverClock.set(server.time, server.at);
      apply(session, "local", "refresh", { startedAt, mark });
    },
    failed: (error) => fail(error),
    settled: () => schedule(),
  });

  /** Runs a read unless the client is destroyed; resolves with the snapshot after it. */
  const refresh = async (request?: Parameters<typeof reader.refresh>[0]): Promise<SessionSnapshot> => {
    if (!destroyed) await reader.refresh(request);
    return shown();
  };

  /**
   * Shows a server answer: this tab's own (`local`: first sent to the other tabs, so they do not wait for
   * this tab's render) or one another tab sent and this tab accepted (`remote`).
   */
  function apply(
    session: Session | null,
    source: "local" | "remote",
    reason: SessionReason,
    { startedAt = mono(), server, writeId, mark }: { startedAt?: number; server?: number; writeId?: string; mark?: StateMessage } = {},
  ) {
    if (server !== undefined) serverClock.set(server);
    // A read confirming another tab's announced change: the change, and so its events, came from that tab.
    let cause = source;
    if (source === "local") {
      if (reason !== "refresh") ownWrites++; // a local answer is a read's (`refresh`) or a write's
      if (link) cause = tabs!.announce(session, reason, mark);
      else unannounced = reason;
    } else if (writeId) tabs!.remember(writeId);
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
      checking: !!tabs?.held,
    });
    pollTimer(wake.at, () => onWake(wake));
  }

  function onWake(wake: Wake) {
    if (mono() < wake.at) return schedule(); // a wait beyond setTimeout's range, re-armed
    if (!online()) return; // resumed by the `online` event
    // The leader went silent: one follower stands in (see the protocol), if it still is once that one is chosen.
    if (wake.reason === "standby") return tabs?.standby(() => mono() - heardAt >= interval + standbyGrace(interval, env.isVisible()));
    if (wake.reason === "ahead") refreshedAheadOf = shown().data?.expires;
    const stillNeeded =
      wake.reason === "retry"
        ? () => failures > 0 || !!tabs?.held || shown().status === "loading"
        : wake.reason === "ahead"
          ? () => true
          : () => mono() - syncedAt >= interval;
    void refresh({ stillNeeded });
  }

  function expire() {
    const { data } = shown();
    if (!data) return;
    // Until a server has told this tab its time, "expired" is only this machine's clock speaking, and it may
    // be a day off: ask the server once rather than sign the tab out on it.
    if (serverClock.shared() === undefined && !askedForClock) {
      askedForClock = true;
      return void refresh({ stillNeeded: () => serverClock.shared() === undefined });
    }
    if (serverClock.now() < Date.parse(data.expires)) return schedule();
    store.set({ status: "unauthenticated", data: null, error: null, isStale: false, updatedAt: env.now() });
    store.emit("expired", "local");
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
    // One refresh per browser on reconnect: the leader asks, the others hear the result (and give it a
    // period before standing in: the leader was silent only because the browser was offline).
    if (shown().isLeader) return void refresh();
    heardAt = mono();
    schedule();
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
      // The tab protocol and the browser's link are chunks of their own, fetched while the first read is on its
      // way; until both are here this tab works alone (it does not lead, so nothing polls twice). Should they
      // never come, it leads itself.
      joinTimer(mono() + timeout, () => lead(true));
      const opening = new Promise<TabLink>((resolve) => resolve(env.openTabLink!(config.channelName)));
      void Promise.all([loadProtocol(), opening]).then(
        ([loaded, opened]) => join(loaded, opened),
        () => {
          // No working channel (blocked storage, a broken polyfill, a chunk that failed to load): the only tab.
          void opening.then(
            (opened) => opened.close(),
            () => {},
          );
          lead(true);
        },
      );
    }
    if (shown().status === "loading") {
      // Another tab may already know the session: give it a moment to answer this tab's hello before asking the server.
      if (config.crossTab) helloTimer(mono() + HELLO_WAIT, () => void refresh({ stillNeeded: () => shown().status === "loading" }));
      else void refresh();
    }
    schedule();
  }

  const loadProtocol = loadOnce((): Promise<TabProtocolModule> => import("./tab-protocol.js"));

  /** Links this tab to the others once the protocol and the link are here. */
  function join({ createTabProtocol }: TabProtocolModule, opened: TabLink) {
    if (!running || link) return opened.close(); // stopped meanwhile, or an earlier start's link is up
    joinTimer(Infinity);
    tabs ??= createTabProtocol(
      env,
      { throttle, timeout },
      {
        shown,
        send: (message) => link?.post(message),
        apply: (session, reason, server, writeId) => apply(session, "remote", reason, { server, writeId }),
        showFailure: (code, status) => (showFailure(new SessionError(code, status), "remote"), schedule()),
        heard(polling) {
          heardAt = mono();
          pollInFlight = polling ?? pollInFlight;
          schedule();
        },
        refresh,
        serverTime: serverClock.shared,
        checkTimer,
        readSession,
      },
    );
    tabs.use(reader);
    link = opened;
    link.onMessage(tabs.onMessage);
    lead(false); // a tab that led itself while the protocol was late joins the election like the others
    link.onLeadership(lead);
    const { status, data } = shown();
    if (status === "loading") post({ type: "hello" });
    else if (unannounced) tabs.announce(data, unannounced);
    unannounced = undefined;
    schedule();
  }

  function stop() {
    running = false;
    [pollTimer, expiryTimer, helloTimer, stopTimer, checkTimer, joinTimer].forEach((disarm) => disarm(Infinity));
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

  const hooks: OperationHooks = {
    shown,
    refresh: () => refresh(),
    commit(session, reason, server) {
      if (server) serverClock.set(server.time, server.at);
      apply(session, "local", reason);
    },
    destroyed: () => destroyed,
  };
  /** The write side, loaded on its first call (most page views only read the session). */
  const loadOperations = loadOnce(() =>
    import("./operations.js").then(({ createOperations }) => createOperations(env, config.basePath, transport, () => reader.abort(), hooks)),
  );
  const write = <K extends keyof Operations>(name: K): Operations[K] =>
    ((...args: unknown[]) => loadOperations().then((loaded) => (loaded[name] as (...args: unknown[]) => Promise<unknown>)(...args))) as Operations[K];

  return {
    update: write("update"),
    signIn: write("signIn"),
    signOut: write("signOut"),
    listSessions: write("listSessions"),
    revokeSession: write("revokeSession"),
    revokeOtherSessions: write("revokeOtherSessions"),
    signOutEverywhere: write("signOutEverywhere"),
    basePath: config.basePath,
    getSnapshot: shown,

    subscribe(listener) {
      const unlisten = store.listen(listener);
      const release = retain();
      return () => (unlisten(), release());
    },

    refresh: () => refresh({ fresh: true }),

    on(type, handler) {
      const off = store.on(type, handler);
      const release = retain();
      return () => (off(), release());
    },

    destroy() {
      if (destroyed) return;
      if (running) stop(); // stop() disarms stopTimer, which is only ever armed while running
      destroyed = true;
      reader.abort();
      store.clear();
    },

    get droppedMessages() {
      return tabs?.dropped ?? 0;
    },
  };
}

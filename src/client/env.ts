/**
 * Everything the client needs from its host, as small replaceable sources. The
 * core touches no global: browsers get {@link browserEnv}; tests and non-DOM
 * hosts pass their own (fake clocks and timers make every test exact).
 */
export interface ClientEnv {
  /** Milliseconds since epoch: only compared with the server's `Date` and `expires` (never to measure intervals). */
  now: () => number;
  /**
   * A clock that never jumps (`performance.now()`), ms from an origin of its own: intervals, throttles and
   * ordering are measured on it, so setting the system clock back or ahead stops nothing. Each tab has its
   * own origin, so its readings never leave the tab. Defaults to `now` when an `env` brings its own `now`.
   */
  monotonic: () => number;
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  /** A number in [0, 1) for jitter and ids. */
  random: () => number;
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  /** Whether the page is visible to the user. */
  isVisible: () => boolean;
  /** Calls `listener` when the page becomes visible or focused; returns the cleanup. */
  onFocus: (listener: () => void) => () => void;
  isOnline: () => boolean;
  /** Calls `listener` when connectivity changes; returns the cleanup. */
  onOnline: (listener: (online: boolean) => void) => () => void;
  /** Full-page navigation, for `signIn`/`signOut` with `redirect`. */
  navigate: (url: string) => void;
  /** The page's URL, the default `callbackUrl`; undefined outside a page. */
  href: () => string | undefined;
  /** Opens the link to the other tabs (at once, or once what it needs has loaded); absent where there are none to talk to. */
  openTabLink?: (name: string) => TabLink | Promise<TabLink>;
  /**
   * Runs `task` holding the browser-wide lock `name` (Web Locks), or directly
   * where there is none. The hold ends after `maxHoldMs` whatever `task` does,
   * so a stuck tab cannot block the others.
   */
  withLock?: <T>(name: string, maxHoldMs: number, task: () => Promise<T>) => Promise<T>;
  /**
   * Runs `task` holding lock `name` only if no tab holds it now (Web Locks' `ifAvailable`); resolves whether
   * it ran. Lets one of several tabs step in for a silent leader without queueing behind it.
   */
  tryLock?: (name: string, maxHoldMs: number, task: () => Promise<void>) => Promise<boolean>;
}

/** The messaging and leader election shared by the tabs of one browser. */
export interface TabLink {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Calls `listener(true)` once this tab leads (and `false` should it lose the lead). */
  onLeadership(listener: (isLeader: boolean) => void): void;
  /** Leaves the election (another tab takes over at once) and closes the channel. */
  close(): void;
}

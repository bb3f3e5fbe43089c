import { memo, useEffect, useLayoutEffect, useSyncExternalStore } from "react";
import type { Session, SessionSnapshot } from "sessionpulse";
import { useSessionSnapshot } from "sessionpulse/react";
import { ago, clockTime, formatDuration, useDemoState, useNow } from "./api.ts";
import { AccountPanel, SessionsPanel, SimulatePanel } from "./Controls.tsx";
import { Icon } from "./icons.tsx";
import { preciseNow, syncStore, TAB, tabsStore, type TabInfo } from "./tab.ts";
import { Timeline } from "./Timeline.tsx";

export interface Settings {
  refetchInterval: number;
  focusThrottle: number;
}

const STATUS_LABEL = { loading: "Loading", authenticated: "Signed in", unauthenticated: "Signed out" } as const;

export function openAnotherTab() {
  window.open(location.href, "_blank", "noopener");
}

export function App({ settings }: { settings: Settings }) {
  const snapshot = useSessionSnapshot();
  const { status, isLeader, isStale, data } = snapshot;
  const accent = typeof data?.accent === "string" ? data.accent : "indigo";

  // When this tab showed each status, for the latency tests (a layout effect runs as the DOM changes).
  useLayoutEffect(() => {
    window.__playground.transitions.push({ status, at: preciseNow() });
  }, [status]);

  useEffect(() => {
    // After this task, so the client's broadcast to the other tabs is not held up by more re-renders here.
    const timer = setTimeout(() => {
      tabsStore.update({ status, isLeader, isStale });
      document.title = `${isLeader ? "★ " : ""}${TAB.label} · ${STATUS_LABEL[status]} · sessionpulse`;
    }, 0);
    return () => clearTimeout(timer);
  }, [status, isLeader, isStale]);

  return (
    <div className={`page accent-${accent}`} data-status={status} data-leader={isLeader} data-stale={isStale} data-testid="page">
      <TopBar />
      <main className="container">
        <Hero />
        <div className="layout">
          <div className="column">
            <TabCard snapshot={snapshot} settings={settings} />
            <div className="pair">
              <AccountPanel />
              <SimulatePanel snapshot={snapshot} />
            </div>
            <SessionsPanel snapshot={snapshot} />
          </div>
          <aside className="column">
            <BrowserTabs />
            <Timeline />
          </aside>
        </div>
      </main>
      <footer className="footer container">
        <span>
          <strong>sessionpulse</strong> · the client is <code>createSessionClient()</code> from <code>sessionpulse</code>, rendered with{" "}
          <code>sessionpulse/react</code>; the server is <code>createSessionHandler()</code> from <code>sessionpulse/server</code>.
        </span>
        <span>
          Poll every {settings.refetchInterval} s · focus throttle {settings.focusThrottle} s · change with <code>?poll=2&amp;throttle=1</code>
        </span>
      </footer>
    </div>
  );
}

const TopBar = memo(function TopBar() {
  const demo = useDemoState();
  return (
    <header className="topbar">
      <div className="container topbar-inner">
        <div className="brand">
          <span className="logo">
            <Icon name="pulse" size={18} />
          </span>
          <span className="brand-name">sessionpulse</span>
          <span className="brand-tag">playground</span>
        </div>
        <div className="topbar-right">
          {demo && (
            <>
              <span className="chip" title="Switch it in Simulate">
                <Icon name={demo.strategy === "jwt" ? "key" : "database"} size={14} />
                {demo.strategy === "jwt" ? "JWT cookie" : "Database sessions"}
              </span>
              <span className={`chip ${demo.failing ? "chip-bad" : "chip-good"}`} data-testid="server-state">
                <span className="dot" />
                {demo.failing ? "Server answering 503" : "Server healthy"}
              </span>
            </>
          )}
          <button className="button button-primary" onClick={openAnotherTab}>
            <Icon name="plus" size={15} /> Open another tab
          </button>
        </div>
      </div>
    </header>
  );
});

const Hero = memo(function Hero() {
  return (
    <section className="hero">
      <div className="hero-text">
        <h1>
          One session. Every tab. <span className="accent-text">One poller.</span>
        </h1>
        <p>
          sessionpulse keeps a signed-in session alive and identical across browser tabs. The tabs elect a leader; only the leader asks the server, and every
          answer reaches the other tabs over a BroadcastChannel within milliseconds, without a request of their own.
        </p>
      </div>
      <ol className="steps" aria-label="Try this">
        <li>
          <span className="step-number">1</span>
          <div>
            <strong>Open three tabs</strong>
            <span>
              Click <em>Open another tab</em> twice. Each tab gets a number and its own timeline.
            </span>
          </div>
        </li>
        <li>
          <span className="step-number">2</span>
          <div>
            <strong>Sign in once</strong>
            <span>Every tab turns green at the same moment; only the tab you used made a request.</span>
          </div>
        </li>
        <li>
          <span className="step-number">3</span>
          <div>
            <strong>Watch one poller</strong>
            <span>The ★ leader polls, the others only receive. Close it: another tab takes over.</span>
          </div>
        </li>
        <li>
          <span className="step-number">4</span>
          <div>
            <strong>Break things</strong>
            <span>Sign out anywhere, go offline, make the server fail, switch JWT ↔ database.</span>
          </div>
        </li>
      </ol>
    </section>
  );
});

function initials(name: string | null | undefined): string {
  return (name ?? "?")
    .split(/\s+/)
    .map((part) => part[0])
    .join("")
    .slice(0, 2)
    .toUpperCase();
}

function TabCard({ snapshot, settings }: { snapshot: SessionSnapshot; settings: Settings }) {
  const { status, isLeader, isStale, data, error } = snapshot;
  const now = useNow(1000);
  const lastSync = useSyncExternalStore(syncStore.subscribe, syncStore.get);
  const retrying = isLeader && isStale && error !== null;
  const nextPoll =
    isLeader && !retrying && lastSync && settings.refetchInterval > 0 && status === "authenticated"
      ? lastSync.at + settings.refetchInterval * 1000 - now
      : null;

  return (
    <section className="card tab-card" aria-label="This tab">
      <div className="tab-card-head">
        <div className="tab-identity">
          <span className="tab-dot" style={{ background: `hsl(${TAB.hue} 70% 55%)` }} />
          <div>
            <div className="eyebrow">You are looking at</div>
            <div className="tab-name" data-testid="tab-name">
              {TAB.label}
            </div>
          </div>
        </div>
        <div className="badges">
          <span className={`badge badge-${status}`} data-testid="status">
            <span className="dot" />
            {STATUS_LABEL[status]}
          </span>
          {isStale && (
            <span className="badge badge-stale" data-testid="stale" title={error ? error.message : "offline"}>
              <Icon name="alert" size={13} />
              {error ? `Stale · ${error.status ? `HTTP ${error.status}` : error.code}` : "Stale · offline"}
            </span>
          )}
          <span className={`badge ${isLeader ? "badge-leader" : "badge-follower"}`} data-testid="role">
            <Icon name={isLeader ? "crown" : "listen"} size={13} />
            {isLeader ? (status === "authenticated" ? "Leader · polls for all tabs" : "Leader") : "Follower · listens"}
          </span>
        </div>
      </div>

      {status === "authenticated" && data ? (
        <SignedIn session={data} />
      ) : status === "loading" ? (
        <div className="empty">
          <div className="skeleton" />
          <p>Asking the other tabs, then the server…</p>
        </div>
      ) : (
        <div className="empty">
          <div className="empty-icon">
            <Icon name="user" size={22} />
          </div>
          <div>
            <strong>Nobody is signed in in this browser.</strong>
            <p>Sign in below with a demo account and watch the other tabs follow.</p>
          </div>
        </div>
      )}

      <div className="metrics">
        <div className="metric">
          <span className="metric-label">
            <Icon name="clock" size={13} /> Session expires
          </span>
          <span className="metric-value" data-testid="expires">
            {data ? `in ${formatDuration(Date.parse(data.expires) - now)}` : "—"}
          </span>
          <span className="metric-note">{data ? `at ${clockTime(data.expires)} · sliding` : "no session"}</span>
        </div>
        <div className="metric">
          <span className="metric-label">
            <Icon name="refresh" size={13} /> Last synced
          </span>
          <span className="metric-value">{lastSync ? ago(now - lastSync.at) : "—"}</span>
          <span className="metric-note">
            {lastSync ? (lastSync.by === "this tab" ? "asked the server itself" : `got it from ${lastSync.by}`) : "nothing yet"}
          </span>
        </div>
        <div className="metric">
          <span className="metric-label">
            <Icon name={isLeader ? "crown" : "listen"} size={13} /> Polling
          </span>
          <span className="metric-value">
            {retrying
              ? "retrying"
              : nextPoll !== null
                ? nextPoll < 500
                  ? "due now"
                  : `next in ${formatDuration(nextPoll)}`
                : isLeader
                  ? status === "authenticated"
                    ? "paused"
                    : "idle"
                  : "not this tab"}
          </span>
          <span className="metric-note">
            {retrying
              ? "with backoff: 1 s, 2 s, 4 s … 60 s"
              : isLeader
                ? status === "authenticated"
                  ? isStale
                    ? "paused while offline"
                    : `every ${settings.refetchInterval} s, for every tab`
                  : "no session to keep alive"
                : "the leader polls; this tab receives"}
          </span>
        </div>
      </div>
    </section>
  );
}

/** Memoised: the tab card re-renders every second for its countdowns, while the session (and its JSON) changes rarely. */
const SignedIn = memo(function SignedIn({ session }: { session: Session }) {
  const user = session.user;
  return (
    <div className="signed-in">
      <div className="user">
        <div className="avatar">{initials(user.name)}</div>
        <div>
          <div className="user-name" data-testid="user-name">
            {user.name}
          </div>
          <div className="user-email">{user.email}</div>
        </div>
        <div className="session-facts">
          {typeof user.role === "string" && <span className="chip chip-soft">{user.role}</span>}
          {typeof session.strategy === "string" && (
            <span className="chip" title="Where the server keeps this session">
              <Icon name={session.strategy === "jwt" ? "key" : "database"} size={13} />
              {session.strategy === "jwt" ? "JWT cookie" : "database row"}
            </span>
          )}
          {typeof session.note === "string" && session.note && <span className="note">“{session.note}”</span>}
        </div>
      </div>
      <details className="session-json">
        <summary>Session data</summary>
        <pre>{JSON.stringify(session, null, 2)}</pre>
      </details>
    </div>
  );
});

const BrowserTabs = memo(function BrowserTabs() {
  const tabs = useSyncExternalStore(tabsStore.subscribe, tabsStore.get);
  return (
    <section className="card" aria-label="Tabs in this browser">
      <div className="card-head">
        <h2>
          <Icon name="layers" size={16} /> Tabs in this browser
        </h2>
        <span className="muted">{tabs.length} open</span>
      </div>
      <ul className="tab-list">
        {tabs.map((tab) => (
          <TabRow key={tab.label} tab={tab} />
        ))}
      </ul>
      <p className="hint">
        <strong>Session requests</strong> counts each tab's <code>GET /session</code> since it opened: only the leader's grows.
      </p>
    </section>
  );
});

function TabRow({ tab }: { tab: TabInfo }) {
  const me = tab.label === TAB.label;
  return (
    <li className={`tab-row${me ? " tab-row-me" : ""}`}>
      <span className="tab-dot small" style={{ background: `hsl(${tab.hue} 70% 55%)` }} />
      <span className="tab-row-name">
        {tab.label}
        {me && <span className="muted"> · you</span>}
      </span>
      <span className={`role ${tab.isLeader ? "role-leader" : ""}`}>
        <Icon name={tab.isLeader ? "crown" : "listen"} size={13} />
        {tab.isLeader ? "leader" : "listens"}
      </span>
      <span
        className={`mini-status mini-${tab.isStale ? "stale" : tab.status}`}
        title={tab.isStale ? "showing its last session; the server could not confirm it" : undefined}
      >
        {tab.isStale ? "Stale" : (STATUS_LABEL[tab.status as keyof typeof STATUS_LABEL] ?? tab.status)}
      </span>
      <span className="requests" title="GET /session requests made by this tab">
        {tab.sessionRequests} <span className="muted">req</span>
      </span>
    </li>
  );
}

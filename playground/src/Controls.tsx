import { useCallback, useEffect, useState, useSyncExternalStore, type FormEvent, type ReactNode } from "react";
import type { SessionListing, SessionSnapshot } from "sessionpulse";
import { useSession, useSessionClient } from "sessionpulse/react";
import { ago, clockTime, describeAgent, requestMagicLink, setOutage, setStrategy, useDemoState, useNow } from "./api.ts";
import { Icon } from "./icons.tsx";
import { offlineSwitch } from "./tab.ts";

/** Runs an action, keeping its pending state and its error for display. */
function useAction() {
  const [pending, setPending] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (name: string, action: () => Promise<unknown>) => {
    setPending(name);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError((caught as Error).message.replace(/^sessionpulse: /, ""));
    } finally {
      setPending(null);
    }
  }, []);
  return { pending, error, run };
}

function Panel({
  title,
  icon,
  children,
  className,
  aside,
}: {
  title: string;
  icon: Parameters<typeof Icon>[0]["name"];
  children: ReactNode;
  className?: string;
  aside?: ReactNode;
}) {
  return (
    <section className={`card${className ? ` ${className}` : ""}`} aria-label={title}>
      <div className="card-head">
        <h2>
          <Icon name={icon} size={16} /> {title}
        </h2>
        {aside}
      </div>
      {children}
    </section>
  );
}

// ---------------------------------------------------------------------------

const ACCENT_LABEL: Record<string, string> = { indigo: "Indigo", teal: "Teal", amber: "Amber", rose: "Rose" };

export function AccountPanel() {
  // The documented hook; its `update` is the client's.
  const { status, data, update } = useSession();
  const client = useSessionClient();
  const demo = useDemoState();
  const { pending, error, run } = useAction();
  const [email, setEmail] = useState("ada@example.com");
  const [password, setPassword] = useState("lovelace");
  const [note, setNote] = useState("");
  const [magicLink, setMagicLink] = useState<string | null>(null);

  const signIn = (event: FormEvent) => {
    event.preventDefault();
    void run("signin", async () => {
      const result = await client.signIn("credentials", { email, password }, { redirect: false });
      if (!result.ok) throw new Error(result.error === "CredentialsSignin" ? "Wrong email or password." : `Sign-in refused (${result.error}).`);
    });
  };

  if (status !== "authenticated" || !data) {
    return (
      <Panel title="Sign in" icon="login">
        <form className="form" onSubmit={signIn}>
          <label>
            <span>Email</span>
            <input type="email" value={email} onChange={(event) => setEmail(event.target.value)} autoComplete="username" data-testid="email" />
          </label>
          <label>
            <span>Password</span>
            <input
              type="password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              autoComplete="current-password"
              data-testid="password"
            />
          </label>
          <button className="button button-primary button-wide" type="submit" disabled={pending !== null || status === "loading"} data-testid="sign-in">
            <Icon name="login" size={15} /> {pending === "signin" ? "Signing in…" : "Sign in"}
          </button>
          {error && <p className="form-error">{error}</p>}
          {demo?.openId && (
            <button
              className="button button-wide"
              type="button"
              disabled={pending !== null || status === "loading"}
              onClick={() => void run("openid", () => client.signIn("demo"))}
              data-testid="sign-in-openid"
            >
              <Icon name="login" size={15} /> Sign in with the demo OpenID provider
            </button>
          )}
          <button
            className="button button-wide"
            type="button"
            disabled={pending !== null || status === "loading"}
            onClick={() => void run("magic", async () => setMagicLink(await requestMagicLink(email)))}
            data-testid="magic-link"
          >
            <Icon name="login" size={15} /> {pending === "magic" ? "Sending…" : "Email me a sign-in link"}
          </button>
          {magicLink && (
            <p className="muted" data-testid="magic-link-sent">
              Sent (printed on the server console too): <a href={magicLink}>open the sign-in link</a>. It works once, for 10 minutes, and signs every tab in.
            </p>
          )}
        </form>
        <div className="demo-users">
          <span className="muted">Demo accounts (click to fill)</span>
          {(demo?.users ?? []).map((user) => (
            <button
              key={user.email}
              type="button"
              className="demo-user"
              onClick={() => {
                setEmail(user.email);
                setPassword(user.password);
              }}
            >
              <span className="demo-user-name">{user.name}</span>
              <code>{user.email}</code>
              <code>{user.password}</code>
            </button>
          ))}
        </div>
      </Panel>
    );
  }

  const accent = typeof data.accent === "string" ? data.accent : "indigo";
  return (
    <Panel title="Your session" icon="user">
      <div className="field">
        <span className="field-label">Accent colour</span>
        <div className="swatches">
          {(demo?.accents ?? Object.keys(ACCENT_LABEL)).map((name) => (
            <button
              key={name}
              className={`swatch swatch-${name}${name === accent ? " swatch-on" : ""}`}
              title={ACCENT_LABEL[name] ?? name}
              aria-label={`Accent ${ACCENT_LABEL[name] ?? name}`}
              aria-pressed={name === accent}
              disabled={pending !== null}
              onClick={() => void run("accent", () => update({ accent: name }))}
              data-testid={`accent-${name}`}
            >
              {name === accent && <Icon name="check" size={14} />}
            </button>
          ))}
        </div>
        <span className="field-hint">
          Saved in the session with <code>update()</code>: every tab repaints at once.
        </span>
      </div>
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void run("note", () => update({ note })).then(() => setNote(""));
        }}
      >
        <input
          placeholder="A status note, e.g. “in a meeting”"
          value={note}
          maxLength={80}
          onChange={(event) => setNote(event.target.value)}
          data-testid="note"
        />
        <button className="button" type="submit" disabled={pending !== null || note.trim() === ""}>
          <Icon name="edit" size={14} /> Save
        </button>
      </form>
      <div className="button-row">
        <button className="button" onClick={() => void run("refresh", () => client.refresh())} disabled={pending !== null} data-testid="refresh">
          <Icon name="refresh" size={14} /> {pending === "refresh" ? "Refreshing…" : "Refresh now"}
        </button>
        <button
          className="button button-danger-soft"
          onClick={() => void run("signout", () => client.signOut({ redirect: false }))}
          disabled={pending !== null}
          data-testid="sign-out"
        >
          <Icon name="logout" size={14} /> {pending === "signout" ? "Signing out…" : "Sign out"}
        </button>
      </div>
      {error && <p className="form-error">{error}</p>}
    </Panel>
  );
}

// ---------------------------------------------------------------------------

function Toggle({
  on,
  onChange,
  label,
  testId,
  disabled,
}: {
  on: boolean;
  onChange: (on: boolean) => void;
  label: string;
  testId: string;
  disabled?: boolean;
}) {
  return (
    <button
      role="switch"
      aria-checked={on}
      aria-label={label}
      className={`switch${on ? " switch-on" : ""}`}
      onClick={() => onChange(!on)}
      disabled={disabled}
      data-testid={testId}
    >
      <span className="switch-knob" />
    </button>
  );
}

export function SimulatePanel({ snapshot }: { snapshot: SessionSnapshot }) {
  const client = useSessionClient();
  const demo = useDemoState();
  const offline = useSyncExternalStore(offlineSwitch.subscribe, offlineSwitch.get);
  const { pending, error, run } = useAction();

  return (
    <Panel title="Simulate" icon="server">
      <div className="setting">
        <div className="setting-text">
          <strong>
            <Icon name={offline ? "wifiOff" : "wifi"} size={14} /> Offline
          </strong>
          <span>Every tab of this browser. No requests while offline; one refresh for all tabs when back.</span>
        </div>
        <Toggle on={offline} onChange={(value) => offlineSwitch.set(value)} label="Simulate offline" testId="offline" />
      </div>
      <div className="setting">
        <div className="setting-text">
          <strong>
            <Icon name="alert" size={14} /> Server outage
          </strong>
          <span>
            <code>/api/auth/session</code> answers 503. Tabs keep the session (stale) and retry with backoff.
          </span>
        </div>
        <Toggle
          on={demo?.failing ?? false}
          onChange={(value) => void run("outage", () => setOutage(value))}
          label="Simulate server outage"
          testId="outage"
          disabled={!demo || pending !== null}
        />
      </div>
      <div className="setting setting-column">
        <div className="setting-text">
          <strong>
            <Icon name="layers" size={14} /> Session strategy
          </strong>
          <span>
            Switch the server live. You stay signed in: the next request converts the cookie (<code>migrateFrom</code>).
          </span>
        </div>
        <div className="segmented" role="group" aria-label="Session strategy">
          {(["database", "jwt"] as const).map((strategy) => (
            <button
              key={strategy}
              className={demo?.strategy === strategy ? "segment segment-on" : "segment"}
              aria-pressed={demo?.strategy === strategy}
              disabled={!demo || pending !== null}
              data-testid={`strategy-${strategy}`}
              onClick={() =>
                void run("strategy", async () => {
                  await setStrategy(strategy);
                  if (snapshot.status === "authenticated") await client.refresh();
                })
              }
            >
              <Icon name={strategy === "jwt" ? "key" : "database"} size={14} />
              {strategy === "jwt" ? "JWT cookie" : "Database"}
            </button>
          ))}
        </div>
      </div>
      {error && <p className="form-error">{error}</p>}
    </Panel>
  );
}

// ---------------------------------------------------------------------------

function onVisibilityChange(listener: () => void) {
  document.addEventListener("visibilitychange", listener);
  return () => document.removeEventListener("visibilitychange", listener);
}

export function SessionsPanel({ snapshot }: { snapshot: SessionSnapshot }) {
  const client = useSessionClient();
  const demo = useDemoState();
  const now = useNow(5000);
  const { pending, error, run } = useAction();
  const [listed, setSessions] = useState<SessionListing[] | null>(null);
  const signedIn = snapshot.status === "authenticated";
  const strategy = typeof snapshot.data?.strategy === "string" ? snapshot.data.strategy : demo?.strategy;

  const reload = useCallback(() => run("list", async () => setSessions(await client.listSessions())), [run, client]);
  // Reload when the session or the strategy changes, but only in a tab the user can see:
  // background tabs stay quiet and catch up when they are shown.
  const visible = useSyncExternalStore(onVisibilityChange, () => document.visibilityState !== "hidden");
  const key = signedIn ? `${snapshot.data?.user.id}|${strategy}|${snapshot.updatedAt}` : null;
  useEffect(() => {
    if (!key || !visible) return;
    // After this task, so a sign-in's render is not held up by it.
    const timer = setTimeout(() => void reload(), 0);
    return () => clearTimeout(timer);
  }, [key, visible, reload]);

  // Signed out: nothing to list, whatever the last answer was.
  const sessions = key ? listed : null;

  // The client reads the session again after revoking (this browser's own may be among them) and tells the other tabs.
  const revoke = (target: { id: string } | { all: true }) =>
    run("revoke", async () => {
      await ("id" in target ? client.revokeSession(target.id) : client.signOutEverywhere());
      if (client.getSnapshot().status === "authenticated") setSessions(await client.listSessions());
    });

  return (
    <Panel
      title="Sessions"
      icon="monitor"
      className="sessions-panel"
      aside={
        signedIn && (
          <button className="button button-small" onClick={() => void reload()} disabled={pending !== null}>
            <Icon name="refresh" size={13} /> Reload
          </button>
        )
      }
    >
      {!signedIn ? (
        <p className="muted">Sign in to see where you are signed in, and to revoke those sessions.</p>
      ) : (
        <>
          <p className="panel-intro">
            {strategy === "jwt"
              ? "JWT: the session lives in an encrypted cookie and the server stores none, so only this browser's session can be listed. “Sign out everywhere” puts your account on a deny-list that every request checks."
              : "Database: each session is a row in SQLite; the cookie only holds a random id. Revoke one and that browser is signed out at its next poll or focus. Sign in from another browser (or a private window) to see two."}
          </p>
          <ul className="session-list">
            {(sessions ?? []).map((session) => (
              <li key={session.id} className="session-row">
                <Icon name="monitor" size={18} className="session-icon" />
                <div className="session-main">
                  <div>
                    {describeAgent(session.userAgent ?? (session.current ? navigator.userAgent : null))}
                    {session.current && <span className="chip chip-soft chip-small">this browser</span>}
                  </div>
                  <div className="muted">
                    signed in {ago(now - Date.parse(session.createdAt))} · expires {clockTime(session.expires)}
                  </div>
                </div>
                <button className="button button-small button-danger-soft" onClick={() => void revoke({ id: session.id })} disabled={pending !== null}>
                  Revoke
                </button>
              </li>
            ))}
            {sessions?.length === 0 && <li className="muted">No active sessions.</li>}
          </ul>
          <button className="button button-danger" onClick={() => void revoke({ all: true })} disabled={pending !== null} data-testid="revoke-all">
            <Icon name="logout" size={14} /> Sign out everywhere
          </button>
        </>
      )}
      {error && <p className="form-error">{error}</p>}
    </Panel>
  );
}

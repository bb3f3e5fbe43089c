import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createSessionClient, type SessionEventType } from "sessionpulse";
import { SessionProvider } from "sessionpulse/react";
import { App } from "./App.tsx";
import { instrumentedEnv, numberParam, TAB, tabsStore, timeline, type PlaygroundGlobal } from "./tab.ts";
import "./styles.css";

/** Seconds; `?poll=2&throttle=1` in the URL overrides them (the end-to-end tests do). */
export const settings = {
  refetchInterval: numberParam("poll", 10),
  focusThrottle: numberParam("throttle", 5),
};

const client = createSessionClient({ basePath: "/api/auth", ...settings, env: instrumentedEnv() });

// The client's own events, in the timeline.
const describe: Partial<Record<SessionEventType, (remote: boolean) => [string, string, "good" | "warn" | "bad" | undefined]>> = {
  signin: (remote) => ["Signed in", remote ? "another tab signed in; no request needed here" : "in this tab", "good"],
  signout: (remote) => [
    "Signed out",
    remote ? "another tab signed out (or the server said so); no request needed here" : "this tab learned it from the server",
    "warn",
  ],
  update: (remote) => ["Session data updated", remote ? "in another tab" : "in this tab", undefined],
  expired: () => ["Session expired", "its expiry passed", "warn"],
};
for (const type of Object.keys(describe) as SessionEventType[]) {
  client.on(type, (event) => {
    const [title, detail, tone] = describe[type]!(event.source === "remote");
    timeline.add("state", title, detail, tone);
  });
}
client.on("leader", () => {
  const { isLeader } = client.getSnapshot();
  tabsStore.update({ isLeader });
  timeline.add(
    "leader",
    isLeader ? "This tab is now the leader" : "This tab stepped down",
    isLeader
      ? settings.refetchInterval > 0
        ? `it polls every ${settings.refetchInterval} s for all tabs`
        : "polling is off (?poll=0)"
      : "another tab polls now",
    "good",
  );
});
client.on("error", (event) => {
  const error = event.error;
  timeline.add(
    "error",
    "Session request failed",
    `${error?.code ?? "error"}${error?.status ? ` (HTTP ${error.status})` : ""} · keeping the last session, retrying with backoff`,
    "bad",
  );
});

/** For the end-to-end tests and the curious: the client, and when this tab's status changed (on a clock shared by the tabs). */
declare global {
  interface Window {
    __playground: PlaygroundGlobal;
  }
}
window.__playground = { client, tab: TAB, transitions: [] };
document.title = `${TAB.label} · sessionpulse playground`;

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <SessionProvider client={client}>
      <App settings={settings} />
    </SessionProvider>
  </StrictMode>,
);

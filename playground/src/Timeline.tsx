import { memo, useState, useSyncExternalStore } from "react";
import { Icon, type IconName } from "./icons.tsx";
import { timeline, type Entry, type EntryKind } from "./tab.ts";

const KIND: Record<EntryKind, { icon: IconName; label: string }> = {
  request: { icon: "up", label: "Request" },
  sent: { icon: "broadcast", label: "Sent to tabs" },
  received: { icon: "down", label: "From a tab" },
  focus: { icon: "eye", label: "Focus" },
  network: { icon: "wifi", label: "Network" },
  leader: { icon: "crown", label: "Leader" },
  state: { icon: "login", label: "Session" },
  error: { icon: "alert", label: "Error" },
};

const FILTERS: Array<{ id: string; label: string; kinds: EntryKind[] | null }> = [
  { id: "all", label: "All", kinds: null },
  { id: "requests", label: "Requests", kinds: ["request", "error"] },
  { id: "channel", label: "Channel", kinds: ["sent", "received"] },
  { id: "tab", label: "Focus · network", kinds: ["focus", "network", "leader"] },
];

const pad = (value: number, length = 2) => String(value).padStart(length, "0");
/** 14:03:07.218 (formatted by hand: `toLocaleTimeString` costs ~0.1 ms a call, too much for hundreds of rows). */
const time = (at: number) => {
  const date = new Date(at);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
};

function iconOf(entry: Entry): IconName {
  if (entry.kind === "state")
    return entry.tone === "good" ? "login" : entry.title.startsWith("Signed out") || entry.title.includes("expired") ? "logout" : "edit";
  if (entry.kind === "network" && entry.tone === "warn") return "wifiOff";
  return KIND[entry.kind].icon;
}

export const Timeline = memo(function Timeline() {
  const entries = useSyncExternalStore(timeline.subscribe, timeline.get);
  const [filter, setFilter] = useState("all");
  const kinds = FILTERS.find((candidate) => candidate.id === filter)?.kinds ?? null;
  const shown = kinds ? entries.filter((entry) => kinds.includes(entry.kind)) : entries;
  const { sessionRequests, sent, received } = timeline.counters;

  return (
    <section className="card timeline-card" aria-label="Timeline">
      <div className="card-head">
        <h2>
          <Icon name="clock" size={16} /> Timeline <span className="muted">· this tab</span>
        </h2>
        <button className="button button-small button-ghost" onClick={timeline.clear}>
          Clear
        </button>
      </div>
      <div className="counters">
        <div>
          <span className="counter-value" data-testid="count-requests">
            {sessionRequests}
          </span>
          <span className="counter-label">session requests</span>
        </div>
        <div>
          <span className="counter-value">{sent}</span>
          <span className="counter-label">messages sent</span>
        </div>
        <div>
          <span className="counter-value">{received}</span>
          <span className="counter-label">messages received</span>
        </div>
      </div>
      <div className="filters" role="tablist">
        {FILTERS.map((candidate) => (
          <button
            key={candidate.id}
            role="tab"
            aria-selected={filter === candidate.id}
            className={filter === candidate.id ? "filter filter-on" : "filter"}
            onClick={() => setFilter(candidate.id)}
          >
            {candidate.label}
          </button>
        ))}
      </div>
      <ol className="timeline" data-testid="timeline">
        {shown.length === 0 && <li className="timeline-empty">Nothing yet. Sign in, open another tab, or switch tabs.</li>}
        {shown.map((entry) => (
          <TimelineEntry key={entry.id} entry={entry} />
        ))}
      </ol>
    </section>
  );
});

/** One row; entries never change, so a row renders once. */
const TimelineEntry = memo(function TimelineEntry({ entry }: { entry: Entry }) {
  return (
    <li className={`entry entry-${entry.kind}${entry.tone ? ` tone-${entry.tone}` : ""}`}>
      <span className="entry-icon" title={KIND[entry.kind].label}>
        <Icon name={iconOf(entry)} size={14} />
      </span>
      <div className="entry-body">
        <div className="entry-title">{entry.title}</div>
        {entry.detail && <div className="entry-detail">{entry.detail}</div>}
      </div>
      <time className="entry-time">{time(entry.at)}</time>
    </li>
  );
});

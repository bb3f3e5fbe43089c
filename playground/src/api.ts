/**
 * Calls the page makes besides the client's own: the demo server's switches
 * (`/demo/*`). Sessions are listed and revoked through the client's API.
 */
import { useEffect, useState, useSyncExternalStore } from "react";
import type { DemoState } from "../server.ts";
import { demoEvents } from "./tab.ts";

async function json<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => null)) as (T & { message?: string; error?: string }) | null;
  if (!response.ok) throw new Error(body?.message ?? body?.error ?? `HTTP ${response.status}`);
  return body as T;
}

// ---------------------------------------------------------------------------
// Demo server state, shared by every component and refreshed when another tab changes it

let demoState: DemoState | null = null;
const demoListeners = new Set<() => void>();
let failTimer: ReturnType<typeof setTimeout> | undefined;

function setDemoState(next: DemoState) {
  demoState = next;
  demoListeners.forEach((listener) => listener());
  clearTimeout(failTimer);
  // A timed outage ends on its own: look again when it should have.
  if (next.failUntil) failTimer = setTimeout(() => void loadDemoState(), Math.max(0, next.failUntil - Date.now()) + 100);
}

export async function loadDemoState(): Promise<void> {
  setDemoState(await json<DemoState>(await fetch("/demo/state", { cache: "no-store" })));
}

async function postDemo(path: string, body: unknown): Promise<void> {
  const response = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  setDemoState(await json<DemoState>(response));
  demoEvents.changed();
}

export const setOutage = (on: boolean) => postDemo("/demo/fail", { on });

/** Asks the demo server for a magic sign-in link (a real app would e-mail it; the demo shows it). */
export async function requestMagicLink(email: string): Promise<string> {
  const response = await fetch("/demo/magic-link", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email }) });
  return (await json<{ link: string }>(response)).link;
}
export const setStrategy = (strategy: DemoState["strategy"]) => postDemo("/demo/strategy", { strategy });

demoEvents.subscribe(() => void loadDemoState().catch(() => {}));

export function useDemoState(): DemoState | null {
  const state = useSyncExternalStore(
    (listener) => {
      demoListeners.add(listener);
      return () => void demoListeners.delete(listener);
    },
    () => demoState,
  );
  useEffect(() => {
    if (!demoState) void loadDemoState().catch(() => {});
  }, []);
  return state;
}

// ---------------------------------------------------------------------------

/** Re-renders every `ms` (for countdowns and "3 s ago"). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  if (minutes > 0) return `${minutes}:${String(seconds).padStart(2, "0")} min`;
  return `${seconds} s`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
/** Local time of day, e.g. "14:03:07" (one shared formatter: creating one per call is slow). */
export const clockTime = (at: number | string) => timeFormat.format(new Date(at));

export function ago(ms: number): string {
  if (ms < 1500) return "just now";
  if (ms < 60_000) return `${Math.round(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  return `${Math.round(ms / 3_600_000)} h ago`;
}

/** "Chrome 156 on Linux" from a User-Agent. */
export function describeAgent(agent: string | null): string {
  if (!agent) return "Unknown device";
  const match = (pattern: RegExp) => pattern.exec(agent)?.[1];
  const edge = match(/Edg\/(\d+)/);
  const firefox = match(/Firefox\/(\d+)/);
  const chrome = match(/Chrome\/(\d+)/);
  const safari = match(/Version\/(\d+).*Safari/);
  const browser = edge
    ? `Edge ${edge}`
    : firefox
      ? `Firefox ${firefox}`
      : chrome
        ? `${agent.includes("HeadlessChrome") ? "Headless Chrome" : "Chrome"} ${chrome}`
        : safari
          ? `Safari ${safari}`
          : "Browser";
  const os = /Windows/.test(agent)
    ? "Windows"
    : /Mac OS X/.test(agent)
      ? "macOS"
      : /Android/.test(agent)
        ? "Android"
        : /iPhone|iPad/.test(agent)
          ? "iOS"
          : /Linux/.test(agent)
            ? "Linux"
            : "";
  return os ? `${browser} on ${os}` : browser;
}

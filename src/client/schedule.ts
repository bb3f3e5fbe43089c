import type { SessionStatus } from "./types.js";

/** What the scheduler needs to know, every time on the monotonic clock (ms). */
export interface WakeState {
  isLeader: boolean;
  /** Whether other tabs share this one's state (then a follower stands by for a silent leader). */
  linked: boolean;
  status: SessionStatus;
  /** Poll interval; 0 turns polling off. */
  interval: number;
  /** When the state shown was last confirmed by a server answer (this tab's or another's). */
  syncedAt: number;
  /** When this tab last heard anything from the tab that polls (or its own answer). */
  heardAt: number;
  /** The last thing heard was a poll starting: its answer may take up to the request timeout. */
  pollInFlight: boolean;
  timeout: number;
  visible: boolean;
  failures: number;
  retryAt: number;
  /** When the shown session expires; Infinity when signed out. */
  expiresAt: number;
  /** Whether a refresh ahead of this expiry was already made (an unchanged expiry must not loop). */
  refreshedAhead: boolean;
  /** An identity change announced by another tab waits for a read to confirm it. */
  checking: boolean;
}

export type WakeReason = "retry" | "poll" | "ahead" | "standby" | "none";
export interface Wake {
  at: number;
  reason: WakeReason;
}

/** How long a follower waits past the leader's due poll before it steps in; hidden tabs wait longer, so a visible one goes first. */
export const standbyGrace = (interval: number, visible: boolean) => Math.min(interval, 5_000) * (visible ? 1 : 2) + 1_000;

const NONE: Wake = { at: Infinity, reason: "none" };
const earliest = (...wakes: Wake[]) => wakes.reduce((first, wake) => (wake.at < first.at ? wake : first), NONE);

/**
 * When this tab must next act, from its state alone: no timers, no side
 * effects, so its promises are checked by a property test. The leader of a
 * browser that is not signed out always has a wake (a poll while `interval`
 * is on, a retry after a failure, a refresh ahead of expiry); a follower has
 * one while it is signed in, to take over from a leader that went silent.
 */
export function nextWake(state: WakeState): Wake {
  if (state.isLeader) {
    if (state.failures > 0) return { at: state.retryAt, reason: "retry" };
    if (state.status === "unauthenticated") return NONE;
    const poll: Wake = state.interval > 0 ? { at: state.syncedAt + state.interval, reason: "poll" } : NONE;
    // Refresh before the session would lapse between two polls (margin: a quarter of what is left, at most a minute).
    const ahead: Wake =
      state.expiresAt < Infinity && !state.refreshedAhead
        ? { at: state.expiresAt - Math.min(60_000, (state.expiresAt - state.syncedAt) / 4), reason: "ahead" }
        : NONE;
    return earliest(poll, ahead);
  }
  // A follower retries what only it needs: its first load, or the check of an announced change (the
  // leader's own retries check that too). Nobody else will: a signed-out leader does not poll.
  if ((state.checking || state.status === "loading") && state.failures > 0) return { at: state.retryAt, reason: "retry" };
  if (!state.linked || state.status !== "authenticated" || state.interval <= 0) return NONE;
  const silence = state.interval + standbyGrace(state.interval, state.visible) + (state.pollInFlight ? state.timeout : 0);
  return { at: state.heardAt + silence, reason: "standby" };
}

import { describe, expect, it } from "vitest";
import { nextWake, standbyGrace, type WakeState } from "../../../src/client/schedule.ts";

const leader = (overrides: Partial<WakeState> = {}): WakeState => ({
  isLeader: true,
  linked: true,
  status: "authenticated",
  interval: 300_000,
  syncedAt: 0,
  heardAt: 0,
  pollInFlight: false,
  timeout: 10_000,
  visible: true,
  failures: 0,
  retryAt: 0,
  expiresAt: Infinity,
  refreshedAhead: false,
  checking: false,
  ...overrides,
});

describe("standbyGrace", () => {
  it("doubles the capped wait for a hidden tab, so a visible one steps in first", () => {
    expect(standbyGrace(10_000, true)).toBe(6_000);
    expect(standbyGrace(10_000, false)).toBe(11_000);
    expect(standbyGrace(2_000, false)).toBe(5_000);
  });
});

describe("nextWake for the leader", () => {
  it("has nothing to do while signed out, even with polling on", () => {
    expect(nextWake(leader({ status: "unauthenticated", interval: 60_000 }))).toEqual({ at: Infinity, reason: "none" });
  });

  it("polls an interval after the last sync", () => {
    expect(nextWake(leader({ syncedAt: 5_000, interval: 60_000 }))).toEqual({ at: 65_000, reason: "poll" });
  });

  it("has no wake with polling off and no known expiry", () => {
    expect(nextWake(leader({ interval: 0 }))).toEqual({ at: Infinity, reason: "none" });
  });

  it("refreshes ahead of expiry by a quarter of what is left when that is under a minute", () => {
    // 100 s left at the last sync: a quarter is 25 s.
    expect(nextWake(leader({ interval: 0, syncedAt: 1_000, expiresAt: 101_000 }))).toEqual({ at: 76_000, reason: "ahead" });
  });

  it("refreshes ahead of expiry by at most a minute", () => {
    expect(nextWake(leader({ interval: 0, syncedAt: 1_000, expiresAt: 1_001_000 }))).toEqual({ at: 941_000, reason: "ahead" });
  });

  it("prefers the poll when the poll and the refresh ahead fall at the same instant", () => {
    // Expiry 4 s after sync: ahead at 4 000 - 1 000 = 3 000, the same instant as the poll.
    expect(nextWake(leader({ interval: 3_000, syncedAt: 0, expiresAt: 4_000 }))).toEqual({ at: 3_000, reason: "poll" });
  });

  it("takes the refresh ahead when it comes before the poll", () => {
    expect(nextWake(leader({ interval: 300_000, syncedAt: 0, expiresAt: 100_000 }))).toEqual({ at: 75_000, reason: "ahead" });
  });
});

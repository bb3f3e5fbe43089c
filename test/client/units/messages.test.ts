import { describe, expect, it } from "vitest";
import { identityOf, MAX_SEEN, readMessage } from "../../../src/client/messages.ts";
import { readSession } from "../../../src/client/session-shape.ts";

/** A channel message checked as a tab checks it (sessions with the client's check of server answers). */
const readChannel = (raw: unknown) => readMessage(raw, readSession);

const ada = { user: { name: "Ada" }, expires: "2026-12-28T10:00:00.000Z" };
const state = (fields: Record<string, unknown> = {}) => ({ v: 2, type: "state", id: "m1", reason: "sync", session: ada, seen: [], ...fields });
const failure = (fields: Record<string, unknown> = {}) => ({ v: 2, type: "failure", id: "f1", code: "network", ...fields });
const ids = (count: number) => Array.from({ length: count }, (_, i) => `w${i}`);

describe("readMessage", () => {
  it("refuses what is not an object as not ours, without throwing", () => {
    for (const raw of [undefined, null, "state", 2, true]) expect(readChannel(raw)).toEqual({ ok: false, ours: false });
  });

  it("takes ids of 1 to 64 characters and refuses the empty id or a longer one as ours", () => {
    expect(readChannel({ v: 2, type: "poll", id: "a" }).ok).toBe(true);
    expect(readChannel({ v: 2, type: "poll", id: "a".repeat(64) }).ok).toBe(true);
    expect(readChannel({ v: 2, type: "poll", id: "" })).toEqual({ ok: false, ours: true });
    expect(readChannel({ v: 2, type: "poll", id: "a".repeat(65) })).toEqual({ ok: false, ours: true });
  });

  it("takes a failure with every error code a read can end with, and no other", () => {
    for (const code of ["network", "timeout", "server", "http", "redirected", "invalid_response"]) {
      expect(readChannel(failure({ code }))).toEqual({ ok: true, message: failure({ code }) });
    }
    for (const code of ["csrf", "destroyed", "", undefined]) expect(readChannel(failure({ code }))).toEqual({ ok: false, ours: true });
  });

  it("takes a failure without a status, or with an integer status below 600", () => {
    expect(readChannel(failure()).ok).toBe(true);
    expect(readChannel(failure({ code: "server", status: 599 })).ok).toBe(true);
    expect(readChannel(failure({ code: "server", status: 600 })).ok).toBe(false);
    expect(readChannel(failure({ code: "server", status: 502.5 })).ok).toBe(false);
    expect(readChannel(failure({ code: "server", status: "502" })).ok).toBe(false);
  });

  it("takes a state listing up to MAX_SEEN writes and refuses a longer list", () => {
    expect(readChannel(state({ seen: ids(MAX_SEEN) })).ok).toBe(true);
    expect(readChannel(state({ seen: ids(MAX_SEEN + 1) }))).toEqual({ ok: false, ours: true });
  });

  it("takes a state answering a check only when the id it answers is an id", () => {
    expect(readChannel(state({ reason: "verify", re: "m0" })).ok).toBe(true);
    expect(readChannel(state({ reason: "verify", re: "" })).ok).toBe(false);
    expect(readChannel(state({ reason: "verify", re: 7 })).ok).toBe(false);
    expect(readChannel(state({ reason: "verify", re: "a".repeat(65) })).ok).toBe(false);
  });

  it("takes a session of up to 16 384 characters of JSON and refuses a bigger one", () => {
    const sized = (length: number) => {
      const base = JSON.stringify({ user: { name: "" }, expires: ada.expires }).length;
      return { user: { name: "x".repeat(length - base) }, expires: ada.expires };
    };
    expect(JSON.stringify(sized(16_384)).length).toBe(16_384);
    expect(readChannel(state({ session: sized(16_384) })).ok).toBe(true);
    expect(readChannel(state({ session: sized(16_385) }))).toEqual({ ok: false, ours: true });
  });
});

describe("identityOf", () => {
  it("is the empty string when signed out and the user's JSON when signed in", () => {
    expect(identityOf(null)).toBe("");
    expect(identityOf(ada)).toBe('{"name":"Ada"}');
  });
});

import { describe, expect, it } from "vitest";
import { CLOCK_TOLERANCE, MAX_CLOCK_SKEW } from "../../../src/server/clock-skew.ts";
import { resolveConfig } from "../../../src/server/config.ts";
import { type SessionServerError } from "../../../src/server/errors.ts";
import { lifetimePolicy } from "../../../src/server/session/policy.ts";
import { fromRow, fromToken, toToken, userClaims, type SessionRecord } from "../../../src/server/session/record.ts";
import { createRevocations, userRevocationKey } from "../../../src/server/session/revocation.ts";
import { claimsOf, shapeToken, toSession } from "../../../src/server/session/shaping.ts";
import { assertStorable } from "../../../src/server/session/storable.ts";
import { memoryStore } from "../../../src/server/stores/memory.ts";
import type { SessionHandlerConfig } from "../../../src/server/types.ts";
import { SECRET } from "../helpers.ts";

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 28, 12);
const MARGIN = (CLOCK_TOLERANCE + MAX_CLOCK_SKEW) * 1000;
const config = (overrides: Partial<SessionHandlerConfig> = {}) => resolveConfig({ secret: SECRET, ...overrides });

describe("lifetimePolicy: the lifetime rules, in ms, for both strategies", () => {
  const policy = lifetimePolicy({ maxAge: 3600, updateAge: 600, maxLifetime: 5 * 3600 });
  const session = (signedInAt: number, expires: number) => ({ signedInAt, expires });

  it("the expiry is maxAge from now, capped by the absolute lifetime", () => {
    expect(policy.expiryAt(NOW, NOW)).toBe(NOW + HOUR);
    expect(policy.expiryAt(NOW, NOW - 4.5 * HOUR)).toBe(NOW + 0.5 * HOUR);
    expect(lifetimePolicy({ maxAge: 3600, updateAge: 600, maxLifetime: undefined }).expiryAt(NOW, 0)).toBe(NOW + HOUR);
  });

  it("the lifetime is over exactly at signedInAt + maxLifetime", () => {
    expect(policy.lifetimeOver(NOW + 5 * HOUR - 1, NOW)).toBe(false);
    expect(policy.lifetimeOver(NOW + 5 * HOUR, NOW)).toBe(true);
  });

  it("a refresh is due once updateAge has passed since the expiry was set, never once expired, never when it would not move", () => {
    const set = (at: number) => session(at, at + HOUR);
    expect(policy.refreshDue(NOW + 599_999, set(NOW))).toBe(false);
    expect(policy.refreshDue(NOW + 600_000, set(NOW))).toBe(true);
    // Past the expiry (inside the tolerance other nodes allow): never revived.
    expect(policy.refreshDue(NOW + HOUR, set(NOW))).toBe(false);
    expect(policy.refreshDue(NOW + HOUR - 1, set(NOW))).toBe(true);
    // Capped by maxLifetime: extending would not move it, so nothing is written.
    const capped = session(NOW - 4.5 * HOUR, NOW + 0.5 * HOUR);
    expect(policy.refreshDue(NOW + 0.25 * HOUR, capped)).toBe(false);
    expect(policy.dueIfExpiresBy(NOW)).toBe(NOW + HOUR - 600_000);
  });

  it("with updateAge 0 a refresh is due on every request, even when the expiry would not move", () => {
    const everyTime = lifetimePolicy({ maxAge: 3600, updateAge: 0, maxLifetime: undefined });
    expect(everyTime.refreshDue(NOW, session(NOW, NOW + HOUR))).toBe(true);
    expect(everyTime.refreshDue(NOW + HOUR, session(NOW, NOW + HOUR))).toBe(false);
  });

  it("deny entries outlive every copy: the longest remaining lifetime plus tolerance and skew", () => {
    expect(policy.sessionDenyUntil(NOW, NOW)).toBe(NOW + HOUR + MARGIN);
    expect(policy.sessionDenyUntil(NOW, NOW - 4.5 * HOUR)).toBe(NOW + 0.5 * HOUR + MARGIN);
    expect(policy.userDenyUntil(NOW)).toBe(NOW + HOUR + MARGIN);
    // The shorter of maxAge and maxLifetime bounds every session that exists now.
    expect(lifetimePolicy({ maxAge: 7200, updateAge: 0, maxLifetime: 3600 }).userDenyUntil(NOW)).toBe(NOW + HOUR + MARGIN);
  });
});

describe("session records", () => {
  const record: SessionRecord = {
    id: "s-1",
    tokenId: "t-1",
    userId: "u-1",
    claims: { name: "Ada", theme: "dark" },
    signedInAt: NOW - HOUR,
    refreshedAt: NOW,
    expires: NOW + HOUR,
    generation: 7,
  };

  it("a record becomes a token with the managed claims in whole seconds, and back", () => {
    const token = toToken(record);
    expect(token).toStrictEqual({
      name: "Ada",
      theme: "dark",
      sub: "u-1",
      iat: NOW / 1000,
      exp: NOW / 1000 + 3600,
      jti: "t-1",
      sid: "s-1",
      auth_time: NOW / 1000 - 3600,
      gen: 7,
    });
    expect(fromToken(token)).toStrictEqual({ ...record, claims: { name: "Ada", theme: "dark" }, databaseToken: undefined });
  });

  it("a JWT converted from a database session carries its database cookie as dbt, a managed claim", () => {
    const token = toToken({ ...record, databaseToken: "A".repeat(43) });
    expect(token.dbt).toBe("A".repeat(43));
    expect(fromToken(token).databaseToken).toBe("A".repeat(43));
    expect(fromToken({ ...token, dbt: 5 as unknown as string }).databaseToken).toBeUndefined();
    expect(userClaims(token)).not.toHaveProperty("dbt");
  });

  it("a token without a user has no sub, and claims never override the managed ones", () => {
    expect(toToken({ ...record, userId: undefined })).not.toHaveProperty("sub");
    expect(toToken({ ...record, claims: { sub: "someone-else", sid: "x" } })).toMatchObject({ sub: "u-1", sid: "s-1" });
  });

  it("tokens from before generations (or from Auth.js) take their generation from sit, else their sign-in time", () => {
    const base = { iat: 1000, exp: 2000, jti: "j" };
    expect(fromToken({ ...base, gen: 5, sit: 9 }).generation).toBe(5);
    expect(fromToken({ ...base, sit: 1_500_123 }).generation).toBe(1_500_123);
    expect(fromToken({ ...base, auth_time: 900 }).generation).toBe(900_000);
    expect(fromToken(base)).toMatchObject({ generation: 1_000_000, signedInAt: 1_000_000, refreshedAt: 1_000_000, expires: 2_000_000, id: "j", tokenId: "j" });
  });

  it("a row is a record; a converted one remembers the JWT session it continues", () => {
    const row = { id: "r-1", userId: "u-1", data: { sub: "u-1", name: "Ada" }, createdAt: 1, updatedAt: 2, expires: 3, userAgent: null };
    expect(fromRow(row)).toStrictEqual({
      origin: undefined,
      id: "r-1",
      tokenId: "r-1",
      userId: "u-1",
      claims: { name: "Ada" },
      signedInAt: 1,
      refreshedAt: 2,
      expires: 3,
      generation: 0,
    });
    expect(fromRow({ ...row, data: { sid: "s-9" } }).origin).toBe("s-9");
    expect(fromRow({ ...row, data: { sid: 42 } }).origin).toBeUndefined();
  });

  it("userClaims drops every managed claim and keeps the rest", () => {
    expect(userClaims({ sub: 1, iat: 1, exp: 1, jti: 1, sid: 1, auth_time: 1, gen: 1, sit: 1, name: "Ada" })).toStrictEqual({ name: "Ada" });
  });
});

describe("storable session data", () => {
  const budget = config({ cookies: { maxSize: 1024 } });

  it("accepts data up to the budget and refuses one byte more", () => {
    const fill = (length: number) => ({ a: "x".repeat(length - '{"a":""}'.length) });
    expect(() => assertStorable(budget, fill(1024))).not.toThrow();
    expect(() => assertStorable(budget, fill(1025))).toThrow(
      expect.objectContaining({ code: "session_too_large", message: "session data is 1025 bytes; the budget is 1024" }),
    );
  });

  it("refuses a NUL or a lone surrogate anywhere, and keeps paired surrogates and escaped backslashes", () => {
    for (const bad of [{ a: "\u0000" }, { "k\u0000": 1 }, { a: "\ud800" }, { a: "x\udfff" }, { a: ["\udbff"] }]) {
      expect(() => assertStorable(budget, bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: "session_data_invalid" }));
    }
    for (const good of [{ a: "🍪" }, { a: "\\u0000" }, { a: "\\\\u0000" }, { a: "\\ud800" }, { a: "\u00ff\u0001" }]) {
      expect(() => assertStorable(budget, good), JSON.stringify(good)).not.toThrow();
    }
    expect(() => assertStorable(budget, { a: "\u0000" })).toThrow(/NUL character or a lone UTF-16 surrogate/);
  });

  it("data JSON cannot hold is the callback's fault: 500 callback_error with the cause", () => {
    const error = (() => {
      try {
        assertStorable(budget, { big: 1n });
      } catch (caught) {
        return caught as SessionServerError;
      }
    })();
    expect(error).toMatchObject({ code: "callback_error", status: 500 });
    expect(error?.message).toMatch(/not JSON/);
    expect(error?.cause).toBeInstanceOf(TypeError);
  });
});

describe("revocations", () => {
  const policy = lifetimePolicy({ maxAge: 3600, updateAge: 600, maxLifetime: undefined });

  it("without a store nothing is revoked, the generation is 0, sessions end silently, and sign out everywhere is refused", async () => {
    const none = createRevocations(undefined, policy);
    expect(none.enabled).toBe(false);
    expect(await none.isRevoked(NOW, ["s"], "u", 0)).toBe(false);
    expect(await none.generationOf(NOW, "u")).toBe(0);
    await expect(none.endSession(NOW, ["s"], NOW)).resolves.toBeUndefined();
    await expect(none.endUser(NOW, "u")).rejects.toMatchObject({ code: "store_required", message: expect.stringMatching(/needs a `store`/) });
  });

  it("any one denied id revokes; a generation below the store's revokes, equal or above does not", async () => {
    const store = memoryStore();
    const revocations = createRevocations(store, policy);
    expect(revocations.enabled).toBe(true);
    await revocations.endSession(NOW, ["b"], NOW);
    expect(await revocations.isRevoked(NOW, ["a", "b"], undefined, 0)).toBe(true);
    expect(await revocations.isRevoked(NOW, ["a"], undefined, 0)).toBe(false);
    expect(await revocations.generationOf(NOW, "u")).toBe(0);
    await revocations.endUser(NOW, "u");
    const generation = await revocations.generationOf(NOW, "u");
    expect(generation).toBe(NOW);
    expect(await store.revokedAt(userRevocationKey("u"), NOW)).toBe(generation);
    expect(await revocations.isRevoked(NOW, [], "u", generation - 1)).toBe(true);
    expect(await revocations.isRevoked(NOW, [], "u", generation)).toBe(false);
    // Generations are per user: another user, and a session without one, are untouched.
    expect(await revocations.isRevoked(NOW, [], "v", 0)).toBe(false);
    await store.advanceGeneration(userRevocationKey("undefined"), NOW + HOUR, NOW);
    expect(await revocations.isRevoked(NOW, [], undefined, 0)).toBe(false);
  });

  it("ending a session denies every id, for the deny horizon, then deletes their rows", async () => {
    const store = memoryStore();
    const row = { userId: "u", data: {}, createdAt: NOW, updatedAt: NOW, expires: NOW + HOUR, userAgent: null };
    await store.create({ ...row, id: "r1" });
    await store.create({ ...row, id: "r2" });
    await createRevocations(store, policy).endSession(NOW, ["r1", "r2"], NOW);
    expect(await store.listByUser("u", NOW)).toEqual([]);
    expect(await store.revokedAt("r2", NOW + HOUR + MARGIN - 1)).toBe(NOW);
    expect(await store.revokedAt("r2", NOW + HOUR + MARGIN)).toBeNull();
  });
});

describe("shaping", () => {
  it("a sign-in's token holds only the user fields that are set (Auth.js's default token)", () => {
    expect(claimsOf({ id: 7 as unknown as string })).toStrictEqual({ sub: "7" });
    expect(claimsOf({ id: "u", name: "Ada", email: null, image: "i" })).toStrictEqual({ sub: "u", name: "Ada", email: null, picture: "i" });
  });

  it("the public session holds only the user fields the token has", async () => {
    const token = { iat: 1, exp: 2, jti: "j" };
    expect(await toSession(config(), token)).toStrictEqual({ user: {}, expires: "1970-01-01T00:00:02.000Z" });
    expect(await toSession(config(), { ...token, sub: "u", name: "Ada", email: "a@x", picture: "p" })).toStrictEqual({
      user: { id: "u", name: "Ada", email: "a@x", image: "p" },
      expires: "1970-01-01T00:00:02.000Z",
    });
  });

  it("a callback cannot add, change or remove a managed claim, and a non-object ends the session", async () => {
    const token = { sub: "u", iat: 1, exp: 2, jti: "j", sid: "s", auth_time: 1, gen: 0 };
    const shaped = await shapeToken(config({ callbacks: { jwt: ({ token: t }) => ({ ...t, sub: "x", sit: 5, gen: undefined, extra: 1 }) } }), token, {});
    expect(shaped).toStrictEqual({ token: { ...token, extra: 1 }, changed: true });
    expect(await shapeToken(config({ callbacks: { jwt: ({ token: t }) => t } }), token, {})).toStrictEqual({ token, changed: false });
    for (const result of [null, undefined, "text", 1]) {
      expect(await shapeToken(config({ callbacks: { jwt: () => result as never } }), token, {})).toBeNull();
    }
  });

  it("a throwing callback is a callback_error naming the callback, with the cause", async () => {
    const cause = new Error("db down");
    const failing = config({
      callbacks: {
        jwt: () => {
          throw cause;
        },
        session: () => {
          throw cause;
        },
      },
    });
    await expect(shapeToken(failing, { iat: 1, exp: 2, jti: "j" }, {})).rejects.toMatchObject({
      code: "callback_error",
      message: "the jwt callback threw",
      cause,
    });
    await expect(Promise.resolve(toSession(failing, { iat: 1, exp: 2, jti: "j" }))).rejects.toMatchObject({ message: "the session callback threw", cause });
  });
});

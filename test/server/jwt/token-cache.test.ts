import { describe, expect, it } from "vitest";
import { DEFAULT_TOKEN_CACHE, resolveConfig } from "../../../src/server/config.ts";
import { SessionConfigError } from "../../../src/server/errors.ts";
import { ENTRY_OVERHEAD_BYTES, createLruCache, entryBytes } from "../../../src/server/jwt/token-cache.ts";
import type { SessionHandlerConfig } from "../../../src/server/types.ts";
import { SECRET } from "../helpers.ts";

const keysOf = <V>(cache: { get(key: string): V | undefined }, keys: string[]) => keys.filter((key) => cache.get(key) !== undefined);

describe("the LRU cache", () => {
  it("keeps at most maxEntries, evicting the least recently used", () => {
    const cache = createLruCache<number>({ maxEntries: 3, maxBytes: 1_000 });
    cache.set("a", 1, 1);
    cache.set("b", 2, 1);
    cache.set("c", 3, 1);
    expect(cache.get("a")).toBe(1); // a is now the most recent: b is the oldest
    cache.set("d", 4, 1);
    expect(cache.size).toBe(3);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("c")).toBe(3);
    expect(cache.get("a")).toBe(1);
    expect(cache.get("d")).toBe(4);
    expect(cache.bytes).toBe(3);
  });

  it("keeps at most maxBytes, evicting as many of the oldest as it takes", () => {
    const cache = createLruCache<string>({ maxEntries: 100, maxBytes: 10 });
    cache.set("a", "a", 4);
    cache.set("b", "b", 4);
    cache.set("c", "c", 2);
    expect(cache.bytes).toBe(10);
    cache.set("d", "d", 7); // 17 bytes: a and b must go (c stays: 2 + 7 fits)
    expect(keysOf(cache, ["a", "b", "c", "d"])).toEqual(["c", "d"]);
    expect(cache.bytes).toBe(9);
    expect(cache.size).toBe(2);
  });

  it("refuses an entry larger than maxBytes on its own, without evicting anything", () => {
    const cache = createLruCache<string>({ maxEntries: 10, maxBytes: 10 });
    cache.set("a", "a", 5);
    cache.set("huge", "x", 11);
    expect(cache.get("huge")).toBeUndefined();
    expect(cache.get("a")).toBe("a");
    expect(cache.bytes).toBe(5);
    cache.set("exact", "e", 10); // fits alone: everything else goes
    expect(keysOf(cache, ["a", "exact"])).toEqual(["exact"]);
    expect(cache.bytes).toBe(10);
  });

  it("replacing a key counts its new size only, and makes it the most recent", () => {
    const cache = createLruCache<number>({ maxEntries: 2, maxBytes: 100 });
    cache.set("a", 1, 30);
    cache.set("b", 2, 30);
    cache.set("a", 3, 50);
    expect(cache.bytes).toBe(80);
    expect(cache.size).toBe(2);
    cache.set("c", 4, 1); // b is the oldest now
    expect(keysOf(cache, ["a", "b", "c"])).toEqual(["a", "c"]);
    expect(cache.get("a")).toBe(3);
  });

  it("a replaced key that no longer fits is removed, not kept at its old size", () => {
    const cache = createLruCache<number>({ maxEntries: 2, maxBytes: 10 });
    cache.set("a", 1, 5);
    cache.set("a", 2, 11);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.bytes).toBe(0);
    expect(cache.size).toBe(0);
  });

  it("delete removes one key and its bytes, and says whether it was there", () => {
    const cache = createLruCache<number>({ maxEntries: 5, maxBytes: 100 });
    cache.set("a", 1, 10);
    cache.set("b", 2, 20);
    cache.set("c", 3, 30);
    expect(cache.delete("b")).toBe(true);
    expect(cache.delete("b")).toBe(false);
    expect(cache.bytes).toBe(40);
    // The list stays whole around the removed node: the oldest is still a, then c.
    cache.set("d", 4, 70); // 110: a goes
    expect(keysOf(cache, ["a", "c", "d"])).toEqual(["c", "d"]);
    expect(cache.delete("d")).toBe(true); // the newest
    expect(cache.delete("c")).toBe(true); // the last one
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
    cache.set("e", 5, 1);
    expect(cache.get("e")).toBe(5);
  });

  it("a hit on the oldest entry saves it from the next eviction; a hit on the newest changes nothing", () => {
    const cache = createLruCache<number>({ maxEntries: 2, maxBytes: 100 });
    cache.set("a", 1, 1);
    cache.set("b", 2, 1);
    expect(cache.get("b")).toBe(2);
    expect(cache.get("a")).toBe(1);
    cache.set("c", 3, 1);
    expect(keysOf(cache, ["a", "b", "c"])).toEqual(["a", "c"]);
  });

  it("a hit entry goes back in line: after newer entries it is evicted in its turn", () => {
    const cache = createLruCache<number>({ maxEntries: 2, maxBytes: 100 });
    cache.set("a", 1, 1);
    cache.set("b", 2, 1);
    expect(cache.get("a")).toBe(1);
    cache.set("c", 3, 1); // b goes
    cache.set("d", 4, 1); // then a, the least recently used
    expect(keysOf(cache, ["a", "b", "c", "d"])).toEqual(["c", "d"]);
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBe(2);
  });

  it("hits on the newest entry keep the order whole", () => {
    const cache = createLruCache<number>({ maxEntries: 2, maxBytes: 100 });
    cache.set("a", 1, 1);
    cache.set("b", 2, 1);
    for (let i = 0; i < 3; i++) expect(cache.get("b")).toBe(2);
    cache.set("c", 3, 1); // a is still the oldest
    expect(keysOf(cache, ["a", "b", "c"])).toEqual(["b", "c"]);
  });

  it("stays within both bounds under a flood of distinct keys", () => {
    const cache = createLruCache<string>({ maxEntries: 50, maxBytes: 2_000 });
    let largest = { size: 0, bytes: 0 };
    for (let i = 0; i < 10_000; i++) {
      cache.set(`key-${i}`, "v", 10 + (i % 90));
      largest = { size: Math.max(largest.size, cache.size), bytes: Math.max(largest.bytes, cache.bytes) };
    }
    expect(largest.size).toBe(50);
    expect(largest.bytes).toBeLessThanOrEqual(2_000);
    expect(cache.get("key-9999")).toBe("v");
    expect(cache.get("key-0")).toBeUndefined();
  });
});

describe("entryBytes", () => {
  it("counts one byte a character for Latin-1, two beyond it, plus the overhead", () => {
    expect(entryBytes("abc", "{}")).toBe(ENTRY_OVERHEAD_BYTES + 3 + 2);
    expect(entryBytes("abc", '{"n":"é"}')).toBe(ENTRY_OVERHEAD_BYTES + 3 + 9);
    expect(entryBytes("abc", '{"n":"Ω"}')).toBe(ENTRY_OVERHEAD_BYTES + 3 + 18);
    expect(entryBytes("abc", '{"n":"😀"}')).toBe(ENTRY_OVERHEAD_BYTES + 3 + 2 * '{"n":"😀"}'.length);
  });
});

describe("the jwt.cache option", () => {
  const resolve = (jwt: unknown) => resolveConfig({ secret: SECRET, jwt } as SessionHandlerConfig).tokenCache;

  it("is on with 10,000 entries and 16 MiB by default, or when true or {}", () => {
    expect(DEFAULT_TOKEN_CACHE).toEqual({ maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 });
    for (const jwt of [undefined, {}, { cache: true }, { cache: {} }]) expect(resolve(jwt)).toEqual(DEFAULT_TOKEN_CACHE);
  });

  it("takes either bound alone, the other keeping its default", () => {
    expect(resolve({ cache: { maxEntries: 5 } })).toEqual({ maxEntries: 5, maxBytes: 16 * 1024 * 1024 });
    expect(resolve({ cache: { maxBytes: 4096 } })).toEqual({ maxEntries: 10_000, maxBytes: 4096 });
    expect(resolve({ cache: { maxEntries: 1, maxBytes: 1 } })).toEqual({ maxEntries: 1, maxBytes: 1 });
  });

  it("is off with false", () => {
    expect(resolve({ cache: false })).toBe(false);
  });

  it.each([
    ["a string for jwt", "on", /jwt must be an object/],
    ["null for jwt", null, /jwt must be an object/],
    ["an array for jwt", [], /jwt must be an object/],
    ["null", { cache: null }, /jwt.cache must be true, false or/],
    ["a number", { cache: 100 }, /jwt.cache must be true, false or/],
    ["an array", { cache: [] }, /jwt.cache must be true, false or/],
    ["0 entries", { cache: { maxEntries: 0 } }, /jwt.cache.maxEntries must be a positive integer/],
    ["negative entries", { cache: { maxEntries: -1 } }, /jwt.cache.maxEntries must be a positive integer/],
    ["fractional entries", { cache: { maxEntries: 1.5 } }, /jwt.cache.maxEntries must be a positive integer/],
    ["entries as a string", { cache: { maxEntries: "100" } }, /jwt.cache.maxEntries must be a positive integer/],
    ["infinite entries", { cache: { maxEntries: Infinity } }, /jwt.cache.maxEntries must be a positive integer/],
    ["NaN bytes", { cache: { maxBytes: Number.NaN } }, /jwt.cache.maxBytes must be a positive integer/],
    ["0 bytes", { cache: { maxBytes: 0 } }, /jwt.cache.maxBytes must be a positive integer/],
    ["bytes past 2^53", { cache: { maxBytes: 2 ** 54 } }, /jwt.cache.maxBytes must be a positive integer/],
  ])("refuses %s", (_, jwt, message) => {
    expect(() => resolve(jwt)).toThrow(SessionConfigError);
    expect(() => resolve(jwt)).toThrow(message);
  });
});

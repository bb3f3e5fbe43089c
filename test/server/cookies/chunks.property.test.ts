import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHUNK_SIZE, ownNames, readChunkedCookie, splitIntoChunks } from "../../../src/server/cookies/chunks.ts";
import { MAX_COOKIE_HEADER_LENGTH, parseCookieHeader } from "../../../src/server/cookies/header.ts";

const NAME = "authjs.session-token";
const BUDGET = 12_288;
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** RFC 6265 `token` characters (a cookie name) and `cookie-octet`s (a value), ASCII only. */
const TOKEN_CHARS = [..."!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"];
const OCTET_CHARS = [...Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i))].filter((char) => !'",;\\'.includes(char));

const cookieName = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 24 });
const cookieValue = fc.string({ unit: fc.constantFrom(...OCTET_CHARS), maxLength: 64 });

/** A base64url value (what the server stores) of any length up to the budget, built cheaply from a seed. */
const tokenValue = fc.record({ length: fc.integer({ min: 0, max: BUDGET }), seed: fc.integer() }).map(({ length, seed }) => {
  let state = seed >>> 0 || 1;
  let value = "";
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    value += BASE64URL[(state >>> 0) % 64];
  }
  return value;
});
const chunkedValue = tokenValue.filter((value) => value.length > CHUNK_SIZE);

/** Unrelated cookies a browser sends alongside ours. */
const others = fc.array(
  fc.tuple(cookieName, cookieValue).filter(([name]) => name !== NAME && !name.startsWith(`${NAME}.`)),
  { maxLength: 5 },
);

function header(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([name, value]) => `${name}=${value}`).join("; ");
}

/** Parses `pairs` as a browser would send them, our chunks shuffled among unrelated cookies. */
function read(pairs: ReadonlyArray<readonly [string, string]>) {
  return readChunkedCookie(parseCookieHeader(header(pairs)), NAME, BUDGET);
}

function asPairs(chunks: ReadonlyArray<{ name: string; value: string }>): Array<[string, string]> {
  return chunks.map(({ name, value }) => [name, value]);
}

describe("parseCookieHeader", () => {
  it("never throws on any string and returns only non-empty names with at least one value", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: "binary", maxLength: 300 }), fc.string({ unit: fc.constantFrom(...'a=; "\t%.\u0000\u00e9'), maxLength: 300 })),
        (input) => {
          const jar = parseCookieHeader(input);
          for (const [name, values] of jar) {
            expect(name.length).toBeGreaterThan(0);
            expect(values.length).toBeGreaterThan(0);
          }
        },
      ),
    );
  });

  it("round-trips name/value pairs built from cookie-safe characters, duplicates kept in order", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(cookieName, cookieValue), { maxLength: 20 }), (pairs) => {
        const expected = new Map<string, string[]>();
        for (const [name, value] of pairs) expected.set(name, [...(expected.get(name) ?? []), value]);
        expect(new Map(parseCookieHeader(header(pairs)))).toEqual(expected);
      }),
    );
  });

  it("ignores a header over the length cap instead of parsing it", () => {
    expect(parseCookieHeader(`a=${"x".repeat(MAX_COOKIE_HEADER_LENGTH)}`).size).toBe(0);
  });
});

describe("splitIntoChunks and readChunkedCookie", () => {
  it("reads back any value up to the budget, whatever order the chunks arrive in", () => {
    fc.assert(
      fc.property(tokenValue, others, fc.integer(), (value, unrelated, shuffleSeed) => {
        const chunks = asPairs(splitIntoChunks(NAME, value));
        for (const [, chunk] of chunks) expect(chunk.length).toBeLessThanOrEqual(CHUNK_SIZE);
        // A deterministic shuffle of our chunks among the unrelated cookies.
        const mixed = [...chunks, ...unrelated].map((pair, i) => ({ pair, key: Math.imul(i + 1, shuffleSeed | 1) >>> 0 })).sort((a, b) => a.key - b.key);
        expect(read(mixed.map(({ pair }) => pair))).toEqual({ kind: "present", value });
      }),
      { numRuns: 60 },
    );
  });

  it("refuses a chunked value with any chunk but the last removed (a gap)", () => {
    fc.assert(
      fc.property(chunkedValue, fc.nat(), (value, pick) => {
        const chunks = asPairs(splitIntoChunks(NAME, value));
        const removed = pick % (chunks.length - 1);
        expect(read(chunks.filter((_, i) => i !== removed))).toMatchObject({ kind: "rejected", reason: "cookie_chunks_invalid", clear: true });
      }),
      { numRuns: 40 },
    );
  });

  it("never yields the original value when the last chunk is removed (the JWE tag then refuses the prefix)", () => {
    fc.assert(
      fc.property(chunkedValue, (value) => {
        const result = read(asPairs(splitIntoChunks(NAME, value)).slice(0, -1));
        expect(result.kind === "present" && result.value === value).toBe(false);
        // What the reader can return is a strict prefix, which never decrypts.
        if (result.kind === "present") expect(value.startsWith(result.value)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it("refuses any chunk sent twice, and does not ask to clear it", () => {
    fc.assert(
      fc.property(tokenValue, fc.nat(), fc.option(cookieValue, { nil: undefined }), (value, pick, replacement) => {
        const chunks = asPairs(splitIntoChunks(NAME, value));
        const [name, original] = chunks[pick % chunks.length]!;
        expect(read([...chunks, [name, replacement ?? original]])).toMatchObject({ kind: "rejected", reason: "cookie_duplicated", clear: false });
      }),
      { numRuns: 60 },
    );
  });

  it("ignores a piece this server never writes (non-canonical index, or past the budget's chunk count)", () => {
    const nonCanonical = fc.constantFrom("", "00", "01", "-1", "+1", "x", "1e2", "0x1", " 1", "1000", "999999", "NaN", "Infinity", "1.5");
    const own = new Set(ownNames(NAME, BUDGET));
    fc.assert(
      fc.property(tokenValue, fc.oneof(nonCanonical, fc.integer({ min: 0, max: 999 }).map(String)), cookieValue, (value, suffix, junk) => {
        fc.pre(!own.has(`${NAME}.${suffix}`));
        const chunks = asPairs(splitIntoChunks(NAME, value));
        expect(read([...chunks, [`${NAME}.${suffix}`, junk]])).toEqual({ kind: "present", value });
      }),
      { numRuns: 200 },
    );
  });

  it("a piece of ours beside the plain cookie is tossing: refused and never cleared; one leaving a gap is refused and cleared", () => {
    const indexes = fc.integer({ min: 0, max: Math.ceil(BUDGET / CHUNK_SIZE) - 1 });
    fc.assert(
      fc.property(tokenValue, indexes, cookieValue, (value, index, junk) => {
        const chunks = asPairs(splitIntoChunks(NAME, value));
        fc.pre(index !== chunks.length || chunks.length === 1);
        const result = read([...chunks, [`${NAME}.${index}`, junk]]);
        if (chunks.length === 1) expect(result).toEqual({ kind: "rejected", reason: "cookie_duplicated", clear: false });
        else if (index < chunks.length) expect(result).toMatchObject({ kind: "rejected", reason: "cookie_duplicated", clear: false });
        else expect(result).toEqual({ kind: "rejected", reason: "cookie_chunks_invalid", clear: true });
      }),
      { numRuns: 200 },
    );
  });

  it("reads no more chunks than the budget allows, and refuses a total over the budget", () => {
    const maxChunks = Math.ceil(BUDGET / CHUNK_SIZE);
    fc.assert(
      fc.property(fc.integer({ min: maxChunks + 1, max: 12 }), (count) => {
        const pairs = Array.from({ length: count }, (_, i): [string, string] => [`${NAME}.${i}`, "a"]);
        // The pieces past the budget are not ours: what is read is the first `maxChunks`, which no JWE tag accepts.
        expect(read(pairs)).toEqual({ kind: "present", value: "a".repeat(maxChunks) });
      }),
    );
    expect(read(asPairs(splitIntoChunks(NAME, "a".repeat(BUDGET + 1))))).toMatchObject({ kind: "rejected", reason: "cookie_too_large" });
    expect(read([[NAME, "a".repeat(BUDGET + 1)]])).toMatchObject({ kind: "rejected", reason: "cookie_too_large" });
  });
});

import type { CookieRejection } from "../errors.js";
import type { CookieJar } from "./header.js";

/**
 * Largest value one chunk holds: 4096 bytes per cookie minus room for the name
 * and attributes (the figure Auth.js uses, so its chunked cookies read the same).
 */
export const CHUNK_SIZE = 3936;

export type ChunkedCookie =
  | { kind: "absent" }
  | { kind: "present"; value: string }
  | { kind: "rejected"; reason: CookieRejection; /** Whether clearing the pieces is safe: false when one may be the user's own. */ clear: boolean };

/** How many chunks a cookie of at most `maxSize` bytes can need. */
export const maxChunks = (maxSize: number) => Math.ceil(maxSize / CHUNK_SIZE);

/**
 * The names this server may have written for the cookie `name`: the plain
 * name and `name.0 … name.(maxChunks - 1)`. Nothing else is ever read as part of
 * the cookie, nor cleared: a stray `name.99` or `name.x` is someone else's
 * (or an attacker's), and clearing whatever a request sends would let 900 stray
 * cookies turn into 900 `Set-Cookie` lines.
 */
export function ownNames(name: string, maxSize: number): readonly string[] {
  const key = `${name}\n${maxSize}`;
  let names = ownNamesCache.get(key);
  if (!names) {
    names = Object.freeze([name, ...Array.from({ length: maxChunks(maxSize) }, (_, index) => `${name}.${index}`)]);
    // A server has a handful of cookie names and one budget: the cache stays tiny.
    if (ownNamesCache.size < 64) ownNamesCache.set(key, names);
  }
  return names;
}
const ownNamesCache = new Map<string, readonly string[]>();

/**
 * Reads a cookie that may be split into `name.0`, `name.1`, … Strict, so a
 * planted piece can neither splice content into a session nor get the user's
 * own cookie cleared:
 * - only the names of {@link ownNames} count; any other `name.*` is ignored;
 * - any of them sent twice, or the plain name beside chunks: two sources are
 *   writing this cookie (tossing from a sibling domain), so it is rejected and
 *   *not* cleared, since the copy we would clear may be the user's own;
 * - a gap in the chunks: rejected (and cleared: only our own names);
 * - a total above `maxSize`: rejected before anything is decoded.
 * Chunks are joined by index, whatever order they arrive in.
 *
 * @example
 * ```ts
 * readChunkedCookie(parseCookieHeader("s.1=cd; s.0=ab"), "s", 12288); // { kind: "present", value: "abcd" }
 * ```
 */
export function readChunkedCookie(jar: CookieJar, name: string, maxSize: number): ChunkedCookie {
  const [, ...chunkNames] = ownNames(name, maxSize);
  const plain = jar.get(name);
  const chunks = chunkNames.map((chunk) => jar.get(chunk));
  const sent = chunks.filter((values) => values !== undefined);
  if (plain === undefined && sent.length === 0) return { kind: "absent" };
  if ((plain?.length ?? 0) > 1 || sent.some((values) => values.length > 1) || (plain !== undefined && sent.length > 0)) {
    return { kind: "rejected", reason: "cookie_duplicated", clear: false };
  }
  if (plain !== undefined) {
    const value = plain[0]!;
    return value.length > maxSize ? { kind: "rejected", reason: "cookie_too_large", clear: true } : { kind: "present", value };
  }
  let value = "";
  for (let index = 0; index < sent.length; index++) {
    const chunk = chunks[index];
    if (chunk === undefined) return { kind: "rejected", reason: "cookie_chunks_invalid", clear: true };
    value += chunk[0];
    if (value.length > maxSize) return { kind: "rejected", reason: "cookie_too_large", clear: true };
  }
  return { kind: "present", value };
}

/**
 * Splits a value into the cookies that carry it: the plain name when it fits
 * in one cookie, else `name.0…name.N`.
 */
export function splitIntoChunks(name: string, value: string): Array<{ name: string; value: string }> {
  if (value.length <= CHUNK_SIZE) return [{ name, value }];
  const chunks: Array<{ name: string; value: string }> = [];
  for (let offset = 0, index = 0; offset < value.length; offset += CHUNK_SIZE, index++) {
    chunks.push({ name: `${name}.${index}`, value: value.slice(offset, offset + CHUNK_SIZE) });
  }
  return chunks;
}

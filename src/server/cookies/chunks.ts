import type { CookieJar } from "./header.js";
import type { CookieRejection } from "../errors.js";

/**
 * Largest value one chunk holds: 4096 bytes per cookie minus room for the name
 * and attributes (the figure Auth.js uses, so its chunked cookies read the same).
 */
export const CHUNK_SIZE = 3936;

export type ChunkedCookie =
  | { kind: "absent" }
  | { kind: "present"; value: string; names: readonly string[] }
  | { kind: "rejected"; reason: CookieRejection; names: readonly string[]; clear: boolean };

const INDEX = /^(0|[1-9][0-9]{0,2})$/;

/**
 * Reads a cookie that may be split into `name.0`, `name.1`, … Strict, so a
 * stray or forged piece cannot splice content into a session:
 * - the unchunked `name` and any `name.N` together: rejected (mixed);
 * - an index that is not a plain decimal (`01`, `-1`, `x`), a gap, or more
 *   chunks than the size budget allows: rejected;
 * - any name sent twice (cookie tossing): rejected and *not* cleared, since the
 *   copy we would clear may be the user's own while the tossed one survives;
 * - a total above `maxSize`: rejected before anything is decoded.
 * Chunks are joined by index, whatever order they arrive in.
 *
 * @example
 * ```ts
 * readChunkedCookie(parseCookieHeader("s.1=cd; s.0=ab"), "s", 12288); // { kind: "present", value: "abcd", … }
 * ```
 */
export function readChunkedCookie(jar: CookieJar, name: string, maxSize: number): ChunkedCookie {
  const prefix = `${name}.`;
  const chunks = new Map<number, string>();
  const names: string[] = [];
  let duplicated = false;
  let strayIndex = false;
  for (const [cookieName, values] of jar) {
    if (cookieName !== name && !cookieName.startsWith(prefix)) continue;
    names.push(cookieName);
    if (values.length > 1) duplicated = true;
    if (cookieName === name) continue;
    const suffix = cookieName.slice(prefix.length);
    if (!INDEX.test(suffix)) strayIndex = true;
    else chunks.set(Number(suffix), values[0] ?? "");
  }
  if (names.length === 0) return { kind: "absent" };
  if (duplicated) return { kind: "rejected", reason: "cookie_duplicated", names, clear: false };
  const maxChunks = Math.ceil(maxSize / CHUNK_SIZE);
  const plain = jar.get(name)?.[0];
  if (strayIndex || (plain !== undefined && chunks.size > 0) || chunks.size > maxChunks) {
    return { kind: "rejected", reason: "cookie_chunks_invalid", names, clear: true };
  }
  if (plain !== undefined) {
    return plain.length > maxSize ? { kind: "rejected", reason: "cookie_too_large", names, clear: true } : { kind: "present", value: plain, names };
  }
  let value = "";
  for (let index = 0; index < chunks.size; index++) {
    const chunk = chunks.get(index);
    if (chunk === undefined) return { kind: "rejected", reason: "cookie_chunks_invalid", names, clear: true };
    value += chunk;
    if (value.length > maxSize) return { kind: "rejected", reason: "cookie_too_large", names, clear: true };
  }
  return { kind: "present", value, names };
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

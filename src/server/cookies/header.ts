/**
 * A request's cookies by name. A name can appear more than once (cookie
 * tossing from a sibling domain, or a path-scoped copy); callers decide what a
 * duplicate means, so every value is kept in the order sent.
 */
export type CookieJar = ReadonlyMap<string, readonly string[]>;

/** Headers longer than this are not parsed: no browser sends one a server accepts. */
export const MAX_COOKIE_HEADER_LENGTH = 32_768;

/**
 * Parses a `Cookie` header without throwing on any input. Values are taken
 * as sent (no percent-decoding, which throws on `%E0%A4%A`), with one pair of
 * surrounding double quotes removed as RFC 6265 allows. Pairs without `=` or
 * with an empty name are skipped.
 *
 * Pairs are separated by `;` and also by `,`: a client that sends several
 * Cookie fields (HTTP/2 may) reaches a Fetch handler as one value joined with
 * ", " (the Fetch standard's join; Node's own `Headers` uses "; "), and no
 * cookie value may hold a comma (RFC 6265 `cookie-octet`), so splitting there
 * never cuts a conforming value.
 *
 * @example
 * ```ts
 * parseCookieHeader("a=1; b=2; a=3").get("a"); // ["1", "3"]
 * parseCookieHeader("a=1, b=2").get("b"); // ["2"]: two Cookie fields joined by Fetch
 * ```
 */
export function parseCookieHeader(header: string | null): CookieJar {
  const jar = new Map<string, string[]>();
  if (!header || header.length > MAX_COOKIE_HEADER_LENGTH) return jar;
  for (const pair of header.split(/[;,]/)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (!name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    const values = jar.get(name);
    if (values) values.push(value);
    else jar.set(name, [value]);
  }
  return jar;
}

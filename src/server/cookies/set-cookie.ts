/** Attributes of a `Set-Cookie` line. */
export interface CookieAttributes {
  secure: boolean;
  sameSite: "Lax" | "Strict" | "None";
  domain?: string | undefined;
  /** Absent: a browser-session cookie. */
  expires?: Date | undefined;
}

/**
 * One `Set-Cookie` value. Always `HttpOnly` and `Path=/`. Values are written
 * as given: every value the server sets is base64url or hex, which need no escaping.
 */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes, now: number): string {
  let line = `${name}=${value}; Path=/; HttpOnly; SameSite=${attributes.sameSite}`;
  if (attributes.secure) line += "; Secure";
  if (attributes.domain) line += `; Domain=${attributes.domain}`;
  if (attributes.expires) {
    const maxAge = Math.max(0, Math.floor((attributes.expires.getTime() - now) / 1000));
    line += `; Expires=${attributes.expires.toUTCString()}; Max-Age=${maxAge}`;
  }
  return line;
}

/** A `Set-Cookie` value that deletes the cookie (same name, path and domain). */
export function serializeClearedCookie(name: string, attributes: Omit<CookieAttributes, "expires">): string {
  let line = `${name}=; Path=/; HttpOnly; SameSite=${attributes.sameSite}; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0`;
  if (attributes.secure) line += "; Secure";
  if (attributes.domain) line += `; Domain=${attributes.domain}`;
  return line;
}

/**
 * What a Host (or X-Forwarded-Host) value may be: `host[:port]` or `[ipv6][:port]`, nothing else. A value
 * like `localhost:3000/api/auth/session?` would otherwise move the path a URL is built with (`#` pushes it
 * into the fragment), so proxies, firewalls and logs would see another request than the one served.
 */
export const HOST = /^(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * The origin a reverse proxy says the browser used (`X-Forwarded-Proto` and `X-Forwarded-Host`, first
 * values), for `trustHost`; undefined when the headers are absent or not well-formed.
 */
export function forwardedOrigin(headers: Headers): string | undefined {
  // A proxy chain appends: the first value is what the browser used.
  const host = (headers.get("x-forwarded-host") ?? "").split(",")[0]!.trim();
  if (!host || !HOST.test(host)) return undefined;
  const proto = (headers.get("x-forwarded-proto") ?? "https").split(",")[0]!.trim().toLowerCase();
  if (proto !== "http" && proto !== "https") return undefined;
  return `${proto}://${host.toLowerCase()}`;
}

import type { ResolvedConfig } from "../config.js";
import { SessionServerError } from "../errors.js";
import type { RequestContext } from "../context.js";

/**
 * Refuses a state-changing request that a browser sent from another site: an
 * `Origin` that is neither ours nor trusted (including `null`), or, when the
 * browser sent no `Origin`, `Sec-Fetch-Site: cross-site`. Requests without
 * either header (servers, scripts) pass on to the CSRF check.
 */
export function assertSameOrigin(config: ResolvedConfig, context: RequestContext): void {
  const origin = context.request.headers.get("origin");
  if (origin !== null) {
    if (origin === context.origin || config.trustedOrigins.has(origin)) return;
    // Both origins named (the request's quoted and cut short: it is the sender's text), so a proxy that
    // rewrites the URL (a dev server, `next start` behind https) is seen at once in the log.
    throw new SessionServerError(
      "origin_forbidden",
      `request Origin ${JSON.stringify(origin.slice(0, 100))} is not this server's origin ${context.origin}: set \`url\` to the public origin, or list it in \`trustedOrigins\``,
    );
  }
  if (context.request.headers.get("sec-fetch-site") === "cross-site") {
    throw new SessionServerError("origin_forbidden", "cross-site request without Origin");
  }
}

/**
 * A redirect target the caller may choose, kept to our own or a trusted origin
 * (no open redirect); anything else falls back to the site root.
 */
export function safeRedirect(config: ResolvedConfig, context: RequestContext, requested: unknown): string {
  const fallback = `${context.origin}/`;
  if (typeof requested !== "string" || requested.length === 0 || requested.length > 2048) return fallback;
  let target: URL;
  try {
    target = new URL(requested, context.origin);
  } catch {
    return fallback;
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") return fallback;
  if (target.origin !== context.origin && !config.trustedOrigins.has(target.origin)) return fallback;
  return target.href;
}

import { createSessionHandler } from "../../src/server/index.ts";
import type { SessionHandlerConfig } from "../../src/server/types.ts";

export const SECRET = "test-secret-0123456789-abcdefghijklmnop";
export const ORIGIN = "http://localhost:3000";
export const BASE = `${ORIGIN}/api/auth`;

/** A clock the test moves by hand; milliseconds since epoch. */
export function manualClock(start = Date.UTC(2026, 10, 28, 12, 0, 0)) {
  let now = start;
  return {
    now: () => now,
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

/** A logger that records every call so tests can assert codes and the absence of secrets. */
export function recordingLogger() {
  const entries: Array<{ level: string; code: string; details: unknown }> = [];
  const record = (level: string) => (code: string, details?: unknown) => void entries.push({ level, code, details });
  return { entries, logger: { error: record("error"), warn: record("warn"), debug: record("debug") } };
}

export const demoUser = { id: "user-1", name: "Ada Lovelace", email: "ada@example.com", image: null };

export function createTestHandler(overrides: Partial<SessionHandlerConfig> = {}) {
  const clock = manualClock();
  const log = recordingLogger();
  const auth = createSessionHandler({
    secret: SECRET,
    clock: clock.now,
    logger: log.logger,
    authorize: async (credentials) => (credentials.password === "correct horse" ? demoUser : null),
    ...overrides,
  });
  return { auth, clock, log };
}

/** The `name=value` pairs of a response's `Set-Cookie` headers, deletions included (value ""). */
export function setCookies(response: Response): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(";")[0]!;
    const eq = pair.indexOf("=");
    cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return cookies;
}

/**
 * A minimal browser cookie jar: applies `Set-Cookie` lines (a `Max-Age=0`
 * deletes) and renders the `Cookie` header.
 */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  apply(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(";")[0]!;
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      if (/;\s*Max-Age=0\b/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

/** A signed-in browser: fetches a CSRF token and posts the credentials. */
export async function signIn(
  handler: (request: Request) => Promise<Response>,
  jar = new CookieJar(),
  fields: Record<string, string> = {},
  headers: Record<string, string> = {},
) {
  const csrfResponse = await handler(new Request(`${BASE}/csrf`, { headers: { cookie: jar.header() } }));
  jar.apply(csrfResponse);
  const { csrfToken } = (await csrfResponse.json()) as { csrfToken: string };
  const response = await handler(
    new Request(`${BASE}/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar.header(), "x-auth-return-redirect": "1", origin: ORIGIN, ...headers },
      body: new URLSearchParams({ email: "ada@example.com", password: "correct horse", csrfToken, callbackUrl: "/dashboard", ...fields }),
    }),
  );
  jar.apply(response);
  return { jar, csrfToken, response };
}

export function get(path: string, jar?: CookieJar, headers: Record<string, string> = {}) {
  return new Request(`${BASE}${path}`, { headers: { ...(jar ? { cookie: jar.header() } : {}), ...headers } });
}

export function postJson(path: string, body: unknown, jar?: CookieJar, headers: Record<string, string> = {}) {
  return new Request(`${BASE}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN, ...(jar ? { cookie: jar.header() } : {}), ...headers },
    body: JSON.stringify(body),
  });
}

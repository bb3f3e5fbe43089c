import type { Session } from "../shared/session.js";
import type { ClientEnv } from "./env.js";
import { SessionError } from "./errors.js";
import { readSession } from "./session-shape.js";

export interface Answer<T> {
  body: T;
  /** The server's clock (from `Date`) at monotonic instant `at`; undefined without the header. */
  server: { time: number; at: number } | undefined;
}

/** `Retry-After` in ms (seconds or an HTTP date), or undefined. */
function retryAfter(response: Response, now: number): number | undefined {
  const value = response.headers.get("retry-after");
  if (!value) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * HTTP calls to the session server, each with a timeout, every failure turned
 * into a {@link SessionError}. `fetch` never follows redirects: a redirect to
 * a login page is an error, not a session.
 */
export function createTransport(env: ClientEnv, basePath: string, timeoutMs: number) {
  async function call(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<Answer<unknown>> {
    const url = basePath + path;
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener("abort", abort);
    let timedOut = false;
    const timer = env.setTimeout(() => ((timedOut = true), controller.abort()), timeoutMs);
    const sentAt = env.monotonic();
    try {
      let response: Response;
      try {
        response = await env.fetch(url, { credentials: "include", redirect: "manual", ...init, signal: controller.signal });
      } catch {
        throw new SessionError(timedOut ? "timeout" : "network", undefined, url);
      }
      const { status } = response;
      if (response.type === "opaqueredirect" || (status >= 300 && status < 400)) throw new SessionError("redirected", status, url);
      if (status >= 500 || status === 429) throw new SessionError(status === 429 ? "http" : "server", status, url, retryAfter(response, env.now()));
      let body: unknown;
      try {
        body = JSON.parse(await response.text());
      } catch {
        throw new SessionError(timedOut ? "timeout" : "invalid_response", status, url);
      }
      if (status >= 400) throw Object.assign(new SessionError("http", status, url), { body });
      const date = Date.parse(response.headers.get("date") ?? "");
      // The Date header has 1 s resolution; the midpoint of the round trip halves the rest of the error.
      return { body, server: Number.isNaN(date) ? undefined : { time: date, at: (sentAt + env.monotonic()) / 2 } };
    } finally {
      env.clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
    }
  }

  return {
    /** `GET /session`, or with `update` the `POST /session` of an update: the session answered, checked. */
    async session(signal?: AbortSignal, update?: object): Promise<Answer<Session | null>> {
      const init = update && { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(update) };
      const answer = await call("/session", init, signal);
      const session = readSession(answer.body);
      if (session === undefined) throw new SessionError("invalid_response", 200, basePath + "/session");
      return { body: session, server: answer.server };
    },
    /** A request answered with JSON (the write side builds its posts on it). */
    call,
  };
}

export type Transport = ReturnType<typeof createTransport>;

import type { Session } from "../shared/session.js";
import type { ClientEnv } from "./env.js";
import { SessionError } from "./errors.js";
import { readSession } from "./session-shape.js";

export interface Answer<T> {
  body: T;
  /** Server clock minus ours, ms, from the `Date` header; undefined when absent. */
  offset: number | undefined;
}

/**
 * HTTP calls to the session server, each with a timeout, every failure turned
 * into a {@link SessionError}. `fetch` never follows redirects: a redirect to
 * a login page is an error, not a session.
 */
export function createTransport(env: ClientEnv, basePath: string, timeoutMs: number) {
  async function call(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<Answer<unknown>> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener("abort", abort);
    let timedOut = false;
    const timer = env.setTimeout(() => ((timedOut = true), controller.abort()), timeoutMs);
    const sentAt = env.now();
    try {
      let response: Response;
      try {
        response = await env.fetch(basePath + path, { credentials: "include", redirect: "manual", ...init, signal: controller.signal });
      } catch {
        throw new SessionError(timedOut ? "timeout" : "network", undefined, path);
      }
      const { status } = response;
      if (response.type === "opaqueredirect" || (status >= 300 && status < 400)) throw new SessionError("redirected", status, path);
      if (status >= 500) throw new SessionError("server", status, path);
      let body: unknown;
      try {
        body = JSON.parse(await response.text());
      } catch {
        throw new SessionError(timedOut ? "timeout" : "invalid_response", status, path);
      }
      if (status >= 400) throw Object.assign(new SessionError("http", status, path), { body });
      const date = Date.parse(response.headers.get("date") ?? "");
      // The Date header has 1 s resolution; the midpoint of the round trip halves the rest of the error.
      const offset = Number.isNaN(date) ? undefined : date - (sentAt + env.now()) / 2;
      return { body, offset };
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
      if (session === undefined) throw new SessionError("invalid_response", 200, "/session");
      return { body: session, offset: answer.offset };
    },
    async csrf(): Promise<string> {
      const { body } = await call("/csrf");
      const token = (body as { csrfToken?: unknown } | null)?.csrfToken;
      if (typeof token !== "string") throw new SessionError("invalid_response", 200, "/csrf");
      return token;
    },
    /** A form post answered with `{ url }` (Auth.js v5 and ours read the header, v4 the `json` field). */
    post: (path: string, fields: Record<string, string>) =>
      call(path, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-auth-return-redirect": "1" },
        body: new URLSearchParams(fields).toString(),
      }),
  };
}

import { SessionError } from "./errors.js";
import type { Transport } from "./transport.js";

/** Error codes a server gives a refused CSRF token (ours, Auth.js v5); a 403 with another code (`origin_forbidden`) is not retried. */
const CSRF_REFUSALS = ["csrf_invalid", "MissingCSRF"];
const bodyOf = (error: unknown) => (error as { body?: Record<string, unknown> | null }).body ?? undefined;

/**
 * State-changing requests: run one at a time in call order, each with the
 * cached CSRF token (fetched again once if the server refuses it).
 */
export function createWriter(transport: Transport, basePath: string, beforeEach: () => void) {
  let queue: Promise<unknown> = Promise.resolve();
  let csrfToken: Promise<string> | undefined;

  async function fetchCsrf(): Promise<string> {
    const { body } = await transport.call("/csrf");
    const token = (body as { csrfToken?: unknown } | null)?.csrfToken;
    if (typeof token !== "string") throw new SessionError("invalid_response", 200, basePath + "/csrf");
    return token;
  }

  /** A JSON post, e.g. `/sessions/revoke`. */
  const postJson = (path: string, body: object) =>
    transport.call(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  /** A form post answered with `{ url }` (Auth.js v5 and ours read the header, v4 the `json` field). */
  const post = (path: string, fields: Record<string, string>) =>
    transport.call(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-auth-return-redirect": "1" },
      body: new URLSearchParams(fields).toString(),
    });

  async function withCsrf<T>(send: (token: string) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const token = await (csrfToken ??= fetchCsrf().catch((error) => {
        csrfToken = undefined;
        throw error;
      }));
      try {
        return await send(token);
      } catch (error) {
        const code = bodyOf(error)?.error;
        if (!(error instanceof SessionError && error.status === 403) || (typeof code === "string" && !CSRF_REFUSALS.includes(code))) throw error;
        csrfToken = undefined;
        if (attempt > 0) throw new SessionError("csrf", 403, error.path);
      }
    }
  }

  return {
    /** Queues `task` after the writes before it; `beforeEach` runs at once (it abandons a read in flight). */
    write<T>(task: () => Promise<T>): Promise<T> {
      beforeEach();
      const run = queue.then(task);
      queue = run.catch(() => {});
      return run;
    },
    withCsrf,
    postJson,
    /**
     * A form post answered with `{ url }` (sign-in, sign-out), the way the Auth.js clients do it. A refused
     * sign-in still carries its `url` (with `error=`) in a 401 body; a request refused before it was read
     * (`origin_forbidden`, a 400) carries its `error` code instead.
     */
    async postForm(path: string, fields: Record<string, string>, callbackUrl: string) {
      try {
        const { body } = await withCsrf((token) => post(path, { ...fields, csrfToken: token, callbackUrl, json: "true" }));
        const url = (body as { url?: unknown } | null)?.url;
        return { url: typeof url === "string" ? url : callbackUrl, status: 200, error: undefined };
      } catch (error) {
        const body = bodyOf(error);
        if (!(error instanceof SessionError) || error.code !== "http") throw error;
        if (typeof body?.url === "string") return { url: body.url, status: error.status!, error: undefined };
        if (typeof body?.error === "string") return { url: null, status: error.status!, error: body.error };
        throw error;
      }
    },
  };
}

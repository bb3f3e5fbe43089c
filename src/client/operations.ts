import type { Session, SessionListing } from "../shared/session.js";
import type { ClientEnv } from "./env.js";
import { SessionError } from "./errors.js";
import type { SessionReason } from "./messages.js";
import type { Transport } from "./transport.js";
import type { SessionClient, SessionSnapshot, SignInResult } from "./types.js";
import { createWriter } from "./writer.js";

export interface OperationHooks {
  shown: () => SessionSnapshot;
  /** Reads the session (waiting for a read in flight). */
  refresh: () => Promise<unknown>;
  /** Shows this tab's own answer and tells the other tabs. */
  commit: (session: Session | null, reason: SessionReason, server?: { time: number; at: number }) => void;
  /** Rejects once the client is destroyed. */
  destroyed: () => boolean;
}

export type Operations = Pick<SessionClient, "update" | "signIn" | "signOut" | "listSessions" | "revokeSession" | "revokeOtherSessions" | "signOutEverywhere">;

/**
 * The calls that change the session at the server: each runs after the ones
 * before it (the writer's queue) with CSRF handled, and ends by showing the
 * server's answer in every tab. The client loads this module on the first
 * such call: most page views only read the session.
 */
export function createOperations(env: ClientEnv, basePath: string, transport: Transport, abortRead: () => void, hooks: OperationHooks): Operations {
  // A write abandons the read in flight: its answer may predate the write.
  const writer = createWriter(transport, basePath, abortRead);
  const write = <T>(task: () => Promise<T>): Promise<T> => (hooks.destroyed() ? Promise.reject(new SessionError("destroyed")) : writer.write(task));
  /** After revoking sessions, the current one may be gone: read it again inside the write, before the next. */
  const revoke = (body: object) =>
    write(async () => {
      await writer.withCsrf((csrfToken) => writer.postJson("/sessions/revoke", { ...body, csrfToken }));
      const { body: session, server } = await transport.session();
      hooks.commit(session, session ? "update" : "signout", server);
    });

  return {
    update(data) {
      return write(async () => {
        if (hooks.shown().status === "loading") await hooks.refresh();
        if (hooks.shown().status !== "authenticated") throw new SessionError("unauthenticated");
        const { body: session, server } = await writer.withCsrf((token) => transport.session(undefined, { csrfToken: token, data }));
        hooks.commit(session, "update", server);
        return session;
      });
    },

    signIn(provider, fields = {}, { redirect = true, callbackUrl } = {}) {
      return write(async (): Promise<SignInResult> => {
        if (provider !== "credentials") {
          // An OpenID / OAuth provider: the server answers with the provider's page; the browser must go there.
          const started = await writer.postForm(`/signin/${encodeURIComponent(provider)}`, fields, callbackUrl ?? env.href() ?? "/");
          if (started.error) return { ok: false, error: started.error, status: started.status, url: null };
          env.navigate(started.url!);
          return { ok: true, error: null, status: started.status, url: started.url };
        }
        const outcome = await writer.postForm(`/callback/${provider}`, fields, callbackUrl ?? env.href() ?? "/");
        if (outcome.error) return { ok: false, error: outcome.error, status: outcome.status, url: null };
        const { url, status } = outcome;
        let error: string | null = null;
        try {
          error = new URL(url!, "http://base.invalid").searchParams.get("error");
        } catch {
          // Not a URL: no error code in it.
        }
        if (error) return { ok: false, error, status: status === 200 ? 401 : status, url };
        const { body, server } = await transport.session();
        hooks.commit(body, "signin", server);
        if (redirect) env.navigate(url!);
        return { ok: true, error, status, url };
      });
    },

    signOut({ redirect = true, callbackUrl } = {}) {
      return write(async () => {
        const outcome = await writer.postForm("/signout", {}, callbackUrl ?? env.href() ?? "/");
        if (outcome.error) throw new SessionError("http", outcome.status, basePath + "/signout");
        hooks.commit(null, "signout");
        if (redirect) env.navigate(outcome.url!);
        return { url: outcome.url! };
      });
    },

    async listSessions() {
      const { body } = await transport.call("/sessions");
      if (!Array.isArray(body)) throw new SessionError("invalid_response", 200, basePath + "/sessions");
      return body as SessionListing[];
    },
    revokeSession: (id) => revoke({ id }),
    revokeOtherSessions: () => revoke({ others: true }),
    signOutEverywhere: () => revoke({ all: true }),
  };
}

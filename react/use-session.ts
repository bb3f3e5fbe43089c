"use client";
import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import type { SessionSnapshot } from "sessionpulse";
import { useSessionClient } from "./context.js";
import type { UseSessionOptions, UseSessionResult } from "./types.js";

/**
 * The session, re-rendering only when it changes. Server rendering uses the
 * provider's initial session, so hydration matches and nothing flashes `loading`.
 *
 * @example
 * ```tsx
 * const { data, status } = useSession();
 * if (status === "authenticated") return <p>Hi {data.user.name}</p>;
 * ```
 */
export function useSession({ required = false, onUnauthenticated }: UseSessionOptions = {}): UseSessionResult {
  const client = useSessionClient();
  // The part of the snapshot this hook shows, the same object while it is unchanged: a change of leader
  // (`isLeader`, not shown here) then leaves useSyncExternalStore's value alone and re-renders nothing.
  const view = useMemo(() => {
    let last: Pick<SessionSnapshot, "data" | "status" | "isStale" | "error"> | undefined;
    return ({ data, status, isStale, error }: SessionSnapshot) =>
      last && last.data === data && last.status === status && last.isStale === isStale && last.error === error
        ? last
        : (last = { data, status, isStale, error });
  }, [client]);
  const [serverView] = useState(() => view(client.getSnapshot()));
  const shown = useSyncExternalStore(
    client.subscribe,
    () => view(client.getSnapshot()),
    () => serverView,
  );
  const unauthenticated = required && shown.status === "unauthenticated";
  useEffect(() => {
    if (!unauthenticated) return;
    if (onUnauthenticated) return onUnauthenticated();
    const query = new URLSearchParams({ error: "SessionRequired", callbackUrl: window.location.href });
    window.location.assign(`${client.basePath}/signin?${query}`);
  }, [unauthenticated, client]);
  return useMemo(
    () => ({ ...shown, status: unauthenticated ? "loading" : shown.status, update: client.update }) as UseSessionResult,
    [shown, unauthenticated, client],
  );
}

"use client";
import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
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
  const [serverSnapshot] = useState(client.getSnapshot);
  const snapshot = useSyncExternalStore(client.subscribe, client.getSnapshot, () => serverSnapshot);
  const unauthenticated = required && snapshot.status === "unauthenticated";
  useEffect(() => {
    if (!unauthenticated) return;
    if (onUnauthenticated) return onUnauthenticated();
    const query = new URLSearchParams({ error: "SessionRequired", callbackUrl: window.location.href });
    window.location.assign(`${client.basePath}/signin?${query}`);
  }, [unauthenticated, client]);
  return useMemo(
    () => ({ data: snapshot.data, status: unauthenticated ? "loading" : snapshot.status, update: client.update, isStale: snapshot.isStale, error: snapshot.error }) as UseSessionResult,
    [snapshot, unauthenticated, client],
  );
}

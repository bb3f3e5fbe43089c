"use client";
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import type { SessionSnapshot } from "sessionpulse";
import { useSessionClient } from "./context.js";
import type { UseSessionOptions, UseSessionResult } from "./types.js";

type View = Pick<SessionSnapshot, "data" | "status" | "isStale" | "error">;

/**
 * The part of the snapshot `useSession` shows, as the same object while it is unchanged: a change of
 * leader (`isLeader`, not shown) then leaves useSyncExternalStore's value alone and re-renders nothing.
 */
function viewSelector(): (snapshot: SessionSnapshot) => View {
  let last: View | undefined;
  return ({ data, status, isStale, error }) =>
    last && last.data === data && last.status === status && last.isStale === isStale && last.error === error ? last : (last = { data, status, isStale, error });
}

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
export function useSession(options: UseSessionOptions = {}): UseSessionResult {
  const { required = false, onUnauthenticated, redirectTo } = options;
  if (required && !onUnauthenticated && typeof redirectTo !== "string")
    throw new TypeError("sessionpulse: useSession({ required: true }) needs onUnauthenticated or redirectTo (the app's sign-in page)");
  const client = useSessionClient();
  const [view] = useState(viewSelector);
  const [serverView] = useState(() => view(client.getSnapshot()));
  const shown = useSyncExternalStore(
    client.subscribe,
    () => view(client.getSnapshot()),
    () => serverView,
  );
  const unauthenticated = required && shown.status === "unauthenticated";
  // The latest callback, without re-running the redirect effect each time an inline one is re-created.
  const onUnauthenticatedRef = useRef(onUnauthenticated);
  useEffect(() => {
    onUnauthenticatedRef.current = onUnauthenticated;
  });
  useEffect(() => {
    if (!unauthenticated) return;
    if (onUnauthenticatedRef.current) return onUnauthenticatedRef.current();
    const target = new URL(redirectTo!, window.location.href);
    target.searchParams.set("callbackUrl", window.location.href);
    window.location.assign(target.href);
  }, [unauthenticated, redirectTo]);
  return useMemo(
    () => ({ ...shown, status: unauthenticated ? "loading" : shown.status, update: client.update }) as UseSessionResult,
    [shown, unauthenticated, client],
  );
}

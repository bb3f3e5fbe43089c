"use client";
import { createElement, useEffect, useRef, useState, type ReactNode } from "react";
import { createSessionClient, type Session, type SessionClient, type SessionClientOptions } from "sessionpulse";
import { SessionClientContext } from "./context.js";

export type SessionProviderProps = { children?: ReactNode } & (
  | { client: SessionClient }
  | (Omit<SessionClientOptions, "initialSession"> & { client?: undefined; /** The session from server rendering. */ session?: Session | null })
);

/**
 * Gives `useSession` its client: pass a ready `client`, or the client options
 * (then the provider creates one, with `session` as the server-rendered
 * initial session, and destroys it on unmount).
 *
 * @example
 * ```tsx
 * <SessionProvider session={session} refetchInterval={300}>
 *   <App />
 * </SessionProvider>
 * ```
 */
export function SessionProvider(props: SessionProviderProps) {
  const [client] = useState(() => props.client ?? createSessionClient({ ...props, initialSession: props.session }));
  const owned = client !== props.client;
  const pendingDestroy = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    if (!owned) return;
    // Destroy a tick after unmount: Strict Mode's simulated unmount is followed by a remount that cancels it.
    clearTimeout(pendingDestroy.current);
    return () => void (pendingDestroy.current = setTimeout(() => client.destroy(), 0));
  }, [client, owned]);
  return createElement(SessionClientContext.Provider, { value: client }, props.children);
}

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
  // Ownership is decided once, at creation: a `client` prop (the first or a swapped one) is the caller's and never destroyed here.
  const [first] = useState(() => ({ client: props.client ?? createSessionClient({ ...props, initialSession: props.session }), owned: !props.client }));
  const client = props.client ?? first.client;
  const pendingDestroy = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    if (!first.owned) return;
    // Destroy a tick after unmount: Strict Mode's simulated unmount is followed by a remount that cancels it.
    clearTimeout(pendingDestroy.current);
    return () => void (pendingDestroy.current = setTimeout(() => first.client.destroy(), 0));
  }, [first]);
  return createElement(SessionClientContext.Provider, { value: client }, props.children);
}

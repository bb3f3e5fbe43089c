"use client";
import { createContext, useContext } from "react";
import type { SessionClient } from "sessionpulse";

export const SessionClientContext = createContext<SessionClient | null>(null);

/**
 * The session client of the nearest `SessionProvider`, for `signIn`,
 * `signOut`, `refresh` and events.
 *
 * @example
 * ```tsx
 * const client = useSessionClient();
 * <button onClick={() => client.signOut({ redirect: false })}>Sign out</button>
 * ```
 */
export function useSessionClient(): SessionClient {
  const client = useContext(SessionClientContext);
  if (!client) throw new Error("sessionpulse: useSession and useSessionClient must be used inside <SessionProvider>");
  return client;
}

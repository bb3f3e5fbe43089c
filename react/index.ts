"use client";
/**
 * `sessionpulse/react`: `SessionProvider`, `useSession` and `useSessionClient`
 * over the sessionpulse client. Works with React 18 and 19 and the Next.js App Router.
 *
 * @packageDocumentation
 */
export { SessionProvider, type SessionProviderProps } from "./session-provider.js";
export { useSession } from "./use-session.js";
export { useSessionSnapshot } from "./use-session-snapshot.js";
export type { UseSessionOptions, UseSessionResult } from "./types.js";
export { useSessionClient } from "./context.js";
export type { Session, SessionClient, SessionSnapshot, SessionStatus } from "sessionpulse";

"use client";
import { useState, useSyncExternalStore } from "react";
import type { SessionSnapshot } from "sessionpulse";
import { useSessionClient } from "./context.js";

/**
 * The client's whole snapshot (`isLeader`, `updatedAt` and the rest), or the
 * part a selector picks: re-renders only when that part changes (compared
 * with `Object.is`). For what `useSession` does not show.
 *
 * @example
 * ```tsx
 * const isLeader = useSessionSnapshot((snapshot) => snapshot.isLeader);
 * ```
 */
export function useSessionSnapshot(): SessionSnapshot;
export function useSessionSnapshot<T>(select: (snapshot: SessionSnapshot) => T): T;
export function useSessionSnapshot<T>(select?: (snapshot: SessionSnapshot) => T): T | SessionSnapshot {
  const client = useSessionClient();
  // The selector of the first render: an inline one is a new function every render, and must not resubscribe.
  const [pick] = useState(() => select ?? ((snapshot: SessionSnapshot) => snapshot));
  const read = () => pick(client.getSnapshot());
  return useSyncExternalStore(client.subscribe, read, read);
}

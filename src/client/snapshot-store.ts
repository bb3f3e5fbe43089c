import type { Session } from "../shared/session.js";
import type { SessionError } from "./errors.js";
import type { SessionEvent, SessionEventType, SessionSnapshot } from "./types.js";

/**
 * The snapshot and who listens to it: `set` publishes a new object only when
 * a field changed, and a throwing listener or handler is reported
 * asynchronously without breaking the others.
 */
export function createSnapshotStore(initial: SessionSnapshot, report: (error: unknown) => void) {
  let snapshot = initial;
  const listeners = new Set<() => void>();
  const handlers = new Map<SessionEventType, Set<(event: SessionEvent) => void>>();
  const safely = (run: () => void) => {
    try {
      run();
    } catch (error) {
      report(error);
    }
  };
  return {
    get: () => snapshot,
    set(patch: Partial<SessionSnapshot>) {
      const next = { ...snapshot, ...patch };
      if ((Object.keys(next) as Array<keyof SessionSnapshot>).every((key) => next[key] === snapshot[key])) return;
      snapshot = next;
      listeners.forEach((listener) => safely(listener));
    },
    emit(type: SessionEventType, source: SessionEvent["source"], error?: SessionError, session: Session | null = snapshot.data) {
      const event: SessionEvent = { type, source, session, ...(error && { error }) };
      handlers.get(type)?.forEach((handler) => safely(() => handler(event)));
    },
    listen(listener: () => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    on(type: SessionEventType, handler: (event: SessionEvent) => void) {
      let bucket = handlers.get(type);
      if (!bucket) handlers.set(type, (bucket = new Set()));
      bucket.add(handler);
      return () => void bucket.delete(handler);
    },
    clear() {
      listeners.clear();
      handlers.clear();
    },
  };
}

export type SnapshotStore = ReturnType<typeof createSnapshotStore>;

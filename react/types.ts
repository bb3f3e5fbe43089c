"use client";
import type { Session, SessionClient, SessionError } from "sessionpulse";

/**
 * `required: true` never hands `unauthenticated` to the component: it reports `loading` and then either
 * calls `onUnauthenticated` or navigates to `redirectTo` (this server has no sign-in page of its own, so
 * one of the two is needed; `redirectTo` gets `?callbackUrl=<this page>` appended).
 */
export type UseSessionOptions =
  | { required?: false; onUnauthenticated?: undefined; redirectTo?: undefined }
  | { required: true; onUnauthenticated: () => void; redirectTo?: undefined }
  | { required: true; redirectTo: string; onUnauthenticated?: undefined };

interface Common {
  update: SessionClient["update"];
  /** True while the data shown could not be confirmed by the server (errors, offline). */
  isStale: boolean;
  error: SessionError | null;
}

/**
 * What `useSession` returns. It narrows the way components are written: after
 * `status === "loading"` and `status === "unauthenticated"` return early,
 * `data` is a `Session`.
 */
export type UseSessionResult = Common &
  ({ status: "authenticated"; data: Session } | { status: "loading"; data: Session | null } | { status: "unauthenticated"; data: null });

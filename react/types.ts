"use client";
import type { Session, SessionClient, SessionError } from "sessionpulse";

export interface UseSessionOptions {
  /** Never hand `unauthenticated` to the component: report `loading` and call `onUnauthenticated`. */
  required?: boolean;
  /** Default: go to the sign-in page (`{basePath}/signin?error=SessionRequired&callbackUrl=…`), as Auth.js does. */
  onUnauthenticated?: () => void;
}

/** What `useSession` returns; `data` is a `Session` whenever `status` is `authenticated`. */
export type UseSessionResult = {
  update: SessionClient["update"];
  /** True while the data shown could not be confirmed by the server (errors, offline). */
  isStale: boolean;
  error: SessionError | null;
} & ({ status: "authenticated"; data: Session } | { status: "loading" | "unauthenticated"; data: Session | null });

"use client";
import type { ReactNode } from "react";
import type { Session } from "sessionpulse";
import { SessionProvider } from "sessionpulse/react";

export function Providers({ session, children }: { session: Session | null; children: ReactNode }) {
  return (
    <SessionProvider session={session} refetchInterval={60}>
      {children}
    </SessionProvider>
  );
}

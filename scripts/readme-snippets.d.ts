// What README snippets stand for without defining: the app's own values and functions.
import type { ReactNode } from "react";
import type { SessionClient, SessionSnapshot } from "sessionpulse";
import type { Authorize } from "sessionpulse/server";

declare global {
  const email: string;
  const password: string;
  const fields: Record<string, string>;
  const secret: string;
  const request: Request;
  const client: SessionClient;
  const myFetch: (input: string, init: RequestInit) => Promise<Response>;
  function render(snapshot: SessionSnapshot): void;
  function Spinner(): ReactNode;
  const db: { checkPassword(email: string, password: string): Promise<{ id: string; name: string; email: string } | null> };
  const authorize: Authorize;
}

"use client";
import { useState, type FormEvent } from "react";
import { useSession, useSessionClient } from "sessionpulse/react";

export function Account({ openId }: { openId: boolean }) {
  const { data, status } = useSession();
  const client = useSessionClient();
  const [error, setError] = useState<string | null>(null);

  async function signIn(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const result = await client.signIn("credentials", { email: String(form.get("email")), password: String(form.get("password")) }, { redirect: false });
    setError(result.ok ? null : result.error);
  }

  if (status === "loading") return <p>Loading…</p>;
  if (status === "authenticated")
    return (
      <p>
        Signed in as <strong data-testid="user">{data.user.name}</strong> <button onClick={() => void client.signOut({ redirect: false })}>Sign out</button>
      </p>
    );
  return (
    <form onSubmit={(event) => void signIn(event)}>
      <input name="email" type="email" defaultValue="ada@example.com" aria-label="Email" />
      <input name="password" type="password" placeholder="correct horse" aria-label="Password" />
      <button type="submit">Sign in</button>
      {openId && (
        <button type="button" onClick={() => void client.signIn("oidc")}>
          Sign in with OpenID
        </button>
      )}
      {error && <p role="alert">Sign-in failed: {error}</p>}
    </form>
  );
}

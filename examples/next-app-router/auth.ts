import { createSessionHandler, oidc } from "sessionpulse/server";

/**
 * The session server. `AUTH_SECRET` (≥ 32 bytes) and `APP_URL` (the public origin) come from the
 * environment at run time: `next build` needs neither.
 */
export const auth = createSessionHandler({
  secret: process.env.AUTH_SECRET!,
  url: process.env.APP_URL,
  // Your password check goes here; this example accepts one demo account.
  authorize: async ({ email, password }) => (email === "ada@example.com" && password === "correct horse" ? { id: "ada", name: "Ada Lovelace", email } : null),
  // An OpenID Connect provider, when one is configured (any issuer URL: Google, Entra ID, Keycloak, …).
  providers: process.env.OIDC_ISSUER
    ? [
        oidc({
          id: "oidc",
          name: "OpenID",
          issuer: process.env.OIDC_ISSUER,
          clientId: process.env.OIDC_CLIENT_ID!,
          clientSecret: process.env.OIDC_CLIENT_SECRET,
        }),
      ]
    : [],
});

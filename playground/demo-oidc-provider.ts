import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

/**
 * A real OpenID provider (`oidc-provider`, a certified implementation) on loopback, with its development
 * login and consent pages: any login name signs in as that account. The playground signs in through it
 * ("Sign in with the demo OpenID provider"), and so do the tests.
 */
export async function startOidcProvider({
  redirectUris,
  clientId = "sessionpulse",
  clientSecret = "sessionpulse-client-secret-0123456789",
}: {
  redirectUris: string[];
  clientId?: string;
  clientSecret?: string;
}) {
  const target: { handle?: ReturnType<Provider["callback"]> } = {};
  const server: Server = createServer((request, response) => void target.handle?.(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: redirectUris, token_endpoint_auth_method: "client_secret_post" }],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    findAccount: (_context, id) => ({
      accountId: id,
      claims: () => ({ sub: id, email: `${id}@example.com`, email_verified: true, name: `Demo ${id}` }),
    }),
    // Every claim of the granted scopes in the ID token (no userinfo round trip needed).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    // Quiet in tests: the development keys and interactions are meant for exactly this.
    cookies: { keys: ["test-cookie-key-0123456789abcdef"] },
  });
  target.handle = provider.callback();
  return {
    issuer,
    clientId,
    clientSecret,
    provider,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

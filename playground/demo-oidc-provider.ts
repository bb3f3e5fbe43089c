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
  accessTokenTtl = 3600,
}: {
  redirectUris: string[];
  clientId?: string;
  clientSecret?: string;
  /** Seconds an access token lives: short in tests of the refresh. */
  accessTokenTtl?: number;
}) {
  const target: { handle?: ReturnType<Provider["callback"]> } = {};
  const server: Server = createServer((request, response) => void target.handle?.(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        token_endpoint_auth_method: "client_secret_post",
        grant_types: ["authorization_code", "refresh_token"],
      },
    ],
    // A refresh token with every sign-in, rotated at every use: a refresh token used twice is the
    // provider's sign of theft, and it revokes the whole grant (RFC 9700 §4.14.2), as real providers do.
    issueRefreshToken: () => true,
    rotateRefreshToken: () => true,
    ttl: { AccessToken: accessTokenTtl },
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
  /** What the token endpoint did: the tests count refreshes, and any refused one (a reused refresh token). */
  const grants = { refreshes: 0, refused: 0, revoked: 0 };
  provider.on("grant.success", (context: { oidc: { params?: { grant_type?: unknown } } }) => {
    if (context.oidc.params?.grant_type === "refresh_token") grants.refreshes++;
  });
  provider.on("grant.error", () => grants.refused++);
  provider.on("grant.revoked", () => grants.revoked++);
  return {
    grants,
    issuer,
    clientId,
    clientSecret,
    provider,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

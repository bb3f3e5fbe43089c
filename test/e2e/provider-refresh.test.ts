/**
 * Provider tokens in the whole system: two playground servers (one site's nodes, sharing the SQLite file
 * and the secret) behind a round-robin proxy, five tabs of one browser polling through it every second,
 * a real OpenID provider (oidc-provider) whose access tokens live 4 s and whose refresh tokens rotate at
 * every use (a reused one revokes the grant). The session signs in through the provider's pages in
 * Chromium; then the provider must see one refresh per expiry, none refused, and the token stays valid.
 *
 * Needs Chromium; without it this test is skipped with a note, or fails when SESSIONPULSE_REQUIRE_SERVICES=1 (CI).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as forward, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startOidcProvider } from "../../playground/demo-oidc-provider.ts";
import { missing } from "../server/services.ts";
import { buildPlayground, chromiumMissing, launchChromium, openTabs, press, sleep, startPlayground, waitForStatus, type Playground } from "./harness.ts";

const noChromium = chromiumMissing();
const TTL = 4;

let data: string;
let idp: Awaited<ReturnType<typeof startOidcProvider>>;
const nodes: Playground[] = [];
let proxy: Server;
let site: string;
let browser: Browser;
const perNode = [0, 0];

/** Sends each request to the next node in turn, as a load balancer without affinity does. */
async function startProxy(targets: string[], port: number): Promise<string> {
  let next = 0;
  proxy = createServer((incoming, outgoing) => {
    const index = next++ % targets.length;
    if (incoming.url?.startsWith("/api/auth/session")) perNode[index]!++;
    const target = new URL(targets[index]!);
    const upstream = forward({ host: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(outgoing);
    });
    upstream.on("error", () => outgoing.writeHead(502).end());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
}

beforeAll(async () => {
  if (noChromium) return;
  buildPlayground();
  data = mkdtempSync(join(tmpdir(), "sessionpulse-two-nodes-"));
  // The proxy's origin is the site's: reserve it first, so the provider knows the redirect URI.
  const placeholder = createServer();
  await new Promise<void>((resolve) => placeholder.listen(0, "127.0.0.1", resolve));
  const port = (placeholder.address() as { port: number }).port;
  await new Promise<void>((resolve) => placeholder.close(() => resolve()));
  idp = await startOidcProvider({ redirectUris: [`http://127.0.0.1:${port}/api/auth/callback/demo`], accessTokenTtl: TTL });
  const env = { PLAYGROUND_OIDC_ISSUER: idp.issuer, PLAYGROUND_OIDC_CLIENT_ID: idp.clientId, PLAYGROUND_OIDC_CLIENT_SECRET: idp.clientSecret };
  // One after the other: the first writes the shared secret the second reads.
  nodes.push(await startPlayground({ data, env }));
  nodes.push(await startPlayground({ data, env }));
  site = await startProxy(
    nodes.map((node) => node.url),
    port,
  );
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  proxy?.close();
  await Promise.all(nodes.map((node) => node.stop()));
  await idp?.stop();
  if (data) rmSync(data, { recursive: true, force: true });
});

test("5 tabs × 2 servers polling at once: one provider refresh per expiry, none refused, the token always valid", { timeout: 90_000 }, async (context) => {
  if (noChromium) missing(noChromium, context);
  const tabs = await openTabs(await browser.newContext(), site, 5, "?poll=1");
  await waitForStatus(tabs, "unauthenticated");
  const acting = tabs[0]!;
  await press(acting, "sign-in-openid");
  await acting.waitForSelector('input[name="login"]', { timeout: 10_000 });
  await acting.fill('input[name="login"]', "eve");
  await acting.fill('input[name="password"]', "anything");
  await acting.locator('button[type="submit"]').click();
  await acting.locator('button[type="submit"]').click({ timeout: 10_000 }); // consent
  await waitForStatus(tabs, "authenticated", 10_000);

  const before = { ...idp.grants };
  const polls = [...perNode];
  const tokenOf = () =>
    acting.evaluate(() =>
      fetch("/demo/provider-token").then((response) => response.json() as Promise<{ expiresAt?: string; fingerprint?: string; error?: string }>),
    );
  const seen = new Set<string>();
  const started = Date.now();
  while (Date.now() - started < 14_000) {
    const token = await tokenOf();
    expect(token.error).toBeUndefined();
    expect(new Date(token.expiresAt!).getTime()).toBeGreaterThan(Date.now()); // never handed out expired
    seen.add(token.fingerprint!);
    await sleep(500);
  }
  const refreshes = idp.grants.refreshes - before.refreshes;
  expect(idp.grants.refused - before.refused).toBe(0);
  expect(idp.grants.revoked - before.revoked).toBe(0);
  // Due halfway (2 s) and found by the next poll (1 s): one refresh every 2–3 s, so 5 to 7 in 14 s — not one per tab or per node.
  expect(refreshes).toBeGreaterThanOrEqual(4);
  expect(refreshes).toBeLessThanOrEqual(8);
  expect(seen.size).toBeGreaterThanOrEqual(refreshes); // each refresh gave a new token, and server code saw it
  // Both nodes answered the polls.
  expect(perNode[0]! - polls[0]!).toBeGreaterThan(2);
  expect(perNode[1]! - polls[1]!).toBeGreaterThan(2);
});

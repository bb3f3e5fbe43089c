/**
 * The examples a new user copies, as that user gets them: `npm pack` of this package, each example
 * copied to an empty folder and installed from the registry with the tarball, type-checked and built
 * by its own `build`, started as in production, and signed into in real Chromium with a password and
 * through a real OpenID provider (oidc-provider on loopback, its login and consent pages). So the
 * examples, the README's recipes they follow and the published package cannot drift apart.
 *
 * Needs Chromium and the npm registry; without them these tests are skipped with a note, or fail
 * when SESSIONPULSE_REQUIRE_SERVICES=1 (CI).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test, type TestContext } from "vitest";
import { startOidcProvider } from "../../playground/demo-oidc-provider.ts";
import { missing } from "../server/services.ts";
import { buildPlayground, chromiumMissing, launchChromium, ROOT, sleep } from "./harness.ts";

const run = promisify(execFile);
const noChromium = chromiumMissing();
const SECRET = "example-secret-0123456789-abcdefghijklmnop";

interface App {
  name: string;
  url: string;
  process: ChildProcess;
  output: () => string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Copies an example to an empty folder and installs it as a user would, with the packed tarball instead of the registry's sessionpulse. */
async function install(example: string, into: string, tarball: string): Promise<string> {
  const folder = join(into, example);
  cpSync(join(ROOT, "examples", example), folder, { recursive: true, filter: (path) => !/node_modules|[/\\]dist$|\.next/.test(path) });
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], { cwd: folder, timeout: 240_000 });
  return folder;
}

function start(name: string, command: string[], cwd: string, env: Record<string, string>, url: string): App {
  const child = spawn(process.execPath, command, { cwd, env: { ...process.env, NODE_ENV: "production", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  process.once("exit", () => child.kill("SIGKILL"));
  return { name, url, process: child, output: () => output };
}

async function ready(app: App): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 200) {
    if (app.process.exitCode !== null) throw new Error(`${app.name} exited with ${app.process.exitCode}:\n${app.output()}`);
    const answered = await fetch(`${app.url}/api/auth/csrf`).then(
      (response) => response.ok,
      () => false,
    );
    if (answered) return;
    await sleep(200);
  }
  throw new Error(`${app.name} did not answer within 30 s:\n${app.output()}`);
}

let folder: string;
let browser: Browser | undefined;
let idp: Awaited<ReturnType<typeof startOidcProvider>> | undefined;
const apps: App[] = [];
let setupError: Error | undefined;

beforeAll(async () => {
  if (noChromium) return;
  try {
    buildPlayground(); // the library's dist/, which npm pack ships
    folder = mkdtempSync(join(tmpdir(), "sessionpulse-examples-"));
    const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", folder], { cwd: ROOT });
    const tarball = join(folder, stdout.trim().split("\n").pop()!);
    const [nextPort, vitePort] = [await freePort(), await freePort()];
    const nextUrl = `http://127.0.0.1:${nextPort}`;
    const viteUrl = `http://127.0.0.1:${vitePort}`;
    idp = await startOidcProvider({ redirectUris: [`${nextUrl}/api/auth/callback/oidc`, `${viteUrl}/api/auth/callback/oidc`] });
    const [next, vite] = await Promise.all([install("next-app-router", folder, tarball), install("vite-react-node", folder, tarball)]);
    // Each example's own build: `next build` (type check included) without AUTH_SECRET, as a CI build has none; `tsc --noEmit && vite build`.
    await run(process.execPath, ["node_modules/next/dist/bin/next", "build"], { cwd: next, timeout: 240_000, env: { ...process.env, NODE_ENV: "production" } });
    await run(process.execPath, ["node_modules/typescript/bin/tsc", "--noEmit"], { cwd: vite, timeout: 120_000 });
    await run(process.execPath, ["node_modules/vite/bin/vite.js", "build"], { cwd: vite, timeout: 120_000, env: { ...process.env, NODE_ENV: "production" } });
    const env = { AUTH_SECRET: SECRET, OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret };
    apps.push(
      start(
        "next-app-router",
        ["node_modules/next/dist/bin/next", "start", "-p", String(nextPort), "-H", "127.0.0.1"],
        next,
        { ...env, APP_URL: nextUrl },
        nextUrl,
      ),
      start("vite-react-node", ["server.ts"], vite, { ...env, APP_URL: viteUrl, PORT: String(vitePort) }, viteUrl),
    );
    await Promise.all(apps.map(ready));
    browser = await launchChromium();
  } catch (error) {
    setupError = error instanceof Error ? error : new Error(String(error));
  }
}, 600_000);

afterAll(async () => {
  await browser?.close();
  for (const app of apps) app.process.kill("SIGTERM");
  await idp?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

function example(name: string, body: (app: App, page: Page) => Promise<void>) {
  test(name, { timeout: 60_000 }, async (context: TestContext) => {
    if (noChromium) missing(noChromium, context);
    if (setupError) throw setupError;
    for (const app of apps) {
      const page = await browser!.newPage();
      try {
        await body(app, page);
      } catch (error) {
        throw new Error(`${app.name}: ${error instanceof Error ? error.message : String(error)}\n--- app output ---\n${app.output().slice(-3000)}`, {
          cause: error,
        });
      } finally {
        await page.context().clearCookies();
        await page.close();
      }
    }
  });
}

describe("the examples, installed from the packed tarball, built and started", () => {
  example("a password sign-in shows the user, survives a reload, and signs out", async (app, page) => {
    await page.goto(app.url);
    await page.getByLabel("Password").fill("correct horse");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => page.getByTestId("user").textContent({ timeout: 10_000 })).toBe("Ada Lovelace");
    await page.reload();
    await page.getByTestId("user").waitFor({ timeout: 10_000 });
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in", exact: true }).waitFor({ timeout: 10_000 });
  });

  example("a wrong password is refused with the error shown", async (app, page) => {
    await page.goto(app.url);
    await page.getByLabel("Password").fill("wrong");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    // (Next.js adds a route announcer with role="alert" of its own: found by its text instead.)
    await expect.poll(() => page.getByText(/Sign-in failed/).textContent({ timeout: 10_000 })).toContain("CredentialsSignin");
  });

  example("OpenID Connect: through the provider's login and consent pages and back, signed in as its user", async (app, page) => {
    await page.goto(app.url);
    await page.getByRole("button", { name: "Sign in with OpenID" }).click({ timeout: 10_000 });
    await page.waitForSelector('input[name="login"]', { timeout: 10_000 });
    await page.fill('input[name="login"]', "eve");
    await page.fill('input[name="password"]', "anything");
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click({ timeout: 10_000 }); // consent
    await page.waitForURL((url) => url.href.startsWith(app.url), { timeout: 10_000 });
    await expect.poll(() => page.getByTestId("user").textContent({ timeout: 10_000 })).toBe("Demo eve");
  });
});

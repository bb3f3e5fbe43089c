/**
 * The playground's server: the sessionpulse session server under /api/auth
 * (SQLite-backed, demo users), the built React app, and a few demo switches
 * under /demo (strategy, simulated outage, request counts for the tests).
 *
 * Run: `npm run playground` (builds the library and the app, then runs this
 * file on Node's type stripping). Environment:
 * - PORT (default 5173; 0 picks a free one), HOST (default 127.0.0.1)
 * - PLAYGROUND_DATA (default `.data/playground`): SQLite file and the generated secret
 * - PLAYGROUND_STRATEGY: "database" (default) or "jwt" at start-up
 * - AUTH_SECRET: use this secret instead of the generated one
 * - PLAYGROUND_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET: sign in with this OpenID provider instead of starting
 *   the demo one (several playground servers behind one proxy share a provider: the tests do this)
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { createSessionHandler, memoryStore, oidc, toNodeHandler, type Store, type User } from "sessionpulse/server";
import { startOidcProvider } from "./demo-oidc-provider.ts";
import { freshStats, type Stats } from "./stats.ts";

type Strategy = "jwt" | "database";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const APP_DIR = join(ROOT, "playground", "dist");
const DATA_DIR = resolve(ROOT, process.env.PLAYGROUND_DATA ?? ".data/playground");
const PORT = Number(process.env.PORT ?? 5173);
const HOST = process.env.HOST ?? "127.0.0.1";
const BASE_PATH = "/api/auth";

/** Short lifetimes so the page's countdown moves: 30 min idle, extended at most once a minute. */
const SESSION = { maxAge: 30 * 60, updateAge: 60 };

/** The demo accounts; the page shows them. */
const USERS = [
  { id: "u_ada", name: "Ada Lovelace", email: "ada@example.com", password: "lovelace", role: "admin" },
  { id: "u_grace", name: "Grace Hopper", email: "grace@example.com", password: "hopper", role: "member" },
];
const ACCENTS = ["indigo", "teal", "amber", "rose"];

// ---------------------------------------------------------------------------
// Secret and store

mkdirSync(DATA_DIR, { recursive: true });

/** AUTH_SECRET, or a random one kept in the data folder so sessions survive restarts. */
function loadSecret(): string {
  if (process.env.AUTH_SECRET) return process.env.AUTH_SECRET;
  const file = join(DATA_DIR, "secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** SQLite in the data folder; the in-memory store if the SQLite entry is not built. */
async function openStore(): Promise<{ store: Store; description: string }> {
  const path = join(DATA_DIR, "sessions.db");
  try {
    const { sqliteStore } = await import("sessionpulse/server/sqlite");
    return { store: sqliteStore({ path }), description: `SQLite at ${relative(process.cwd(), path) || path}` };
  } catch (error) {
    console.warn(`sessionpulse/server/sqlite is not available (${(error as Error).message}); sessions live in memory until the server stops`);
    return { store: memoryStore(), description: "in memory" };
  }
}

const secret = loadSecret();
const { store, description: storeDescription } = await openStore();

// ---------------------------------------------------------------------------
// The session server, rebuilt when the strategy changes

let strategy: Strategy = process.env.PLAYGROUND_STRATEGY === "jwt" ? "jwt" : "database";

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The OpenID provider, once known: the demo one runs once this server has its port (for its redirect URIs). */
let demoIdp: { issuer: string; clientId: string; clientSecret: string } | undefined = process.env.PLAYGROUND_OIDC_ISSUER
  ? {
      issuer: process.env.PLAYGROUND_OIDC_ISSUER,
      clientId: process.env.PLAYGROUND_OIDC_CLIENT_ID ?? "",
      clientSecret: process.env.PLAYGROUND_OIDC_CLIENT_SECRET ?? "",
    }
  : undefined;
/** The demo provider this process started (stopped with it). */
let ownIdp: Awaited<ReturnType<typeof startOidcProvider>> | undefined;

function buildAuth(current: Strategy) {
  return createSessionHandler({
    secret,
    basePath: BASE_PATH,
    // "Sign in with the demo OpenID provider": a real provider on loopback, any login name; the user is
    // the provider's subject (the default profile mapping), with the demo's "member" role.
    providers: demoIdp
      ? [
          oidc({
            id: "demo",
            name: "the demo OpenID provider",
            issuer: demoIdp.issuer,
            clientId: demoIdp.clientId,
            clientSecret: demoIdp.clientSecret,
            profile: (profile) => ({ id: `oidc-${String(profile.sub)}`, name: String(profile.name), email: String(profile.email), role: "member" }),
            // Its tokens stay with the session (sealed in the store, never sent to the page), refreshed ahead of expiry.
            keepTokens: true,
          }),
        ]
      : [],
    // `migrateFrom` converts a cookie of the other strategy on its next request: switching signs nobody out.
    session: { strategy: current, migrateFrom: current === "jwt" ? "database" : "jwt", ...SESSION },
    store,
    async authorize(credentials) {
      const email = typeof credentials.email === "string" ? credentials.email.trim().toLowerCase() : "";
      const user = USERS.find((candidate) => candidate.email === email);
      if (!user || !sameText(typeof credentials.password === "string" ? credentials.password : "", user.password)) return null;
      return { id: user.id, name: user.name, email: user.email, role: user.role } satisfies User;
    },
    callbacks: {
      jwt({ token, user, trigger, session }) {
        if (user) {
          token.role = user.role;
          token.accent = ACCENTS[0];
        }
        // `session` is what a tab sent with update(data): untrusted, so only known fields pass.
        if (trigger === "update" && isRecord(session)) {
          if (typeof session.accent === "string" && ACCENTS.includes(session.accent)) token.accent = session.accent;
          if (typeof session.note === "string") token.note = session.note.slice(0, 80);
        }
        return token;
      },
      session({ session, token }) {
        session.user.role = token.role;
        session.accent = token.accent;
        if (token.note !== undefined) session.note = token.note;
        session.strategy = current;
        return session;
      },
    },
    logger: { warn: () => {}, error: (code, details) => console.error(`[sessionpulse] ${code}`, details ?? "") },
  });
}

let sessions = buildAuth(strategy);
let auth = toNodeHandler(sessions.handler);

// ---------------------------------------------------------------------------
// Magic links: a sign-in this server's own code performs, with the session started by `auth.api.signIn`

const MAGIC_LINK_TTL = 10 * 60_000;
/** Unused links: token → user id and expiry. A link works once. */
const magicLinks = new Map<string, { userId: string; expires: number }>();

function sendMagicLink(email: unknown, origin: string): string | null {
  const user = USERS.find((candidate) => typeof email === "string" && candidate.email === email.trim().toLowerCase());
  if (!user) return null;
  for (const [token, link] of magicLinks) if (link.expires < Date.now()) magicLinks.delete(token);
  const token = randomBytes(32).toString("base64url");
  magicLinks.set(token, { userId: user.id, expires: Date.now() + MAGIC_LINK_TTL });
  const link = `${origin}/demo/magic-link/callback?token=${token}`;
  // A real app would e-mail it; the demo prints it here and shows it in the page.
  console.log(`magic link for ${user.email}: ${link}`);
  return link;
}

async function magicLinkCallback(request: IncomingMessage, response: ServerResponse, url: URL) {
  const token = url.searchParams.get("token") ?? "";
  const link = magicLinks.get(token);
  magicLinks.delete(token);
  const user = link && link.expires > Date.now() ? USERS.find((candidate) => candidate.id === link.userId) : undefined;
  if (!user) {
    response.writeHead(303, { location: "/?error=MagicLinkInvalid" });
    return response.end();
  }
  // The request as Fetch sees it (the cookies decide which session, if any, this sign-in replaces).
  const fetchRequest = new Request(url, { headers: { cookie: String(request.headers.cookie ?? "") } });
  const { cookies } = await sessions.api.signIn(fetchRequest, { id: user.id, name: user.name, email: user.email, role: user.role } satisfies User);
  response.writeHead(303, [["location", "/"], ...cookies.map((cookie): [string, string] => ["set-cookie", cookie])]);
  response.end();
}

/**
 * What server code sees of the session's provider token (`auth.api.getProviderToken`): when it expires,
 * and a short fingerprint to tell a renewed one from the last. The token itself never goes to the page.
 */
async function providerToken(request: IncomingMessage, response: ServerResponse) {
  const fetchRequest = new Request(requestUrl(request), { headers: { cookie: String(request.headers.cookie ?? "") } });
  try {
    const token = await sessions.api.getProviderToken(fetchRequest);
    if (!token) return sendJson(response, 200, null);
    const digest = Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token.accessToken))).toString("hex");
    return sendJson(response, 200, { provider: token.provider, expiresAt: token.expiresAt, fingerprint: digest.slice(0, 12) });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return sendJson(response, (error as { status?: number }).status ?? 500, { error: typeof code === "string" ? code : "internal_error" });
  }
}

// ---------------------------------------------------------------------------
// Demo switches and counters

/** Until when `/api/auth/session` answers 503 (ms since epoch); 0 = off, Infinity = until switched off. */
let failUntil = 0;
const failing = () => Date.now() < failUntil;

/** Requests under /api/auth since the last reset, by "METHOD /path", by status and by tab (the page's `x-playground-tab` header). */
let stats = freshStats();

function count(request: IncomingMessage, path: string, status: number) {
  const key = `${request.method} ${path}`;
  const tab = typeof request.headers["x-playground-tab"] === "string" ? request.headers["x-playground-tab"].slice(0, 32) : null;
  stats.counts[key] = (stats.counts[key] ?? 0) + 1;
  if (tab) (stats.byTab[tab] ??= {})[key] = (stats.byTab[tab][key] ?? 0) + 1;
  if (key === `GET ${BASE_PATH}/session`) {
    stats.sessionRequests.push({ at: Date.now(), tab, status });
    if (stats.sessionRequests.length > 10_000) stats.sessionRequests.shift();
  }
}

/** What `GET /demo/state` and the switches answer; the page takes its type from here. */
export type DemoState = ReturnType<typeof demoState>;

function demoState() {
  return {
    strategy,
    failing: failing(),
    failUntil: failing() && Number.isFinite(failUntil) ? failUntil : null,
    store: storeDescription,
    session: SESSION,
    users: USERS.map(({ name, email, password, role }) => ({ name, email, password, role })),
    accents: ACCENTS,
    /** Whether "Sign in with the demo OpenID provider" is available. */
    openId: demoIdp !== undefined,
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  response.statusCode = status;
  response.setHeader("content-type", "application/json");
  response.setHeader("cache-control", "no-store");
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  let text = "";
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 10_000) throw new Error("body too large");
  }
  const body = text ? (JSON.parse(text) as unknown) : {};
  if (!isRecord(body)) throw new Error("expected a JSON object");
  return body;
}

/**
 * The demo switches change server state, so they take JSON only (a cross-site
 * form cannot send it without a CORS preflight, which this server never grants).
 */
async function demo(request: IncomingMessage, response: ServerResponse, path: string) {
  if (request.method === "GET" && path === "/demo/state") return sendJson(response, 200, demoState());
  if (request.method === "GET" && path === "/demo/magic-link/callback") return magicLinkCallback(request, response, requestUrl(request));
  if (request.method === "GET" && path === "/demo/stats") return sendJson(response, 200, { ...stats, now: Date.now() } satisfies Stats);
  if (request.method === "GET" && path === "/demo/provider-token") return providerToken(request, response);
  if (request.method !== "POST") return sendJson(response, 405, { error: "method_not_allowed" });
  if (!String(request.headers["content-type"] ?? "").startsWith("application/json")) return sendJson(response, 415, { error: "json_required" });
  let body: Record<string, unknown>;
  try {
    body = await readJson(request);
  } catch (error) {
    return sendJson(response, 400, { error: "bad_json", message: (error as Error).message });
  }
  switch (path) {
    case "/demo/magic-link": {
      const link = sendMagicLink(body.email, requestUrl(request).origin);
      return link ? sendJson(response, 200, { link }) : sendJson(response, 404, { error: "no_such_user", message: "No demo account has that email." });
    }
    case "/demo/stats/reset":
      stats = freshStats();
      return sendJson(response, 200, { ok: true });
    case "/demo/fail": {
      // { on: true } until switched off, { on: true, seconds: 10 } for a while, { on: false } to stop.
      const seconds = typeof body.seconds === "number" && body.seconds > 0 ? body.seconds : undefined;
      failUntil = body.on === true ? (seconds ? Date.now() + seconds * 1000 : Infinity) : 0;
      console.log(failing() ? `outage on: GET/POST ${BASE_PATH}/session answer 503${seconds ? ` for ${seconds} s` : ""}` : "outage off");
      return sendJson(response, 200, demoState());
    }
    case "/demo/strategy": {
      if (body.strategy !== "jwt" && body.strategy !== "database") return sendJson(response, 400, { error: "strategy must be jwt or database" });
      if (body.strategy !== strategy) {
        strategy = body.strategy;
        sessions = buildAuth(strategy);
        auth = toNodeHandler(sessions.handler);
        console.log(`strategy: ${strategy} (cookies of the other strategy are converted on their next request)`);
      }
      return sendJson(response, 200, demoState());
    }
    default:
      return sendJson(response, 404, { error: "not_found" });
  }
}

// ---------------------------------------------------------------------------
// Static files: the built app

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
};

async function serveApp(request: IncomingMessage, response: ServerResponse, path: string) {
  if (request.method !== "GET" && request.method !== "HEAD") return sendJson(response, 405, { error: "method_not_allowed" });
  const file = resolve(APP_DIR, `.${path === "/" ? "/index.html" : decodeURIComponent(path)}`);
  // APP_DIR + sep: a sibling such as playground/dist-old must not pass.
  if (!file.startsWith(APP_DIR + sep)) return sendJson(response, 404, { error: "not_found" });
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch {
    if (extname(path) === "" && existsSync(join(APP_DIR, "index.html"))) return serveApp(request, response, "/");
    if (!existsSync(APP_DIR)) {
      response.statusCode = 503;
      response.setHeader("content-type", "text/plain; charset=utf-8");
      return response.end("The playground app is not built. Run `npm run playground`, which builds it and starts this server.\n");
    }
    return sendJson(response, 404, { error: "not_found" });
  }
  response.statusCode = 200;
  response.setHeader("content-type", TYPES[extname(file)] ?? "application/octet-stream");
  // Vite puts a content hash in every asset name; the page itself is always revalidated.
  response.setHeader("cache-control", path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
  response.end(request.method === "HEAD" ? undefined : content);
}

// ---------------------------------------------------------------------------

/** The URL the browser asked for, on this server's own address. */
function requestUrl(request: IncomingMessage): URL {
  const { port } = server.address() as { port: number };
  return new URL(request.url ?? "/", `http://${HOST.includes(":") ? `[${HOST}]` : HOST}:${port}`);
}

async function route(request: IncomingMessage, response: ServerResponse): Promise<unknown> {
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  try {
    if (path === BASE_PATH || path.startsWith(`${BASE_PATH}/`)) {
      response.on("finish", () => count(request, path, response.statusCode));
      if (path === `${BASE_PATH}/session` && failing()) {
        response.setHeader("retry-after", "5");
        return sendJson(response, 503, { error: "demo_outage", message: "simulated outage (playground switch)" });
      }
      return await auth(request, response);
    }
    if (path.startsWith("/demo/")) return await demo(request, response, path);
    return await serveApp(request, response, path);
  } catch (error) {
    console.error(error);
    if (!response.headersSent) sendJson(response, 500, { error: "internal_error" });
    else response.end();
  }
}

const server = createServer((request, response) => void route(request, response));

server.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EADDRINUSE") console.error(`Port ${PORT} is in use. Start on another one: PORT=${PORT + 1} npm run playground`);
  else console.error(error);
  process.exit(1);
});

server.listen(PORT, HOST, () => void started());

async function started() {
  const { port } = server.address() as { port: number };
  const url = `http://${HOST.includes(":") ? `[${HOST}]` : HOST}:${port}`;
  try {
    if (!demoIdp) {
      const origins = new Set([url, `http://localhost:${port}`, `http://127.0.0.1:${port}`]);
      demoIdp = ownIdp = await startOidcProvider({ redirectUris: [...origins].map((origin) => `${origin}${BASE_PATH}/callback/demo`) });
    }
    sessions = buildAuth(strategy);
    auth = toNodeHandler(sessions.handler);
  } catch (error) {
    console.warn(`the demo OpenID provider did not start (${(error as Error).message}); password and magic-link sign-in still work`);
  }
  console.log(`sessionpulse playground listening on ${url}`);
  console.log(`  strategy: ${strategy} (switch it in the page) · sessions: ${storeDescription}`);
  console.log(`  demo users: ${USERS.map((user) => `${user.email} / ${user.password}`).join(", ")}`);
  if (ownIdp) console.log(`  demo OpenID provider: ${ownIdp.issuer} (its login page takes any name)`);
  else if (demoIdp) console.log(`  OpenID provider: ${demoIdp.issuer}`);
  if (!existsSync(APP_DIR)) console.log("  the app is not built: run `npm run playground` instead of this file alone");
}

function shutdown() {
  server.close();
  server.closeAllConnections();
  void store.close().finally(() => process.exit(0));
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

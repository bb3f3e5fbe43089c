import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { toNodeHandler } from "../../../src/server/index.ts";
import { CookieJar, createTestHandler } from "../helpers.ts";
import { callNodeAdapter } from "../node-fakes.ts";

const NAME = "authjs.session-token";
let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Serves `handler` through the adapter on an ephemeral port of the loopback interface. Passing the adapter straight to `createServer` is also a type test (tsc). */
async function listen(handler: (request: Request) => Promise<Response>): Promise<string> {
  // The adapter's promise never rejects (it answers 400/500 itself), so handing it to node:http as is is safe.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  server = createServer(toNodeHandler(handler));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Header lines exactly as received, so joined `Set-Cookie` values would show. */
  rawSetCookie: string[];
  body: string;
}

/** A request through `node:http` itself, with control over framing (`chunks` are sent with chunked encoding). */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; chunks?: string[] } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("end", () => {
        const rawSetCookie: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() === "set-cookie") rawSetCookie.push(res.rawHeaders[i + 1]!);
        resolve({ status: res.statusCode!, headers: res.headers, rawSetCookie, body: Buffer.concat(parts).toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (options.chunks) for (const chunk of options.chunks) req.write(chunk);
    req.end(options.body);
  });
}

/** Applies raw `Set-Cookie` lines to a jar, as a browser would. */
function remember(jar: CookieJar, lines: string[]): void {
  const headers = new Headers();
  for (const line of lines) headers.append("set-cookie", line);
  jar.apply(new Response(null, { headers }));
}

async function csrf(base: string, jar: CookieJar): Promise<string> {
  const response = await send(`${base}/api/auth/csrf`, { headers: { cookie: jar.header() } });
  expect(response.status).toBe(200);
  remember(jar, response.rawSetCookie);
  return (JSON.parse(response.body) as { csrfToken: string }).csrfToken;
}

describe("toNodeHandler over a real node:http server", () => {
  it("serves csrf, a form sign-in and the session", async () => {
    const { auth } = createTestHandler({ clock: Date.now });
    const base = await listen(auth.handler);
    const jar = new CookieJar();

    const csrfToken = await csrf(base, jar);
    expect(csrfToken).toMatch(/^[\w-]{43}$/);
    expect(jar.cookies.has("authjs.csrf-token")).toBe(true);

    const form = new URLSearchParams({ email: "ada@example.com", password: "correct horse", csrfToken, callbackUrl: "/dashboard" }).toString();
    const signIn = await send(`${base}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(form.length), cookie: jar.header(), origin: base },
      body: form,
    });
    expect(signIn.status).toBe(302);
    expect(signIn.headers.location).toBe(`${base}/dashboard`);
    expect(signIn.rawSetCookie).toEqual([expect.stringMatching(new RegExp(`^${NAME.replace(/\./g, "\\.")}=[\\w-]+\\.\\.`))]);
    remember(jar, signIn.rawSetCookie);

    const session = await send(`${base}/api/auth/session`, { headers: { cookie: jar.header() } });
    expect(session.status).toBe(200);
    expect(session.headers["content-type"]).toBe("application/json");
    expect(session.headers["cache-control"]).toBe("private, no-store");
    expect(JSON.parse(session.body)).toMatchObject({ user: { id: "user-1", name: "Ada Lovelace", email: "ada@example.com" } });
  });

  it("keeps several Set-Cookie headers separate", async () => {
    const blob = "b".repeat(10_240);
    const { auth } = createTestHandler({
      clock: Date.now,
      cookies: { maxSize: 16_384 },
      callbacks: {
        jwt: ({ token, trigger }) => (trigger === "signIn" ? { ...token, blob } : token),
        session: ({ session, token }) => ({ ...session, blob: token.blob }),
      },
    });
    const base = await listen(auth.handler);
    const jar = new CookieJar();
    const csrfToken = await csrf(base, jar);
    const body = JSON.stringify({ password: "correct horse", csrfToken });
    const signIn = await send(`${base}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-return-redirect": "1", cookie: jar.header() },
      body,
    });
    expect(signIn.status).toBe(200);
    expect(signIn.rawSetCookie.length).toBeGreaterThanOrEqual(3);
    signIn.rawSetCookie.forEach((line, index) => {
      expect(line.startsWith(`${NAME}.${index}=`)).toBe(true);
      // One cookie per header line: no other cookie's name folded into it.
      expect(line.match(/authjs\.session-token\.\d=/g)).toHaveLength(1);
    });
    remember(jar, signIn.rawSetCookie);
    const session = await send(`${base}/api/auth/session`, { headers: { cookie: jar.header() } });
    expect(JSON.parse(session.body)).toMatchObject({ blob });
  });

  it("answers 413 to a body over 64 KB sent with chunked encoding, rather than reading a truncated body", async () => {
    const seen: unknown[] = [];
    const { auth } = createTestHandler({ authorize: (credentials) => (seen.push(credentials), null) });
    const base = await listen(auth.handler);
    const jar = new CookieJar();
    const csrfToken = await csrf(base, jar);
    // A form that stays well-formed if cut at exactly 64 KB: every field the handler needs comes first.
    const head = `csrfToken=${csrfToken}&password=x&padding=`;
    const form = head + "p".repeat(65_536 - head.length) + "&more=" + "q".repeat(16_384);
    const chunks = form.match(/[\s\S]{1,16384}/g)!;
    const response = await send(`${base}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "transfer-encoding": "chunked", cookie: jar.header() },
      chunks,
    });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ error: "body_too_large" });
    expect(seen).toEqual([]);
  });

  it("answers 413 to a declared Content-Length over 64 KB", async () => {
    const { auth } = createTestHandler();
    const base = await listen(auth.handler);
    const body = JSON.stringify({ padding: "p".repeat(70_000) });
    const response = await send(`${base}/api/auth/session`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(body.length) },
      body,
    });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ error: "body_too_large" });
  });

  it("answers 200 null to a malformed Cookie header instead of failing the request", async () => {
    const { auth } = createTestHandler();
    const base = await listen(auth.handler);
    const response = await send(`${base}/api/auth/session`, { headers: { cookie: `;;;=; ${NAME}=%E0%A4%A; \u00e9=\u00ff` } });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toBeNull();
  });

  it("keeps a request target like //evil.example/… a path on our host, never another origin", async () => {
    const { auth } = createTestHandler();
    const base = await listen(auth.handler);
    const { hostname, port } = new URL(base);
    const response = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: hostname, port, path: "//evil.example/api/auth/csrf" }, (res) => (res.resume(), resolve(res.statusCode!)));
      req.on("error", reject);
      req.end();
    });
    expect(response).toBe(404);
  });
});

describe("toNodeHandler accepts only host[:port] in Host", () => {
  /** The handler as a spy: what URL did the adapter build? */
  function spyHandler() {
    const seen: string[] = [];
    const handler = async (request: Request) => {
      seen.push(request.url);
      return new Response("{}", { headers: { "content-type": "application/json" } });
    };
    return { seen, handler };
  }

  const call = (handler: (request: Request) => Promise<Response>, host: string | undefined) =>
    callNodeAdapter(handler, { url: "/public/health", headers: host === undefined ? {} : { host } });

  it.each([
    "localhost:3000/api/auth/session?",
    "localhost:3000#",
    "localhost:3000?x=1",
    "user@localhost:3000",
    "localhost:3000\\api",
    "localhost:99999999",
    "localhost:",
    "[::1",
    "a b",
    "",
  ])("answers 400 to Host %j without calling the handler", async (host) => {
    const { seen, handler } = spyHandler();
    const written = await call(handler, host);
    expect(written.status).toBe(400);
    expect(seen).toEqual([]);
  });

  it.each([
    ["localhost:3000", "http://localhost:3000/public/health"],
    ["app.example.com", "http://app.example.com/public/health"],
    ["[::1]:8080", "http://[::1]:8080/public/health"],
    ["127.0.0.1", "http://127.0.0.1/public/health"],
    ["EXAMPLE.com:443", "http://example.com:443/public/health"],
  ])("serves Host %j at %s", async (host, url) => {
    const { seen, handler } = spyHandler();
    const written = await call(handler, host);
    expect(written.status).toBe(200);
    expect(seen).toEqual([url]);
  });

  it("a real node:http request with a path-shaped Host is refused, not served as the session endpoint", async () => {
    const { auth } = createTestHandler();
    const base = await listen(auth.handler);
    const { hostname, port } = new URL(base);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: hostname, port, path: "/public/health", headers: { host: "localhost:3000/api/auth/session?" } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(400);
  });
});

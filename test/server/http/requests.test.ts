import { describe, expect, it } from "vitest";
import { BASE, ORIGIN, createTestHandler, get, signIn, type CookieJar } from "../helpers.ts";

const NAME = "authjs.session-token";
const CSRF = "authjs.csrf-token";
const ENDPOINTS = ["/session", "/signout", "/callback/credentials"] as const;
type Endpoint = (typeof ENDPOINTS)[number];

interface Browser {
  jar: CookieJar;
  csrfToken: string;
}

/** The fields a genuine request to `endpoint` sends, so the case under test is the only thing wrong. */
function validFields(endpoint: Endpoint, csrfToken: string | undefined): Record<string, unknown> {
  const csrf = csrfToken === undefined ? {} : { csrfToken };
  if (endpoint === "/session") return { ...csrf, data: { theme: "dark" } };
  if (endpoint === "/signout") return { ...csrf, callbackUrl: "/bye" };
  return { ...csrf, email: "ada@example.com", password: "correct horse" };
}

function post(endpoint: Endpoint, body: BodyInit | null, headers: Record<string, string>, init: RequestInit = {}) {
  return new Request(`${BASE}${endpoint}`, { method: "POST", headers: { "x-auth-return-redirect": "1", ...headers }, body, ...init });
}

function jsonPost(endpoint: Endpoint, browser: Browser, fields: unknown, headers: Record<string, string> = {}) {
  return post(endpoint, JSON.stringify(fields), { "content-type": "application/json", origin: ORIGIN, cookie: browser.jar.header(), ...headers });
}

/** A body larger than the 64 KB cap, still valid JSON, as one string. */
function oversizedJson(endpoint: Endpoint, csrfToken: string): string {
  return JSON.stringify({ ...validFields(endpoint, csrfToken), padding: "p".repeat(70 * 1024) });
}

/** A request body delivered as a stream, so no Content-Length is known up front. */
function streamOf(text: string, chunkSize = 8192): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

/** Signs in, and gives a second, unrelated CSRF pair from the same server for mismatch cases. */
async function setUp(overrides: Parameters<typeof createTestHandler>[0] = {}) {
  const test = createTestHandler(overrides);
  const browser: Browser = await signIn(test.auth.handler);
  const other = await test.auth.handler(get("/csrf"));
  const otherToken = ((await other.json()) as { csrfToken: string }).csrfToken;
  return { ...test, browser, otherToken };
}

type Case = {
  name: string;
  status: number;
  error: string;
  request: (endpoint: Endpoint, browser: Browser, extra: { otherToken: string; foreignToken: string; foreignCookie: string }) => Request;
};

const cases: Case[] = [
  { name: "no CSRF token", status: 403, error: "csrf_invalid", request: (e, b) => jsonPost(e, b, validFields(e, undefined)) },
  {
    name: "a CSRF token of the wrong type",
    status: 403,
    error: "csrf_invalid",
    request: (e, b) => jsonPost(e, b, { ...validFields(e, undefined), csrfToken: [b.csrfToken] }),
  },
  {
    name: "a CSRF token from another cookie of the same server",
    status: 403,
    error: "csrf_invalid",
    request: (e, b, x) => jsonPost(e, b, validFields(e, x.otherToken)),
  },
  {
    name: "a genuine CSRF pair from a server with another secret",
    status: 403,
    error: "csrf_invalid",
    request: (e, b, x) => jsonPost(e, b, validFields(e, x.foreignToken), { cookie: `${NAME}=${b.jar.cookies.get(NAME)}; ${CSRF}=${x.foreignCookie}` }),
  },
  {
    name: "a CSRF cookie forged without the secret",
    status: 403,
    error: "csrf_invalid",
    request: (e, b) => {
      const token = "A".repeat(43);
      return jsonPost(e, b, validFields(e, token), { cookie: `${NAME}=${b.jar.cookies.get(NAME)}; ${CSRF}=${token}.${"B".repeat(43)}` });
    },
  },
  {
    name: "no CSRF cookie at all",
    status: 403,
    error: "csrf_invalid",
    request: (e, b) => jsonPost(e, b, validFields(e, b.csrfToken), { cookie: `${NAME}=${b.jar.cookies.get(NAME)}` }),
  },
  {
    name: "content-type text/plain (a cross-site form needs no preflight for it)",
    status: 415,
    error: "unsupported_media_type",
    request: (e, b) => post(e, JSON.stringify(validFields(e, b.csrfToken)), { "content-type": "text/plain", origin: ORIGIN, cookie: b.jar.header() }),
  },
  {
    name: "no content-type",
    status: 415,
    error: "unsupported_media_type",
    request: (e, b) => post(e, new Blob([JSON.stringify(validFields(e, b.csrfToken))]), { origin: ORIGIN, cookie: b.jar.header() }),
  },
  {
    name: "a multipart body",
    status: 415,
    error: "unsupported_media_type",
    request: (e, b) => {
      const form = new FormData();
      for (const [key, value] of Object.entries(validFields(e, b.csrfToken))) form.append(key, typeof value === "string" ? value : JSON.stringify(value));
      return post(e, form, { origin: ORIGIN, cookie: b.jar.header() });
    },
  },
  {
    name: "malformed JSON",
    status: 400,
    error: "body_malformed",
    request: (e, b) => post(e, `{"csrfToken":"${b.csrfToken}",`, { "content-type": "application/json", origin: ORIGIN, cookie: b.jar.header() }),
  },
  { name: "a JSON array body", status: 400, error: "body_malformed", request: (e, b) => jsonPost(e, b, [validFields(e, b.csrfToken)]) },
  { name: "a JSON null body", status: 400, error: "body_malformed", request: (e, b) => jsonPost(e, b, null) },
  { name: "a JSON string body", status: 400, error: "body_malformed", request: (e, b) => jsonPost(e, b, "csrfToken") },
  {
    name: "a body that is not UTF-8",
    status: 400,
    error: "body_malformed",
    request: (e, b) => post(e, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), { "content-type": "application/json", origin: ORIGIN, cookie: b.jar.header() }),
  },
  {
    name: "a body over 64 KB with its Content-Length",
    status: 413,
    error: "body_too_large",
    request: (e, b) => {
      const body = oversizedJson(e, b.csrfToken);
      return post(e, body, { "content-type": "application/json", "content-length": String(body.length), origin: ORIGIN, cookie: b.jar.header() });
    },
  },
  {
    name: "a body over 64 KB streamed without Content-Length",
    status: 413,
    error: "body_too_large",
    request: (e, b) =>
      post(e, streamOf(oversizedJson(e, b.csrfToken)), { "content-type": "application/json", origin: ORIGIN, cookie: b.jar.header() }, {
        duplex: "half",
      } as RequestInit),
  },
  {
    name: "a body over 64 KB under a Content-Length that lies",
    status: 413,
    error: "body_too_large",
    request: (e, b) =>
      post(e, streamOf(oversizedJson(e, b.csrfToken)), { "content-type": "application/json", "content-length": "20", origin: ORIGIN, cookie: b.jar.header() }, {
        duplex: "half",
      } as RequestInit),
  },
  {
    name: "a form body over 64 KB",
    status: 413,
    error: "body_too_large",
    request: (e, b) => post(e, new URLSearchParams({ csrfToken: b.csrfToken, padding: "p".repeat(70 * 1024) }), { origin: ORIGIN, cookie: b.jar.header() }),
  },
  {
    name: "a foreign Origin",
    status: 403,
    error: "origin_forbidden",
    request: (e, b) => jsonPost(e, b, validFields(e, b.csrfToken), { origin: "https://evil.example" }),
  },
  {
    name: "an Origin on another port",
    status: 403,
    error: "origin_forbidden",
    request: (e, b) => jsonPost(e, b, validFields(e, b.csrfToken), { origin: "http://localhost:3001" }),
  },
  {
    name: "Origin: null (sandboxed frame, data: URL)",
    status: 403,
    error: "origin_forbidden",
    request: (e, b) => jsonPost(e, b, validFields(e, b.csrfToken), { origin: "null" }),
  },
  {
    name: "Sec-Fetch-Site: cross-site without Origin",
    status: 403,
    error: "origin_forbidden",
    request: (e, b) =>
      post(e, JSON.stringify(validFields(e, b.csrfToken)), { "content-type": "application/json", "sec-fetch-site": "cross-site", cookie: b.jar.header() }),
  },
  {
    name: "a foreign Origin with a spoofed X-Forwarded-Host that names it",
    status: 403,
    error: "origin_forbidden",
    request: (e, b) =>
      jsonPost(e, b, validFields(e, b.csrfToken), {
        origin: "https://evil.example",
        "x-forwarded-host": "evil.example",
        "x-forwarded-proto": "https",
        forwarded: "host=evil.example;proto=https",
      }),
  },
];

describe.each(ENDPOINTS)("POST %s", (endpoint) => {
  it("succeeds with the genuine request the cases below alter (control)", async () => {
    const { auth, browser } = await setUp();
    const response = await auth.handler(jsonPost(endpoint, browser, validFields(endpoint, browser.csrfToken)));
    expect(response.status).toBe(200);
  });

  it.each(cases)("refuses $name with $status $error, changing no cookie", async ({ status, error, request }) => {
    const { auth, browser, otherToken, log } = await setUp();
    const foreign = createTestHandler({ secret: "a-completely-different-secret-0123456789abcdef" });
    const foreignCsrf = await foreign.auth.handler(get("/csrf"));
    const foreignToken = ((await foreignCsrf.json()) as { csrfToken: string }).csrfToken;
    const foreignCookie = foreignCsrf.headers.getSetCookie()[0]!.split(";")[0]!.split("=")[1]!;

    const response = await auth.handler(request(endpoint, browser, { otherToken, foreignToken, foreignCookie }));
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ error, message: expect.any(String) });
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(log.entries.filter((entry) => entry.level === "error")).toEqual([]);
    // The session survives the refused request.
    expect(await (await auth.handler(get("/session", browser.jar))).json()).toMatchObject({ user: { id: "user-1" } });
  });
});

describe("origin checks", () => {
  it("accepts an Origin listed in trustedOrigins", async () => {
    const { auth, browser } = await setUp({ trustedOrigins: ["https://admin.example.com"] });
    const response = await auth.handler(jsonPost("/session", browser, validFields("/session", browser.csrfToken), { origin: "https://admin.example.com" }));
    expect(response.status).toBe(200);
    const refused = await auth.handler(jsonPost("/session", browser, validFields("/session", browser.csrfToken), { origin: "https://other.example.com" }));
    expect(refused.status).toBe(403);
  });

  it("ignores X-Forwarded-Host: our own Origin still passes and redirects stay on our origin", async () => {
    const { auth, browser } = await setUp();
    const response = await auth.handler(
      jsonPost(
        "/signout",
        browser,
        { csrfToken: browser.csrfToken, callbackUrl: "https://evil.example/landing" },
        { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" },
      ),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ url: `${ORIGIN}/` });
  });

  it("checks against the configured url, not the Host or X-Forwarded-Host of the request", async () => {
    const { auth } = createTestHandler({ url: "https://app.example.com" });
    const internal = "http://10.0.0.7:3000/api/auth";
    const csrf = await auth.handler(new Request(`${internal}/csrf`));
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const cookie = csrf.headers.getSetCookie()[0]!.split(";")[0]!;
    const attempt = (origin: string) =>
      auth.handler(
        new Request(`${internal}/signout`, {
          method: "POST",
          headers: { "content-type": "application/json", origin, cookie, "x-forwarded-host": "evil.example", "x-auth-return-redirect": "1" },
          body: JSON.stringify({ csrfToken }),
        }),
      );
    expect((await attempt("https://evil.example")).status).toBe(403);
    expect((await attempt("http://10.0.0.7:3000")).status).toBe(403);
    const accepted = await attempt("https://app.example.com");
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ url: "https://app.example.com/" });
  });
});

describe("redirect targets", () => {
  it("keeps tricky callbackUrls on our origin", async () => {
    const { auth, browser } = await setUp();
    const targets = [
      "/\\evil.example",
      "\\\\evil.example",
      "https:evil.example",
      " //evil.example",
      "\t//evil.example",
      "http://localhost:3000@evil.example",
      "//localhost:3000@evil.example",
      "http://evil.example\\@localhost:3000",
      "data:text/html,x",
      "javascript://localhost:3000/%0aalert(1)",
    ];
    for (const callbackUrl of targets) {
      const response = await auth.handler(jsonPost("/signout", browser, { csrfToken: browser.csrfToken, callbackUrl }));
      const { url } = (await response.json()) as { url: string };
      expect(new URL(url).origin, callbackUrl).toBe(ORIGIN);
    }
  });
});

describe("prototype pollution", () => {
  it("drops __proto__ from a JSON body: no global pollution, and the callbacks see plain objects", async () => {
    const seen: unknown[] = [];
    const { auth, browser } = await setUp({
      callbacks: {
        jwt: ({ token, trigger, session }) => {
          if (trigger === "update") seen.push(session);
          return token;
        },
      },
    });
    const body = `{"csrfToken":"${browser.csrfToken}","__proto__":{"polluted":"yes"},"data":{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"polluted":"yes"}},"theme":"dark"}}`;
    const response = await auth.handler(post("/session", body, { "content-type": "application/json", origin: ORIGIN, cookie: browser.jar.header() }));
    expect(response.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(seen).toHaveLength(1);
    const data = seen[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(data.isAdmin).toBeUndefined();
    expect(Object.keys(data)).toEqual(["theme"]);
  });

  it("hands authorize the fields as strings: JSON numbers and booleans as text, objects and arrays dropped, protocol fields out", async () => {
    const seen: Array<Record<string, unknown>> = [];
    const { auth, browser } = await setUp({
      authorize: (credentials) => {
        seen.push({ ...credentials });
        return null;
      },
    });
    seen.length = 0;
    const json = JSON.stringify({
      csrfToken: browser.csrfToken,
      email: "ada@example.com",
      otp: 123456,
      remember: true,
      nested: { a: 1 },
      list: [1],
      none: null,
    });
    await auth.handler(post("/callback/credentials", json, { "content-type": "application/json", origin: ORIGIN, cookie: browser.jar.header() }));
    expect(seen).toEqual([{ email: "ada@example.com", otp: "123456", remember: "true" }]);
  });

  it("does not let a password smuggled through __proto__ reach authorize", async () => {
    const seen: Array<Record<string, unknown>> = [];
    const { auth, browser } = await setUp({
      authorize: (credentials) => {
        seen.push(credentials);
        return credentials.password === "correct horse" ? { id: "user-1" } : null;
      },
    });
    seen.length = 0;
    const json = `{"csrfToken":"${browser.csrfToken}","__proto__":{"password":"correct horse"}}`;
    const viaJson = await auth.handler(
      post("/callback/credentials", json, { "content-type": "application/json", origin: ORIGIN, cookie: browser.jar.header() }),
    );
    expect(await viaJson.json()).toEqual({ url: `${BASE}/signin?error=CredentialsSignin&code=credentials` });
    const form = `csrfToken=${browser.csrfToken}&__proto__[password]=correct+horse&__proto__=x&constructor=y`;
    const viaForm = await auth.handler(
      post("/callback/credentials", form, { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, cookie: browser.jar.header() }),
    );
    expect(await viaForm.json()).toEqual({ url: `${BASE}/signin?error=CredentialsSignin&code=credentials` });
    expect(seen.map((credentials) => credentials.password)).toEqual([undefined, undefined]);
    expect(viaJson.headers.getSetCookie()).toEqual([]);
    expect(viaForm.headers.getSetCookie()).toEqual([]);
  });
});

describe("methods", () => {
  for (const [method, path] of [
    ["GET", "/signout"],
    ["GET", "/callback/credentials"],
    ["PUT", "/session"],
    ["DELETE", "/session"],
    ["POST", "/csrf"],
    ["POST", "/providers"],
  ] as const) {
    it(`answers 405 method_not_allowed to ${method} ${path}, changing no cookie`, async () => {
      const { auth, browser } = await setUp();
      const response = await auth.handler(new Request(`${BASE}${path}`, { method, headers: { cookie: browser.jar.header(), origin: ORIGIN } }));
      expect(response.status).toBe(405);
      expect(await response.json()).toMatchObject({ error: "method_not_allowed" });
      expect(response.headers.get("allow")).toBeTruthy();
      expect(response.headers.getSetCookie()).toEqual([]);
    });
  }

  it("does not sign out on a GET to /signout (no state change from a link or image)", async () => {
    const { auth, browser } = await setUp();
    await auth.handler(get("/signout", browser.jar));
    expect(await (await auth.handler(get("/session", browser.jar))).json()).toMatchObject({ user: { id: "user-1" } });
  });
});

import { describe, expect, it } from "vitest";
import type { SessionHandlerConfig } from "../../../src/server/types.ts";
import { CookieJar, createTestHandler, get, postJson, setCookies, signIn } from "../helpers.ts";

const NAME = "authjs.session-token";
const CSRF = "authjs.csrf-token";
const encoder = new TextEncoder();

/** Incompressible, cookie-safe filler: base64url of random bytes, `length` characters. */
function filler(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil((length * 3) / 4)));
  return Buffer.from(bytes).toString("base64url").slice(0, length);
}

/** Callbacks that put `blob` into the token at sign-in (or on update when asked) and surface it in the session. */
function blobCallbacks(atSignIn: string | undefined): SessionHandlerConfig["callbacks"] {
  return {
    jwt: ({ token, trigger, session }) => {
      if (trigger === "signIn" && atSignIn !== undefined) token.blob = atSignIn;
      if (trigger === "update" && typeof session === "object" && session !== null && "blob" in session) {
        if (typeof session.blob === "string") token.blob = session.blob;
        else delete token.blob;
      }
      return token;
    },
    session: ({ session, token }) => ({ ...session, blob: token.blob }),
  };
}

/** A signed-in handler and its genuine, unchunked session token. */
async function signedIn(config: Partial<SessionHandlerConfig> = {}) {
  const test = createTestHandler(config);
  const { jar, csrfToken } = await signIn(test.auth.handler);
  test.log.entries.length = 0;
  return { ...test, jar, csrfToken, token: jar.cookies.get(NAME)! };
}

async function withCookie(handler: (request: Request) => Promise<Response>, cookie: string) {
  const response = await handler(get("/session", undefined, { cookie }));
  expect(response.status).toBe(200);
  return { response, body: await response.json(), cleared: [...setCookies(response)].filter(([, value]) => value === "").map(([name]) => name) };
}

describe("duplicated session cookies (cookie tossing)", () => {
  it("answers null for the same name sent twice, in either order, and clears neither copy", async () => {
    const { auth, log, token } = await signedIn();
    for (const header of [`${NAME}=${token}; ${NAME}=forged`, `${NAME}=forged; ${NAME}=${token}`, `${NAME}=${token}; ${NAME}=${token}`]) {
      const { response, body } = await withCookie(auth.handler, header);
      expect(body).toBeNull();
      // Clearing could remove the user's own copy while the tossed one (another Domain/Path) survives.
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    expect(log.entries.map((entry) => entry.code)).toEqual(["cookie_duplicated", "cookie_duplicated", "cookie_duplicated"]);
  });

  it("treats a duplicated chunk the same way", async () => {
    const { auth, token } = await signedIn();
    const { response, body } = await withCookie(
      auth.handler,
      `${NAME}.0=${token.slice(0, 100)}; ${NAME}.1=${token.slice(100)}; ${NAME}.0=${token.slice(0, 100)}`,
    );
    expect(body).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe("chunk names", () => {
  for (const index of ["99", "01", "-1", "x", "1000", "", "1e2", "0x1"]) {
    it(`ignores a stray ${NAME}.${index} beside a valid cookie: not a name this server writes, neither read nor cleared`, async () => {
      const { auth, log, token } = await signedIn();
      const { response, body } = await withCookie(auth.handler, `${NAME}=${token}; ${NAME}.${index}=junk`);
      expect(body).toMatchObject({ user: { id: "user-1" } });
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(log.entries).toEqual([]);
    });
  }

  it("ignores a stray piece on its own: no session, and no Set-Cookie for a name this server never writes", async () => {
    const { auth } = createTestHandler();
    const { response, body } = await withCookie(auth.handler, `${NAME}.99=junk`);
    expect(body).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("ignores cookies that only share the prefix (no dot)", async () => {
    const { auth, token } = await signedIn();
    const { response, body } = await withCookie(auth.handler, `${NAME}X=junk; ${NAME}-1=junk; ${NAME}=${token}`);
    expect(body).toMatchObject({ user: { id: "user-1" } });
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("refuses a gap in the chunk indexes and clears every piece", async () => {
    const { auth, log, token } = await signedIn();
    const { body, cleared } = await withCookie(auth.handler, `${NAME}.0=${token.slice(0, 200)}; ${NAME}.2=${token.slice(200)}`);
    expect(body).toBeNull();
    expect(cleared.sort()).toEqual([`${NAME}.0`, `${NAME}.2`]);
    expect(log.entries.map((entry) => entry.code)).toEqual(["cookie_chunks_invalid"]);
  });

  it("refuses an unchunked cookie mixed with chunks as tossing: no session, nothing cleared (one of them may be the user's own)", async () => {
    const { auth, log, token } = await signedIn();
    const { response, body } = await withCookie(auth.handler, `${NAME}.0=${token.slice(0, 200)}; ${NAME}.1=${token.slice(200)}; ${NAME}=${token}`);
    expect(body).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(log.entries.map((entry) => entry.code)).toEqual(["cookie_duplicated"]);
  });

  it("reassembles chunks by index whatever order they arrive in", async () => {
    const { auth, token } = await signedIn();
    const pieces = [token.slice(0, 150), token.slice(150, 300), token.slice(300)];
    const { response, body } = await withCookie(auth.handler, `${NAME}.2=${pieces[2]}; ${NAME}.0=${pieces[0]}; ${NAME}.1=${pieces[1]}`);
    expect(body).toMatchObject({ user: { id: "user-1" } });
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("reads no more chunks than the size budget allows, even when more join into a valid token, and clears only those", async () => {
    const { auth, log, token } = await signedIn();
    // The default 12288-byte budget is at most 4 chunks of 3936: a fifth is not a name this server writes.
    const size = Math.ceil(token.length / 5);
    const header = Array.from({ length: 5 }, (_, i) => `${NAME}.${i}=${token.slice(i * size, (i + 1) * size)}`).join("; ");
    const { body, cleared } = await withCookie(auth.handler, header);
    expect(body).toBeNull();
    expect(cleared.sort()).toEqual([0, 1, 2, 3].map((i) => `${NAME}.${i}`));
    expect(log.entries.map((entry) => entry.code)).toEqual(["token_malformed"]);
  });
});

describe("malformed Cookie headers", () => {
  const headers: Record<string, string> = {
    "only separators": ";;;=;",
    "a pair without =": `${NAME}`,
    "percent-encoding that does not decode": `${NAME}=%E0%A4%A`,
    "control characters": `${NAME}=a\u0001b\u001b[31m\u007f; x=\u0002`,
    "non-ASCII (latin-1) bytes": `${NAME}=caf\u00e9; \u00e9=\u00ff`,
    "quotes only": `${NAME}="`,
    "an 8 KB name": `${"n".repeat(8192)}=1; ${NAME}=x`,
    "a 40 KB header": `big=${"b".repeat(40 * 1024)}; ${NAME}=x`,
    "Bearer-style junk": "Bearer %",
  };
  for (const [label, header] of Object.entries(headers)) {
    it(`answers 200 null, never throwing, for ${label}`, async () => {
      const { auth, log } = createTestHandler();
      const { body, response } = await withCookie(auth.handler, header);
      expect(body).toBeNull();
      expect(await auth.getSession(new Request("http://localhost:3000/", { headers: { cookie: header } }))).toBeNull();
      for (const line of response.headers.getSetCookie()) expect(line).toMatch(/Max-Age=0/);
      expect(log.entries.every((entry) => entry.level === "warn")).toBe(true);
    });
  }
});

describe("chunking round trip", () => {
  it("splits a 10 KB session into chunks of at most 4096 bytes per Set-Cookie line and reads it back", async () => {
    const blob = filler(10_240);
    const { auth } = createTestHandler({ cookies: { maxSize: 16_384 }, callbacks: blobCallbacks(blob) });
    const { jar, response } = await signIn(auth.handler);
    const lines = response.headers.getSetCookie();
    expect(lines.length).toBeGreaterThanOrEqual(3);
    lines.forEach((line, index) => {
      expect(line.startsWith(`${NAME}.${index}=`)).toBe(true);
      expect(encoder.encode(line).byteLength).toBeLessThanOrEqual(4096);
    });
    expect([...jar.cookies.keys()].filter((name) => name.startsWith(NAME))).toEqual(lines.map((_, index) => `${NAME}.${index}`));
    expect(await (await auth.handler(get("/session", jar))).json()).toMatchObject({ user: { id: "user-1" }, blob });
  });

  it("keeps Set-Cookie lines within 4096 bytes over https with a Domain", async () => {
    const blob = filler(10_240);
    const { auth } = createTestHandler({ cookies: { maxSize: 16_384, domain: "example.com" }, callbacks: blobCallbacks(blob) });
    const https = "https://app.example.com/api/auth";
    const csrf = await auth.handler(new Request(`${https}/csrf`));
    const jar = new CookieJar();
    jar.apply(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const response = await auth.handler(
      new Request(`${https}/callback/credentials`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: jar.header(), origin: "https://app.example.com", "x-auth-return-redirect": "1" },
        body: JSON.stringify({ password: "correct horse", csrfToken }),
      }),
    );
    const lines = response.headers.getSetCookie();
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      expect(line).toMatch(/^__Secure-authjs\.session-token\.\d=.*; Secure; Domain=example\.com; Expires=/);
      expect(encoder.encode(line).byteLength).toBeLessThanOrEqual(4096);
    }
  });

  it("refuses a chunked session missing its last chunk, or with a chunk appended, and clears it", async () => {
    const { auth, log } = createTestHandler({ cookies: { maxSize: 16_384 }, callbacks: blobCallbacks(filler(10_240)) });
    const { jar } = await signIn(auth.handler);
    const chunks = [...jar.cookies].filter(([name]) => name.startsWith(`${NAME}.`));
    log.entries.length = 0;
    // Contiguous indexes look complete to the chunk reader; the JWE's structure and tag refuse the result.
    const truncated = await withCookie(
      auth.handler,
      chunks
        .slice(0, -1)
        .map(([name, value]) => `${name}=${value}`)
        .join("; "),
    );
    expect(truncated.body).toBeNull();
    expect(truncated.cleared.sort()).toEqual(
      chunks
        .slice(0, -1)
        .map(([name]) => name)
        .sort(),
    );
    const appended = await withCookie(auth.handler, `${[...chunks].map(([name, value]) => `${name}=${value}`).join("; ")}; ${NAME}.${chunks.length}=AAAA`);
    expect(appended.body).toBeNull();
    expect(appended.cleared).toHaveLength(chunks.length + 1);
    expect(log.entries.map((entry) => entry.code)).toEqual([
      expect.stringMatching(/^token_(malformed|invalid)$/),
      expect.stringMatching(/^token_(malformed|invalid)$/),
    ]);
  });

  it("expires the stale chunks and writes the unchunked name when the session shrinks", async () => {
    const { auth } = createTestHandler({ cookies: { maxSize: 16_384 }, callbacks: blobCallbacks(filler(10_240)) });
    const { jar, csrfToken } = await signIn(auth.handler);
    const chunkNames = [...jar.cookies.keys()].filter((name) => name.startsWith(`${NAME}.`));
    expect(chunkNames.length).toBeGreaterThanOrEqual(3);

    const response = await auth.handler(postJson("/session", { csrfToken, data: { blob: null } }, jar));
    expect(response.status).toBe(200);
    const written = setCookies(response);
    expect(written.get(NAME)).toMatch(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/);
    for (const name of chunkNames) expect(written.get(name)).toBe("");
    for (const line of response.headers.getSetCookie().filter((line) => line.startsWith(`${NAME}.`))) expect(line).toMatch(/; Max-Age=0/);

    jar.apply(response);
    expect([...jar.cookies.keys()].filter((name) => name.startsWith(NAME))).toEqual([NAME]);
    const body = (await (await auth.handler(get("/session", jar))).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ user: { id: "user-1" } });
    expect(body.blob).toBeUndefined();
  });

  it("grows an unchunked session into chunks and expires the unchunked name", async () => {
    const { auth } = createTestHandler({ cookies: { maxSize: 16_384 }, callbacks: blobCallbacks(undefined) });
    const { jar, csrfToken } = await signIn(auth.handler);
    const blob = filler(10_240);
    const response = await auth.handler(postJson("/session", { csrfToken, data: { blob } }, jar));
    expect(response.status).toBe(200);
    const written = setCookies(response);
    expect(written.get(NAME)).toBe("");
    expect(written.get(`${NAME}.0`)).not.toBe("");
    jar.apply(response);
    expect(await (await auth.handler(get("/session", jar))).json()).toMatchObject({ blob });
  });

  it("refuses with 413 session_too_large an update past the default budget, keeping the existing cookie", async () => {
    const { auth } = createTestHandler({ callbacks: blobCallbacks(undefined) });
    const { jar, csrfToken } = await signIn(auth.handler);
    const before = jar.header();
    const response = await auth.handler(postJson("/session", { csrfToken, data: { blob: filler(10_240) } }, jar));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: "session_too_large" });
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await (await auth.handler(get("/session", jar))).json()).toMatchObject({ user: { id: "user-1" } });
    expect(jar.header()).toBe(before);
  });

  it("keeps the current cookie when a jwt callback grows the token past the budget on a read", async () => {
    let grow = false;
    const { auth, log } = createTestHandler({ callbacks: { jwt: ({ token }) => (grow ? { ...token, blob: filler(10_240) } : token) } });
    const { jar } = await signIn(auth.handler);
    grow = true;
    const response = await auth.handler(get("/session", jar));
    expect(await response.json()).toMatchObject({ user: { id: "user-1" } });
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(log.entries.filter((entry) => entry.level === "error").map((entry) => entry.code)).toEqual(["session_too_large"]);
  });
});

describe("CSRF cookie", () => {
  it("refuses with 403 a state-changing request that carries the CSRF cookie twice", async () => {
    const { auth, jar, csrfToken } = await signedIn();
    const csrfCookie = jar.cookies.get(CSRF)!;
    for (const cookie of [`${jar.header()}; ${CSRF}=${csrfCookie}`, `${CSRF}=forged.value; ${jar.header()}`]) {
      const response = await auth.handler(postJson("/session", { csrfToken, data: {} }, undefined, { cookie }));
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: "csrf_invalid" });
      expect(response.headers.getSetCookie()).toEqual([]);
    }
  });
});

import { EncryptJWT } from "jose";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSessionHandler, memoryStore, type Store } from "../../../src/server/index.ts";
import { CLOCK_TOLERANCE } from "../../../src/server/jwt/codec.ts";
import { deriveEncryptionKey } from "../../../src/server/jwt/keys.ts";
import type { SessionHandlerConfig } from "../../../src/server/types.ts";
import { CookieJar, SECRET, createTestHandler, get, manualClock, postJson, recordingLogger, setCookies, signIn } from "../helpers.ts";

/**
 * The verified-token cache through real Requests: a repeat request skips the
 * decryption (counted at Web Crypto: the prepared-key path calls
 * `crypto.subtle.decrypt` once per token it opens), and everything else a
 * request checks is checked on a hit as on a miss.
 */

const COOKIE = "authjs.session-token";
type Handler = (request: Request) => Promise<Response>;

let decrypts: { mock: { calls: unknown[] } };
beforeEach(() => {
  decrypts = vi.spyOn(crypto.subtle, "decrypt");
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Decryptions during `run`. */
async function decryptsDuring(run: () => Promise<unknown>): Promise<number> {
  const before = decrypts.mock.calls.length;
  await run();
  return decrypts.mock.calls.length - before;
}

async function read(handler: Handler, jar: CookieJar, { apply = true } = {}) {
  const response = await handler(get("/session", jar));
  if (apply) jar.apply(response);
  return { response, body: (await response.json()) as { user: { id: string; name?: string }; expires: string; [key: string]: unknown } | null };
}

const copyOf = (jar: CookieJar) => {
  const copy = new CookieJar();
  for (const [name, value] of jar.cookies) copy.cookies.set(name, value);
  return copy;
};

describe("a repeat request skips the decryption", () => {
  it("the first read decrypts once; the same cookie again answers the same session without decrypting", async () => {
    const { auth } = createTestHandler();
    const { jar } = await signIn(auth.handler);
    const first = await read(auth.handler, jar);
    expect(first.body?.user.id).toBe("user-1");
    let again: Awaited<ReturnType<typeof read>> | undefined;
    expect(await decryptsDuring(async () => (again = await read(auth.handler, jar)))).toBe(0);
    expect(again!.body).toEqual(first.body);
    expect(again!.response.headers.getSetCookie()).toEqual([]);
    expect(await decryptsDuring(() => Promise.all(Array.from({ length: 20 }, () => read(auth.handler, jar))))).toBe(0);
  });

  it("counts one decryption per first sight: the first read after sign-in, each read of a new cookie", async () => {
    const { auth } = createTestHandler();
    const { jar } = await signIn(auth.handler);
    expect(await decryptsDuring(() => read(auth.handler, jar))).toBe(1);
    const other = (await signIn(auth.handler)).jar;
    expect(await decryptsDuring(() => read(auth.handler, other))).toBe(1);
    expect(await decryptsDuring(() => read(auth.handler, jar))).toBe(0);
    expect(await decryptsDuring(() => read(auth.handler, other))).toBe(0);
  });

  it("getSession and GET /session share it", async () => {
    const { auth } = createTestHandler();
    const { jar } = await signIn(auth.handler);
    await read(auth.handler, jar);
    let session: unknown;
    expect(await decryptsDuring(async () => (session = await auth.getSession(get("/session", jar))))).toBe(0);
    expect(session).toMatchObject({ user: { id: "user-1" } });
  });

  it("with jwt: { cache: false } every request decrypts", async () => {
    const { auth } = createTestHandler({ jwt: { cache: false } });
    const { jar } = await signIn(auth.handler);
    expect(await decryptsDuring(() => read(auth.handler, jar))).toBe(1);
    expect(await decryptsDuring(() => read(auth.handler, jar))).toBe(1);
    expect(await decryptsDuring(() => Promise.all(Array.from({ length: 5 }, () => read(auth.handler, jar))))).toBe(5);
  });

  it("holds maxEntries tokens, least recently used out first", async () => {
    const { auth } = createTestHandler({ jwt: { cache: { maxEntries: 2 } } });
    const [a, b, c] = [(await signIn(auth.handler)).jar, (await signIn(auth.handler)).jar, (await signIn(auth.handler)).jar];
    await read(auth.handler, a);
    await read(auth.handler, b);
    await read(auth.handler, a); // a is the most recent: b goes next
    expect(await decryptsDuring(() => read(auth.handler, c))).toBe(1);
    expect(await decryptsDuring(() => read(auth.handler, a))).toBe(0);
    expect(await decryptsDuring(() => read(auth.handler, b))).toBe(1);
  });

  it("holds no token larger than maxBytes", async () => {
    const { auth } = createTestHandler({ jwt: { cache: { maxBytes: 500 } } });
    const { jar } = await signIn(auth.handler);
    await read(auth.handler, jar);
    expect(await decryptsDuring(() => read(auth.handler, jar))).toBe(1);
  });
});

describe("a hit is checked as a miss is", () => {
  const session = { maxAge: 3600, updateAge: 3600 };

  it("expiry: a cached token is refused once past its exp and the tolerance, and its cookie cleared", async () => {
    const { auth, clock } = createTestHandler({ session });
    const { jar } = await signIn(auth.handler);
    await read(auth.handler, jar);
    clock.advance(3600 + CLOCK_TOLERANCE - 1); // inside the tolerance: still read, from the cache
    expect(await decryptsDuring(async () => expect((await read(auth.handler, copyOf(jar))).body).not.toBeNull())).toBe(0);
    clock.advance(2);
    const { response, body } = await read(auth.handler, jar, { apply: false });
    expect(body).toBeNull();
    expect(setCookies(response).get(COOKIE)).toBe("");
    // Refused tokens leave the cache: the next try decrypts again (and is refused again).
    expect(await decryptsDuring(async () => expect((await read(auth.handler, copyOf(jar))).body).toBeNull())).toBe(1);
  });

  it("a token from the future (nbf, iat) is not taken from the cache once the clock goes back", async () => {
    const clock = manualClock();
    const { auth } = createTestHandler({ session, clock: clock.now });
    const { jar } = await signIn(auth.handler);
    await read(auth.handler, jar);
    clock.advance(-10 * 60); // a token issued 10 minutes ahead of this clock: past what skew allows
    expect((await read(auth.handler, copyOf(jar))).body).toBeNull();
  });

  it("maxLifetime: a cached token is refused once the absolute lifetime is over, even inside the exp tolerance", async () => {
    const { auth, clock } = createTestHandler({ session: { ...session, maxLifetime: 1800 } });
    const { jar } = await signIn(auth.handler);
    await read(auth.handler, jar);
    clock.advance(1799);
    expect(await decryptsDuring(async () => expect((await read(auth.handler, copyOf(jar))).body).not.toBeNull())).toBe(0);
    clock.advance(1); // exp (capped at the lifetime) is within the tolerance: only the lifetime rule refuses now
    const { response, body } = await read(auth.handler, jar, { apply: false });
    expect(body).toBeNull();
    expect(setCookies(response).get(COOKIE)).toBe("");
    expect(await decryptsDuring(() => read(auth.handler, copyOf(jar)))).toBe(1);
  });

  it("revocation: a cached copy is refused right after its session signs out", async () => {
    const { auth } = createTestHandler({ store: memoryStore(), session });
    const { jar, csrfToken } = await signIn(auth.handler);
    const copy = copyOf(jar);
    await read(auth.handler, copy);
    expect((await read(auth.handler, copy)).body).not.toBeNull();
    await auth.handler(postJson("/signout", { csrfToken }, jar));
    expect((await read(auth.handler, copy)).body).toBeNull();
  });

  it("revocation on another node: 'sign out everywhere' there refuses this node's cached token at once", async () => {
    const store = memoryStore();
    const clock = manualClock();
    const make = () =>
      createSessionHandler({ secret: SECRET, store, session, clock: clock.now, logger: recordingLogger().logger, authorize: async () => ({ id: "u" }) });
    const [one, two] = [make(), make()];
    const { jar, csrfToken } = await signIn(one.handler);
    const copy = copyOf(jar);
    await read(one.handler, copy);
    expect(await decryptsDuring(async () => expect((await read(one.handler, copy)).body).not.toBeNull())).toBe(0);
    const revoked = await two.handler(postJson("/sessions/revoke", { csrfToken, all: true }, jar));
    expect(revoked.status).toBe(200);
    expect((await read(one.handler, copy)).body).toBeNull();
  });

  it("the deny-list costs a hit the same store reads as a miss: the session id and the user's generation, together", async () => {
    const reads: string[][] = [];
    const inner = memoryStore();
    let batch: string[] | undefined;
    const store: Store = Object.assign(Object.create(inner) as Store, {
      revokedAt(key: string, now: number) {
        if (!batch) {
          batch = [];
          reads.push(batch);
          queueMicrotask(() => (batch = undefined));
        }
        batch.push(key.startsWith("user:") ? "generation" : "session id");
        return inner.revokedAt(key, now);
      },
    });
    const { auth } = createTestHandler({ store, session });
    const { jar } = await signIn(auth.handler);
    reads.length = 0;
    await read(auth.handler, jar, { apply: false }); // miss
    await read(auth.handler, jar, { apply: false }); // hit
    expect(reads).toEqual([
      ["generation", "session id"],
      ["generation", "session id"],
    ]);
  });

  it("a store outage on a hit answers 503, as on a miss: no session is granted from the cache", async () => {
    const inner = memoryStore();
    const down = { value: false };
    const store: Store = Object.assign(Object.create(inner) as Store, {
      revokedAt: (key: string, now: number) => (down.value ? Promise.reject(new Error("ECONNREFUSED")) : inner.revokedAt(key, now)),
    });
    const { auth } = createTestHandler({ store, session });
    const { jar } = await signIn(auth.handler);
    await read(auth.handler, jar);
    down.value = true;
    const response = await auth.handler(get("/session", jar));
    expect(response.status).toBe(503);
    down.value = false;
    expect((await read(auth.handler, jar)).body).not.toBeNull();
  });
});

describe("what never enters the cache", () => {
  it("forged, tampered, foreign and expired cookies: refused every time, and they evict nothing", async () => {
    const { auth, clock } = createTestHandler({ jwt: { cache: { maxEntries: 1 } }, session: { maxAge: 3600, updateAge: 3600 } });
    const expired = (await signIn(auth.handler)).jar;
    clock.advance(3700);
    const { jar } = await signIn(auth.handler);
    await read(auth.handler, jar); // the one entry
    const token = jar.cookies.get(COOKIE)!;
    const [header, , iv, ciphertext, tag] = token.split(".");
    const flip = (part: string) => (part[0] === "A" ? "B" : "A") + part.slice(1);
    const garbage = [
      "not-a-token",
      `${header}..${iv}.${ciphertext}.${flip(tag!)}`, // tag forged
      `${header}..${iv}.${flip(ciphertext!)}.${tag}`, // ciphertext tampered
      `${header}..${flip(iv!)}.${ciphertext}.${tag}`,
      expired.cookies.get(COOKIE)!, // genuine, past its exp
    ];
    for (let round = 0; round < 3; round++) {
      for (const value of garbage) {
        const bad = new CookieJar();
        bad.cookies.set(COOKIE, value);
        expect((await read(auth.handler, bad)).body).toBeNull();
      }
    }
    expect(await decryptsDuring(() => read(auth.handler, jar))).toBe(0);
  });

  it("a revoked token: refused on every try, never cached, evicting nothing", async () => {
    const { auth } = createTestHandler({ store: memoryStore(), jwt: { cache: { maxEntries: 1 } } });
    const victim = await signIn(auth.handler);
    const stolen = copyOf(victim.jar);
    await auth.handler(postJson("/signout", { csrfToken: victim.csrfToken }, victim.jar));
    const { jar } = await signIn(auth.handler);
    await read(auth.handler, jar);
    for (let i = 0; i < 3; i++) expect(await decryptsDuring(async () => expect((await read(auth.handler, copyOf(stolen))).body).toBeNull())).toBe(1);
    expect(await decryptsDuring(() => read(auth.handler, jar))).toBe(0);
  });

  it("a token jose opens (any header but the one this server writes) is read every time, never kept", async () => {
    const { auth, clock } = createTestHandler();
    const key = await deriveEncryptionKey(SECRET, COOKIE);
    const now = Math.floor(clock.now() / 1000);
    const token = await new EncryptJWT({ sub: "user-1", name: "Ada", sid: "s-1", auth_time: now, gen: 0 })
      .setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid: key.kid, typ: "JWT" })
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .setJti("j-1")
      .encrypt(key.key);
    const jar = new CookieJar();
    jar.cookies.set(COOKIE, token);
    for (let i = 0; i < 3; i++) {
      expect(await decryptsDuring(async () => expect((await read(auth.handler, jar, { apply: false })).body).toMatchObject({ user: { id: "user-1" } }))).toBe(
        1,
      );
    }
  });

  it("a token opened only to sign out (acceptExpired) is not kept", async () => {
    const { auth, clock } = createTestHandler({ store: memoryStore(), session: { maxAge: 3600, updateAge: 3600 } });
    const { jar, csrfToken } = await signIn(auth.handler);
    clock.advance(3700);
    const copy = copyOf(jar);
    await auth.handler(postJson("/signout", { csrfToken }, jar));
    expect((await read(auth.handler, copy)).body).toBeNull();
  });
});

describe("the cache cannot be led astray", () => {
  it("a token cached under one cookie name is not taken under another (each name has its own key)", async () => {
    const { auth } = createTestHandler();
    const { jar } = await signIn(auth.handler);
    await read(auth.handler, jar);
    const token = jar.cookies.get(COOKIE)!;
    const response = await auth.handler(new Request("https://localhost:3000/api/auth/session", { headers: { cookie: `__Secure-${COOKIE}=${token}` } }));
    expect(await response.json()).toBeNull();
  });

  it("a key rotation is a new handler, whose cache starts empty: a retired key's token is refused", async () => {
    const clock = manualClock();
    const config = (secret: string | string[]): SessionHandlerConfig => ({
      secret,
      clock: clock.now,
      logger: recordingLogger().logger,
      authorize: async (credentials) => (credentials.password === "correct horse" ? { id: "user-1" } : null),
    });
    const before = createSessionHandler(config(SECRET));
    const { jar } = await signIn(before.handler);
    await read(before.handler, jar);
    const rotated = createSessionHandler(config([`${SECRET}-next`, SECRET]));
    expect(await decryptsDuring(async () => expect((await read(rotated.handler, copyOf(jar))).body).not.toBeNull())).toBe(1);
    const retired = createSessionHandler(config(`${SECRET}-next`));
    expect((await read(retired.handler, copyOf(jar))).body).toBeNull();
    // The old handler still has its own cache and keys: unaffected, as its config did not change.
    expect(await decryptsDuring(() => read(before.handler, copyOf(jar)))).toBe(0);
  });

  it("callbacks that mutate the token they are given cannot change what later hits see", async () => {
    const seen: unknown[] = [];
    const { auth } = createTestHandler({
      callbacks: {
        jwt: ({ token, trigger }) => {
          if (trigger === "signIn") return { ...token, profile: { plan: "free", tags: ["a"] } };
          const profile = token.profile as { plan: string; tags: string[] };
          profile.plan = "hacked";
          profile.tags.push("b");
          token.name = "mallory";
          return token;
        },
        session: ({ session, token }) => {
          seen.push(structuredClone(token.profile));
          (token.profile as { tags: string[] }).tags.push("c");
          (session.user as { name?: string }).name = "eve";
          return { ...session, profile: token.profile };
        },
      },
    });
    const { jar } = await signIn(auth.handler);
    const replay = copyOf(jar);
    for (let i = 0; i < 3; i++) {
      const { body } = await read(auth.handler, replay, { apply: false });
      expect(body?.profile).toEqual({ plan: "hacked", tags: ["a", "b", "c"] });
    }
    // Each request's session callback saw the jwt callback's output of that request only.
    expect(seen).toEqual([
      { plan: "hacked", tags: ["a", "b"] },
      { plan: "hacked", tags: ["a", "b"] },
      { plan: "hacked", tags: ["a", "b"] },
    ]);
  });

  it("a session callback mutating the token without a jwt callback cannot poison later hits", async () => {
    const { auth } = createTestHandler({
      callbacks: {
        session: ({ session, token }) => {
          const count = ((token.reads as number | undefined) ?? 0) + 1;
          token.reads = count;
          token.name = "mallory";
          return { ...session, reads: count, name: token.name };
        },
      },
    });
    const { jar } = await signIn(auth.handler);
    for (let i = 0; i < 3; i++) expect((await read(auth.handler, jar)).body).toMatchObject({ reads: 1, user: { name: "Ada Lovelace" } });
  });
});

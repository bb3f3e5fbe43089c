import { describe, expect, it } from "vitest";
import { SessionConfigError, createSessionHandler } from "../../src/server/index.ts";
import type { SessionHandlerConfig } from "../../src/server/types.ts";
import { SECRET } from "./helpers.ts";

/** Creates a handler from options that may be wrong on purpose, as untyped JavaScript callers can pass. */
function create(options: Record<string, unknown>) {
  return () => createSessionHandler(options as unknown as SessionHandlerConfig);
}

/** The error `run` throws; fails the test when it throws nothing or something else. */
function configErrorOf(run: () => unknown): SessionConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SessionConfigError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as SessionConfigError).code).toBe("invalid_config");
    return error as SessionConfigError;
  }
  throw new Error("expected a SessionConfigError, nothing was thrown");
}

describe("secret", () => {
  it("refuses a string secret shorter than 32 bytes, saying how long it is, without echoing it", () => {
    const short = "hunter2-but-longer-31-bytes-xxx";
    expect(new TextEncoder().encode(short).byteLength).toBe(31);
    const error = configErrorOf(create({ secret: short }));
    expect(error.message).toMatch(/\b31 bytes\b/);
    expect(error.message).toMatch(/at least 32/);
    expect(error.message).not.toContain(short);
    expect(String(error.stack)).not.toContain(short);
  });

  it("counts bytes, not characters", () => {
    // 16 characters of 2 bytes each: 32 bytes, accepted; 15 of them (30 bytes) refused.
    expect(() => createSessionHandler({ secret: "é".repeat(16) })).not.toThrow();
    expect(configErrorOf(create({ secret: "é".repeat(15) })).message).toMatch(/\b30 bytes\b/);
  });

  it("refuses a short secret inside an array and names its position", () => {
    const short = "too-short-secret";
    const error = configErrorOf(create({ secret: [SECRET, short] }));
    expect(error.message).toMatch(/secret\[1\] is 16 bytes/);
    expect(error.message).not.toContain(short);
    expect(error.message).not.toContain(SECRET);
  });

  it("refuses an empty or empty-array secret", () => {
    for (const secret of ["", []]) {
      expect(configErrorOf(create({ secret })).message).toMatch(/secret/);
    }
  });

  it("a missing secret (AUTH_SECRET unset, as at build time) is reported when the handler is used, not when it is created", async () => {
    const errors: string[] = [];
    const auth = createSessionHandler({
      logger: { error: (code: string) => void errors.push(code), warn: () => {}, debug: () => {} },
    } as unknown as SessionHandlerConfig);
    const response = await auth.handler(new Request("http://localhost:3000/api/auth/session"));
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: "internal_error", message: expect.stringMatching(/`secret` is required/) });
    expect(errors).toEqual(["internal_error"]);
    await expect(auth.getSession(new Request("http://localhost:3000/"))).rejects.toThrow(/`secret` is required/);
    await expect(auth.api.signIn(new Request("http://localhost:3000/"), { id: "u" })).rejects.toThrow(/`secret` is required/);
    // The other options are still checked at once.
    expect(configErrorOf(() => createSessionHandler({ session: { maxAge: -1 } } as unknown as SessionHandlerConfig)).message).toMatch(/maxAge/);
  });

  it("refuses secrets that are not strings", () => {
    for (const secret of [123, null, { key: SECRET }, Buffer.from(SECRET), [SECRET, 42], [null]]) {
      expect(configErrorOf(create({ secret })).message).toMatch(/secret/);
    }
  });

  it("refuses at creation, before any request is served", () => {
    expect(configErrorOf(create({ secret: "short" })).message).toMatch(/^sessionpulse: /);
  });

  it("accepts a 32-byte secret and a rotation list", () => {
    expect(() => createSessionHandler({ secret: "s".repeat(32) })).not.toThrow();
    expect(() => createSessionHandler({ secret: ["s".repeat(32), SECRET] })).not.toThrow();
  });
});

describe("options", () => {
  const invalid: Record<string, { options: Record<string, unknown>; message: RegExp }> = {
    "updateAge greater than maxAge": { options: { session: { maxAge: 60, updateAge: 120 } }, message: /updateAge must not exceed session\.maxAge/ },
    "a negative maxAge": { options: { session: { maxAge: -1 } }, message: /session\.maxAge/ },
    "a zero maxAge": { options: { session: { maxAge: 0 } }, message: /session\.maxAge/ },
    "a non-number updateAge": { options: { session: { updateAge: "1d" } }, message: /session\.updateAge/ },
    "an infinite maxLifetime": { options: { session: { maxLifetime: Infinity } }, message: /session\.maxLifetime/ },
    "a database strategy": { options: { session: { strategy: "database" } }, message: /strategy/ },
    "a basePath without a leading slash": { options: { basePath: "api/auth" }, message: /basePath/ },
    "a basePath with a query": { options: { basePath: "/api/auth?x=1" }, message: /basePath/ },
    "a basePath with whitespace": { options: { basePath: "/api /auth" }, message: /basePath/ },
    "a basePath that is not a string": { options: { basePath: 42 }, message: /basePath/ },
    "a trusted origin that is not a URL": { options: { trustedOrigins: ["example.com"] }, message: /trustedOrigins\[0\]/ },
    "a trusted origin that is a wildcard": { options: { trustedOrigins: ["https://ok.example", "*"] }, message: /trustedOrigins\[1\]/ },
    "a trusted origin with another scheme": { options: { trustedOrigins: ["ftp://files.example.com"] }, message: /trustedOrigins\[0\]/ },
    "a trusted origin that is not a string": { options: { trustedOrigins: [null] }, message: /trustedOrigins\[0\]/ },
    "trustedOrigins given as a string": { options: { trustedOrigins: "https://admin.example.com" }, message: /trustedOrigins/ },
    "a url that is not absolute": { options: { url: "/app" }, message: /\burl\b/ },
    "sameSite none with secure false": { options: { cookies: { sameSite: "none", secure: false } }, message: /sameSite "none" needs secure/ },
    "an unknown sameSite": { options: { cookies: { sameSite: "Lax" } }, message: /cookies\.sameSite/ },
    "a secure flag that is a string": { options: { cookies: { secure: "true" } }, message: /cookies\.secure/ },
    "a cookie prefix with a separator": { options: { cookies: { prefix: "my app;" } }, message: /cookies\.prefix/ },
    "a cookie domain with a path": { options: { cookies: { domain: "example.com/x" } }, message: /cookies\.domain/ },
    "a cookie budget under 1024 bytes": { options: { cookies: { maxSize: 100 } }, message: /cookies\.maxSize/ },
    "an authorize that is not a function": { options: { authorize: "yes" }, message: /authorize/ },
    "a jwt callback that is not a function": { options: { callbacks: { jwt: {} } }, message: /callbacks\.jwt/ },
    "a clock that is not a function": { options: { clock: 1234 }, message: /clock/ },
    "an unknown compat": { options: { compat: "next-auth-v3" }, message: /compat/ },
  };
  for (const [label, { options, message }] of Object.entries(invalid)) {
    it(`refuses ${label}`, () => {
      const error = configErrorOf(create({ secret: SECRET, ...options }));
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain(SECRET);
    });
  }

  it("refuses a missing options object", () => {
    configErrorOf(create(undefined as unknown as Record<string, unknown>));
    configErrorOf(create(null as unknown as Record<string, unknown>));
  });

  it("accepts the edge values: updateAge equal to maxAge, updateAge 0, sameSite none with secure auto", () => {
    expect(() => createSessionHandler({ secret: SECRET, session: { maxAge: 60, updateAge: 60 } })).not.toThrow();
    expect(() => createSessionHandler({ secret: SECRET, session: { updateAge: 0 } })).not.toThrow();
    expect(() => createSessionHandler({ secret: SECRET, cookies: { sameSite: "none" } })).not.toThrow();
    expect(() => createSessionHandler({ secret: SECRET, trustedOrigins: ["https://admin.example.com"], basePath: "/auth" })).not.toThrow();
  });
});

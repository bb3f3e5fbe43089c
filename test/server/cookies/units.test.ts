import { describe, expect, it } from "vitest";
import { CHUNK_SIZE, readChunkedCookie, splitIntoChunks } from "../../../src/server/cookies/chunks.ts";
import { MAX_COOKIE_HEADER_LENGTH, parseCookieHeader } from "../../../src/server/cookies/header.ts";
import { cookieNames } from "../../../src/server/cookies/names.ts";
import { readSessionCookie, refuseSessionCookie, writeSessionCookie } from "../../../src/server/session/session-cookie.ts";
import { serializeClearedCookie, serializeCookie } from "../../../src/server/cookies/set-cookie.ts";
import { resolveConfig } from "../../../src/server/config.ts";
import { SessionServerError } from "../../../src/server/errors.ts";
import { createRequestContext } from "../../../src/server/context.ts";
import type { SessionHandlerConfig } from "../../../src/server/types.ts";
import { ORIGIN, SECRET, recordingLogger } from "../helpers.ts";

const NAME = "authjs.session-token";
const BUDGET = 12_288;
const NOW = Date.UTC(2026, 0, 1);

function jar(header: string) {
  return parseCookieHeader(header);
}

describe("parseCookieHeader", () => {
  it("parses a header of exactly the length cap", () => {
    const header = `a=${"x".repeat(MAX_COOKIE_HEADER_LENGTH - 2)}`;
    expect(header.length).toBe(MAX_COOKIE_HEADER_LENGTH);
    expect(jar(header).get("a")).toEqual(["x".repeat(MAX_COOKIE_HEADER_LENGTH - 2)]);
  });

  it("skips pairs without '=' and pairs with an empty name", () => {
    expect(new Map(jar("ab; abc; =x;  =y; c=1"))).toEqual(new Map([["c", ["1"]]]));
  });

  it("trims whitespace around names and values (RFC 6265), then unquotes", () => {
    expect(new Map(jar('a=1 ;b= 2\t; c = "3" '))).toEqual(
      new Map([
        ["a", ["1"]],
        ["b", ["2"]],
        ["c", ["3"]],
      ]),
    );
  });

  it("removes one pair of surrounding double quotes", () => {
    expect(jar('a="xyz"').get("a")).toEqual(["xyz"]);
    expect(jar('a=""').get("a")).toEqual([""]);
    expect(jar('a=""x""').get("a")).toEqual(['"x"']);
  });

  it("keeps a quote that is not one of a surrounding pair", () => {
    expect(jar('a="').get("a")).toEqual(['"']);
    expect(jar('a=x"').get("a")).toEqual(['x"']);
    expect(jar('a="x').get("a")).toEqual(['"x']);
    expect(jar('a=x"y').get("a")).toEqual(['x"y']);
  });

  it("splits on ',' as well as ';' and keeps duplicates in order", () => {
    expect(jar("a=1, b=2; a=3").get("a")).toEqual(["1", "3"]);
    expect(jar("a=1, b=2").get("b")).toEqual(["2"]);
  });
});

describe("readChunkedCookie", () => {
  it("answers absent when neither the plain name nor any chunk is sent", () => {
    expect(readChunkedCookie(jar("other=1"), NAME, BUDGET)).toEqual({ kind: "absent" });
    expect(readChunkedCookie(jar(""), NAME, BUDGET)).toEqual({ kind: "absent" });
  });

  it("reads a plain cookie of exactly the budget, and refuses one byte more (clearing it)", () => {
    expect(readChunkedCookie(jar(`${NAME}=${"a".repeat(BUDGET)}`), NAME, BUDGET)).toEqual({ kind: "present", value: "a".repeat(BUDGET) });
    expect(readChunkedCookie(jar(`${NAME}=${"a".repeat(BUDGET + 1)}`), NAME, BUDGET)).toEqual({
      kind: "rejected",
      reason: "cookie_too_large",
      clear: true,
    });
  });

  it("refuses chunks whose total passes the budget, and asks to clear them", () => {
    const chunk = "a".repeat(CHUNK_SIZE);
    const header = [0, 1, 2, 3].map((index) => `${NAME}.${index}=${chunk}`).join("; ");
    expect(readChunkedCookie(jar(header), NAME, BUDGET)).toEqual({ kind: "rejected", reason: "cookie_too_large", clear: true });
  });

  it("reads chunks totalling exactly the budget", () => {
    const value = "b".repeat(BUDGET);
    const header = splitIntoChunks(NAME, value)
      .map((chunk) => `${chunk.name}=${chunk.value}`)
      .join("; ");
    expect(readChunkedCookie(jar(header), NAME, BUDGET)).toEqual({ kind: "present", value });
  });
});

describe("splitIntoChunks", () => {
  it("keeps a value of exactly one chunk under the plain name", () => {
    const value = "c".repeat(CHUNK_SIZE);
    expect(splitIntoChunks(NAME, value)).toEqual([{ name: NAME, value }]);
  });

  it("splits a value one byte over a chunk into two pieces", () => {
    const value = "c".repeat(CHUNK_SIZE) + "d";
    expect(splitIntoChunks(NAME, value)).toEqual([
      { name: `${NAME}.0`, value: "c".repeat(CHUNK_SIZE) },
      { name: `${NAME}.1`, value: "d" },
    ]);
  });

  it("writes no empty trailing chunk when the value is a whole number of chunks", () => {
    const value = "e".repeat(CHUNK_SIZE * 2);
    expect(splitIntoChunks(NAME, value)).toEqual([
      { name: `${NAME}.0`, value: "e".repeat(CHUNK_SIZE) },
      { name: `${NAME}.1`, value: "e".repeat(CHUNK_SIZE) },
    ]);
  });
});

describe("cookieNames", () => {
  it("prefixes the session cookies with __Secure- and the CSRF cookie with __Host- on https only", () => {
    expect(cookieNames("authjs", true)).toEqual({
      sessionToken: "__Secure-authjs.session-token",
      csrfToken: "__Host-authjs.csrf-token",
      sessionData: "__Secure-authjs.session-data",
    });
    expect(cookieNames("app", false)).toEqual({ sessionToken: "app.session-token", csrfToken: "app.csrf-token", sessionData: "app.session-data" });
  });
});

describe("serializeCookie and serializeClearedCookie", () => {
  it("writes HttpOnly, Path=/, SameSite, and Secure/Domain only when asked", () => {
    expect(serializeCookie("n", "v", { secure: false, sameSite: "Lax" }, NOW)).toBe("n=v; Path=/; HttpOnly; SameSite=Lax");
    expect(serializeCookie("n", "v", { secure: true, sameSite: "Strict", domain: "example.com" }, NOW)).toBe(
      "n=v; Path=/; HttpOnly; SameSite=Strict; Secure; Domain=example.com",
    );
  });

  it("writes Expires and a Max-Age in whole seconds, never negative", () => {
    expect(serializeCookie("n", "v", { secure: false, sameSite: "Lax", expires: new Date(NOW + 90_500) }, NOW)).toBe(
      `n=v; Path=/; HttpOnly; SameSite=Lax; Expires=${new Date(NOW + 90_500).toUTCString()}; Max-Age=90`,
    );
    expect(serializeCookie("n", "v", { secure: false, sameSite: "Lax", expires: new Date(NOW - 5000) }, NOW)).toMatch(/; Max-Age=0$/);
  });

  it("a cleared cookie expires at once and carries no Secure or Domain unless asked", () => {
    expect(serializeClearedCookie("n", { secure: false, sameSite: "Lax" })).toBe(
      "n=; Path=/; HttpOnly; SameSite=Lax; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0",
    );
  });

  it("a cleared cookie keeps the Secure flag and the Domain of the cookie it deletes", () => {
    expect(serializeClearedCookie("n", { secure: true, sameSite: "None", domain: "example.com" })).toBe(
      "n=; Path=/; HttpOnly; SameSite=None; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; Domain=example.com",
    );
  });
});

function setUp(cookie: string, overrides: Partial<SessionHandlerConfig> = {}) {
  const log = recordingLogger();
  const config = resolveConfig({ secret: SECRET, clock: () => NOW, logger: log.logger, ...overrides });
  const context = createRequestContext(config, new Request(`${ORIGIN}/api/auth/session`, { headers: { cookie } }));
  return { config, context, log };
}

describe("the session cookie", () => {
  it("reads the session cookie under the request's cookie name", () => {
    const { config, context } = setUp(`${NAME}=abc`);
    expect(readSessionCookie(config, context)).toEqual({ kind: "present", value: "abc" });
  });

  it("writes a value of exactly the cookie budget", () => {
    const { config, context } = setUp("");
    writeSessionCookie(config, context, "f".repeat(BUDGET), new Date(NOW + 60_000));
    expect(context.setCookies.map((line) => line.split("=")[0])).toEqual([`${NAME}.0`, `${NAME}.1`, `${NAME}.2`, `${NAME}.3`]);
  });

  it("refuses a value one byte over the budget, saying both sizes, before queueing anything", () => {
    const { config, context } = setUp("");
    const write = () => writeSessionCookie(config, context, "f".repeat(BUDGET + 1), new Date(NOW + 60_000));
    expect(write).toThrow(SessionServerError);
    expect(write).toThrow(`session is ${BUDGET + 1} bytes; the cookie budget is ${BUDGET}`);
    expect(context.setCookies).toEqual([]);
  });

  it("expires the pieces the new value no longer uses", () => {
    const { config, context } = setUp(`${NAME}.0=a; ${NAME}.1=b; ${NAME}.7=stray`);
    writeSessionCookie(config, context, "short", new Date(NOW + 60_000));
    expect(context.setCookies).toEqual([
      `${NAME}=short; Path=/; HttpOnly; SameSite=Lax; Expires=${new Date(NOW + 60_000).toUTCString()}; Max-Age=60`,
      serializeClearedCookie(`${NAME}.0`, { secure: false, sameSite: "Lax" }),
      serializeClearedCookie(`${NAME}.1`, { secure: false, sameSite: "Lax" }),
    ]);
  });

  it("refusing logs the reason and, by default, clears the cookie", () => {
    const { config, context, log } = setUp(`${NAME}=bad`, { cookies: { domain: "example.com" } });
    expect(refuseSessionCookie(config, context, "cookie_too_large")).toBeNull();
    expect(log.entries).toEqual([{ level: "warn", code: "cookie_too_large", details: { path: "/api/auth/session" } }]);
    expect(context.setCookies).toEqual([serializeClearedCookie(NAME, { secure: false, sameSite: "Lax", domain: "example.com" })]);
  });

  it("refusing with clear = false queues nothing", () => {
    const { config, context } = setUp(`${NAME}=bad`);
    expect(refuseSessionCookie(config, context, "cookie_duplicated", false)).toBeNull();
    expect(context.setCookies).toEqual([]);
  });
});

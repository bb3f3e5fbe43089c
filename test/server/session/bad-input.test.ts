import { describe, expect, it } from "vitest";
import type { SessionCallbacks } from "../../../src/server/types.ts";
import { createTestHandler, postJson, signIn } from "../helpers.ts";
import { BACKENDS, ready } from "../stores/backends.ts";

/**
 * Input from any signed-in user must come back as a 4xx with a stable code on
 * every store: never a 503 `store_unavailable` (with `Retry-After` and an
 * error-level log, as if the database were down) because one driver refused it.
 */
describe.each(BACKENDS)("client input on $name is not a store outage", (backend) => {
  const merging: SessionCallbacks = {
    jwt: ({ token, trigger, session }) => (trigger === "update" && typeof session === "object" && session !== null ? { ...token, ...session } : token),
  };

  it.for([
    ["a NUL", "\u0000"],
    ["a NUL inside", `${"ab".repeat(32).slice(0, 60)}\u0000def`],
    ["10,000 characters", "a".repeat(10_000)],
    ["an emoji", "🍪"],
    ["SQL", "' OR 1=1 --"],
    ["a percent escape", "%00"],
  ])("revoking an id with %s answers 404, not 503", async ([, id], context) => {
    await ready(backend, context);
    const { auth, log } = createTestHandler({ store: backend.open(), session: { strategy: "database" } });
    const { jar, csrfToken } = await signIn(auth.handler);
    const response = await auth.handler(postJson("/sessions/revoke", { csrfToken, id }, jar));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "session_not_found" });
    expect(log.entries.filter((entry) => entry.level === "error")).toEqual([]);
  });

  it.for([
    ["a NUL in a value", { note: "a\u0000b" }],
    ["a NUL in a key", { "a\u0000b": 1 }],
    ["a lone surrogate", { note: "\ud800" }],
  ] as const)("an update with %s answers 400 session_data_invalid, not 503", async ([, data], context) => {
    await ready(backend, context);
    const { auth, log } = createTestHandler({ store: backend.open(), session: { strategy: "database" }, callbacks: merging });
    const { jar, csrfToken } = await signIn(auth.handler);
    const response = await auth.handler(postJson("/session", { csrfToken, data }, jar));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "session_data_invalid" });
    expect(log.entries.filter((entry) => entry.level === "error")).toEqual([]);
    // The session is untouched and still works.
    const after = await auth.handler(postJson("/session", { csrfToken, data: { note: "fine" } }, jar));
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ user: { id: "user-1" } });
  });
});

describe("session data every store can keep, whatever the strategy", () => {
  it("JWT: an update with a NUL answers 400 too, so the session survives a later switch to the database strategy", async () => {
    const { auth } = createTestHandler({
      callbacks: {
        jwt: ({ token, trigger, session }) => (trigger === "update" && typeof session === "object" && session !== null ? { ...token, ...session } : token),
      },
    });
    const { jar, csrfToken } = await signIn(auth.handler);
    const response = await auth.handler(postJson("/session", { csrfToken, data: { note: "a\u0000b" } }, jar));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "session_data_invalid" });
  });

  it("a literal backslash-u0000 in text is data, not a NUL, and is kept", async () => {
    const { auth } = createTestHandler({
      callbacks: {
        jwt: ({ token, trigger, session }) => (trigger === "update" && typeof session === "object" && session !== null ? { ...token, ...session } : token),
      },
    });
    const { jar, csrfToken } = await signIn(auth.handler);
    const response = await auth.handler(postJson("/session", { csrfToken, data: { note: "\\u0000 and \\\\u0000" } }, jar));
    expect(response.status).toBe(200);
  });
});

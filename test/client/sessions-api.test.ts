import { describe, expect, it } from "vitest";
import { createSessionClient } from "../../src/client/index.ts";
import { memoryStore } from "../../src/server/index.ts";
import { BASE, CookieJar, createTestHandler, signIn } from "../server/helpers.ts";

/** A client whose fetch goes to an in-process server through a browser-like cookie jar. */
function browserOn(handler: (request: Request) => Promise<Response>, jar = new CookieJar()) {
  const fetch = async (input: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    headers.set("cookie", jar.header());
    const response = await handler(new Request(input, { ...init, headers }));
    jar.apply(response);
    return response;
  };
  return { jar, client: createSessionClient({ basePath: BASE, fetch, crossTab: false, refetchInterval: 0 }) };
}

describe("session management from the client", () => {
  it("lists the user's sessions, revokes one, the others, or all, with CSRF handled and the snapshot following", async () => {
    const { auth } = createTestHandler({ session: { strategy: "database" }, store: memoryStore() });
    const { client, jar } = browserOn(auth.handler);
    const signedIn = await client.signIn("credentials", { email: "ada@example.com", password: "correct horse" }, { redirect: false });
    expect(signedIn.ok).toBe(true);
    const laptop = await signIn(auth.handler);
    const phone = await signIn(auth.handler);
    const listed = await client.listSessions();
    expect(listed).toHaveLength(3);
    expect(listed.filter((session) => session.current)).toHaveLength(1);
    const laptopId = listed.find((session) => !session.current)!.id;
    await client.revokeSession(laptopId);
    expect(await client.listSessions()).toHaveLength(2);
    await client.revokeOtherSessions();
    expect((await client.listSessions()).map((session) => session.current)).toEqual([true]);
    expect(client.getSnapshot().status).toBe("authenticated");
    void laptop;
    void phone;
    await client.signOutEverywhere();
    expect(client.getSnapshot()).toMatchObject({ status: "unauthenticated", data: null });
    expect(jar.cookies.size).toBeGreaterThan(0); // the CSRF cookie stays; the session cookie is gone
    expect([...jar.cookies.keys()].some((name) => name.includes("session-token"))).toBe(false);
  });

  it("revoking the current session signs this client out", async () => {
    const { auth } = createTestHandler({ session: { strategy: "database" }, store: memoryStore() });
    const { client } = browserOn(auth.handler);
    await client.signIn("credentials", { password: "correct horse" }, { redirect: false });
    const [current] = await client.listSessions();
    const events: string[] = [];
    client.on("signout", (event) => events.push(event.source));
    await client.revokeSession(current!.id);
    expect(client.getSnapshot().status).toBe("unauthenticated");
    expect(events).toEqual(["local"]);
  });
});

describe("errors that point the right way", () => {
  it("a sign-in refused by the server's Origin check resolves { ok: false, error: 'origin_forbidden' }, not a CSRF error", async () => {
    const { auth } = createTestHandler();
    const fetch = async (input: string, init: RequestInit) =>
      auth.handler(new Request(input, { ...init, headers: { ...Object.fromEntries(new Headers(init.headers)), origin: "http://localhost:5173" } }));
    const client = createSessionClient({ basePath: BASE, fetch, crossTab: false, refetchInterval: 0 });
    const result = await client.signIn("credentials", { password: "correct horse" }, { redirect: false });
    expect(result).toEqual({ ok: false, error: "origin_forbidden", status: 403, url: null });
  });

  it("a wrong basePath names the URL and the option in the error", async () => {
    const { auth } = createTestHandler();
    const client = createSessionClient({
      basePath: "http://localhost:3000/api/oops",
      fetch: (input, init) => auth.handler(new Request(input, init)),
      crossTab: false,
    });
    const snapshot = await client.refresh();
    expect(snapshot.error).toMatchObject({ code: "http", status: 404 });
    expect(snapshot.error!.message).toContain("http://localhost:3000/api/oops/session");
    expect(snapshot.error!.message).toContain("basePath");
  });

  it("a basePath that is neither a path nor an http(s) URL is refused at creation", () => {
    expect(() => createSessionClient({ basePath: "api/auth" })).toThrow(/basePath/);
  });
});

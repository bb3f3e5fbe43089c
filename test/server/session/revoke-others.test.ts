import { describe, expect, it } from "vitest";
import { memoryStore } from "../../../src/server/index.ts";
import { createTestHandler, get, postJson, signIn, type CookieJar } from "../helpers.ts";

type Handler = (request: Request) => Promise<Response>;

async function read(handler: Handler, jar: CookieJar) {
  const response = await handler(get("/session", jar));
  jar.apply(response);
  return (await response.json()) as { user: { id: string } } | null;
}

describe.each(["jwt", "database"] as const)("POST /sessions/revoke { others: true } (%s strategy)", (strategy) => {
  it("ends every other session of the user and keeps this one, its cookie still working", async () => {
    const { auth } = createTestHandler({ session: { strategy }, store: memoryStore() });
    const here = await signIn(auth.handler);
    const laptop = await signIn(auth.handler);
    const phone = await signIn(auth.handler);
    const response = await auth.handler(postJson("/sessions/revoke", { csrfToken: here.csrfToken, others: true }, here.jar));
    expect(response.status).toBe(200);
    here.jar.apply(response);
    expect(await read(auth.handler, here.jar)).toMatchObject({ user: { id: "user-1" } });
    expect(await read(auth.handler, laptop.jar)).toBeNull();
    expect(await read(auth.handler, phone.jar)).toBeNull();
    // The session kept is the same one (same id), and it still reads after later requests.
    expect(await read(auth.handler, here.jar)).toMatchObject({ user: { id: "user-1" } });
  });
});

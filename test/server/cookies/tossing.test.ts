import { describe, expect, it } from "vitest";
import { memoryStore } from "../../../src/server/index.ts";
import { BASE, CookieJar, createTestHandler, get, signIn } from "../helpers.ts";

const NAME = "authjs.session-token";

/** The `Set-Cookie` lines of a response that touch the session cookie, by name. */
function sessionCookieLines(response: Response): string[] {
  return response.headers.getSetCookie().filter((line) => line.startsWith(`${NAME}=`) || line.startsWith(`${NAME}.`));
}

describe("cookie tossing: a planted cookie never clears the victim's own", () => {
  for (const strategy of ["jwt", "database"] as const) {
    it(`${strategy}: a tossed ${NAME}.0 beside the real ${NAME} leaves the real one in place`, async () => {
      const { auth } = createTestHandler({ store: memoryStore(), session: { strategy } });
      const { jar } = await signIn(auth.handler);
      const real = jar.cookies.get(NAME)!;
      const response = await auth.handler(get("/session", undefined, { cookie: `${NAME}=${real}; ${NAME}.0=tossed-by-a-sibling` }));
      const cleared = sessionCookieLines(response).filter((line) => line.startsWith(`${NAME}=;`));
      expect(cleared).toEqual([]);
      // Once the planted piece is gone (it expires, or the sibling stops), the session is there as before.
      expect(await (await auth.handler(get("/session", jar))).json()).toMatchObject({ user: { id: "user-1" } });
    });
  }

  it("stray pieces this server never writes are neither read nor cleared", async () => {
    const { auth } = createTestHandler();
    const { jar } = await signIn(auth.handler);
    const real = jar.cookies.get(NAME)!;
    for (const stray of [`${NAME}.99=junk`, `${NAME}.01=junk`, `${NAME}.x=junk`, `${NAME}X=junk`]) {
      const response = await auth.handler(get("/session", undefined, { cookie: `${NAME}=${real}; ${stray}` }));
      expect(await response.json(), stray).toMatchObject({ user: { id: "user-1" } });
      expect(sessionCookieLines(response), stray).toEqual([]);
    }
  });
});

describe("Set-Cookie amplification", () => {
  it("900 stray numbered pieces produce no more Set-Cookie lines than the chunk limit allows", async () => {
    const { auth } = createTestHandler();
    const strays = Array.from({ length: 900 }, (_, i) => `${NAME}.${i}=x`).join("; ");
    const response = await auth.handler(get("/session", undefined, { cookie: strays }));
    expect(response.status).toBe(200);
    // cookies.maxSize 12288 / 3936 per chunk: at most 4 pieces, plus the plain name.
    expect(sessionCookieLines(response).length).toBeLessThanOrEqual(5);
    expect(JSON.stringify([...response.headers]).length).toBeLessThan(4096);
  });
});

describe("several Cookie header fields (HTTP/2), joined with a comma as the Fetch standard does", () => {
  // Node's Headers joins `cookie` fields with "; ", but the standard (and Deno, Bun, workers) joins
  // repeated fields with ", ": the handler receives the joined value as written here.
  for (const strategy of ["jwt", "database"] as const) {
    it(`${strategy}: finds the session cookie in the second field`, async () => {
      const { auth } = createTestHandler({ store: memoryStore(), session: { strategy } });
      const { jar } = await signIn(auth.handler, new CookieJar());
      const cookie = `theme=dark; lang=en, ${NAME}=${jar.cookies.get(NAME)!}`;
      const response = await auth.handler(new Request(`${BASE}/session`, { headers: { cookie } }));
      expect(await response.json()).toMatchObject({ user: { id: "user-1" } });
    });
  }

  it("reads a cookie in the first field followed by another field", async () => {
    const { auth } = createTestHandler();
    const { jar } = await signIn(auth.handler);
    const cookie = `${NAME}=${jar.cookies.get(NAME)!}, theme=dark`;
    expect(await (await auth.handler(get("/session", undefined, { cookie }))).json()).toMatchObject({ user: { id: "user-1" } });
  });
});

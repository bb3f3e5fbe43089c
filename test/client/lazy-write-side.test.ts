import { afterEach, describe, expect, it, vi } from "vitest";
import { createFakeEnv } from "./fake-env.ts";

// The write side (sign-in, sign-out, update, session management) is a chunk of its own, loaded on the first such
// call. Here its loading is made to fail the way a chunk does after a deploy removed it or while offline.
describe("the write side, loaded on demand", () => {
  afterEach(() => {
    vi.doUnmock("../../src/client/operations.ts");
    vi.resetModules();
  });

  it("a failed load rejects that call only: the next call loads it again and the write goes through", { timeout: 30_000 }, async () => {
    let available = false;
    let loads = 0;
    vi.resetModules();
    vi.doMock("../../src/client/operations.ts", async (importOriginal) => {
      loads++;
      if (!available) throw new TypeError("Failed to fetch dynamically imported module");
      return importOriginal();
    });
    const { createSessionClient } = await import("../../src/client/index.ts");
    const { env, time, server } = createFakeEnv();
    const initialSession = server.signInDirectly();
    const client = createSessionClient({ basePath: "http://localhost/api/auth", refetchInterval: 0, env, initialSession });
    client.subscribe(() => {});

    await expect(client.signOut({ redirect: false })).rejects.toThrow(); // vitest wraps the loader's error in its own
    expect(client.getSnapshot().status).toBe("authenticated"); // nothing half-done
    expect(server.state.requests).toEqual([]);

    available = true;
    const signedOut = client.signOut({ redirect: false });
    await vi.waitFor(() => expect(loads).toBe(2), { timeout: 20_000 });
    let done = false;
    void signedOut.finally(() => (done = true));
    await vi.waitFor(
      async () => {
        await time.advance(100);
        expect(done).toBe(true);
      },
      { timeout: 20_000, interval: 20 },
    );
    await signedOut;
    expect(client.getSnapshot().status).toBe("unauthenticated");

    // Loaded once per client: later calls do not import again.
    const update = client.update({ theme: "dark" }).catch((error: unknown) => error);
    await time.advance(1_000);
    expect(await update).toMatchObject({ code: "unauthenticated" });
    expect(loads).toBe(2);
    client.destroy();
  });

  it("calls made before the write side has loaded run in call order", { timeout: 30_000 }, async () => {
    vi.resetModules();
    const { createSessionClient } = await import("../../src/client/index.ts");
    const { env, time, server } = createFakeEnv();
    const initialSession = server.signInDirectly();
    const client = createSessionClient({ basePath: "http://localhost/api/auth", refetchInterval: 0, env, initialSession });
    client.subscribe(() => {});
    const order: string[] = [];
    const updated = client.update({ theme: "dark" }).then(() => order.push("update"));
    const signedOut = client.signOut({ redirect: false }).then(() => order.push("signOut"));
    // The module loads in real time (a busy machine takes seconds to transform it); simulated time moves meanwhile.
    await vi.waitFor(
      async () => {
        await time.advance(100);
        expect(order).toHaveLength(2);
      },
      { timeout: 20_000, interval: 20 },
    );
    await Promise.all([updated, signedOut]);
    expect(order).toEqual(["update", "signOut"]);
    expect(client.getSnapshot().status).toBe("unauthenticated");
    client.destroy();
  });
});

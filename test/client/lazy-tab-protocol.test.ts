import { afterEach, describe, expect, it, vi } from "vitest";
import type { TabLink } from "../../src/client/env.ts";
import type { SessionClient } from "../../src/client/types.ts";
import { createFakeEnv } from "./fake-env.ts";

// The tab protocol is a chunk of its own, loaded when a client links to the other tabs. Here its arrival is held
// back, made to fail, or made never to come, as a slow network, a deploy that removed the chunk, or a stalled
// request would; the promises must hold throughout: nothing polls twice, and the keep-alive never stops.
const PROTOCOL = "../../src/client/tab-protocol.ts";

function holdProtocol() {
  const gate = { loads: 0, fail: false, open: () => {} };
  const opened = new Promise<void>((resolve) => (gate.open = resolve));
  vi.doMock(PROTOCOL, async (importOriginal) => {
    gate.loads++;
    await opened;
    if (gate.fail) throw new TypeError("Failed to fetch dynamically imported module");
    return importOriginal();
  });
  return gate;
}

async function setup(options: { initialSession?: boolean; timeout?: number; refetchInterval?: number } = {}) {
  vi.resetModules();
  const gate = holdProtocol();
  const { createSessionClient } = await import("../../src/client/index.ts");
  const fake = createFakeEnv();
  const posts: unknown[] = [];
  let link: TabLink | undefined;
  fake.env.openTabLink = () => {
    fake.links.opened++;
    return (link = {
      post: (message) => void posts.push(message),
      onMessage() {},
      onLeadership: (listener) => listener(true),
      close: () => void fake.links.closed++,
    });
  };
  const initialSession = options.initialSession === false ? undefined : fake.server.signInDirectly();
  if (options.initialSession === false) fake.server.signInDirectly();
  const client = createSessionClient({
    basePath: "http://localhost/api/auth",
    refetchInterval: options.refetchInterval ?? 1,
    timeout: options.timeout,
    env: fake.env,
    initialSession,
  });
  const leaderEvents: boolean[] = [];
  client.on("leader", () => leaderEvents.push(client.getSnapshot().isLeader));
  const reads = () => fake.server.state.requests.filter((request) => request.path === "/session").length;
  return { ...fake, gate, client, posts, reads, leaderEvents, link: () => link };
}

/** Moves simulated time while the real module load completes. */
async function until(time: { advance: (ms: number) => Promise<void> }, check: () => void) {
  await vi.waitFor(
    async () => {
      await time.advance(10);
      check();
    },
    { timeout: 20_000, interval: 20 },
  );
}

describe("the tab protocol, loaded on demand", () => {
  const clients: SessionClient[] = [];
  afterEach(() => {
    clients.splice(0).forEach((client) => client.destroy());
    vi.doUnmock(PROTOCOL);
    vi.resetModules();
  });

  it("until it has loaded, a tab works alone and leads nothing (so nothing polls twice); then it joins and leads", { timeout: 30_000 }, async () => {
    const { gate, client, time, reads, links } = await setup();
    clients.push(client);
    client.subscribe(() => {});
    await time.advance(5_000);
    expect(gate.loads).toBe(1);
    expect(links.opened).toBe(1); // the link opens at once; it is used once the protocol is here
    expect(client.getSnapshot().isLeader).toBe(false);
    expect(reads()).toBe(0);

    gate.open();
    await until(time, () => expect(client.getSnapshot().isLeader).toBe(true));
    const before = reads();
    await time.advance(1_000);
    expect(reads()).toBe(before + 1); // the leader polls every interval
  });

  it("a failed load: the tab leads itself and keeps the session fresh, and the link it opened is closed", { timeout: 30_000 }, async () => {
    const { gate, client, time, reads, links } = await setup();
    clients.push(client);
    gate.fail = true;
    client.subscribe(() => {});
    gate.open();
    await until(time, () => expect(client.getSnapshot().isLeader).toBe(true));
    expect(links.closed).toBe(1);
    const before = reads();
    await time.advance(3_000);
    expect(reads()).toBe(before + 3);
  });

  it("a load that does not come within the request timeout: the tab leads itself until it does, then joins the election", { timeout: 30_000 }, async () => {
    const { gate, client, time, reads, leaderEvents } = await setup({ timeout: 2_000 });
    clients.push(client);
    client.subscribe(() => {});
    await time.advance(1_990);
    expect(client.getSnapshot().isLeader).toBe(false);
    await time.advance(10);
    expect(client.getSnapshot().isLeader).toBe(true);
    await time.advance(3_000);
    expect(reads()).toBeGreaterThanOrEqual(3); // the keep-alive does not wait for the chunk

    gate.open();
    // Joining, it gives up the lead it took on its own and takes it again only by election (here it wins).
    await until(time, () => expect(leaderEvents).toEqual([true, false, true]));
  });

  it("a state change made before the link was up is announced once it is", { timeout: 30_000 }, async () => {
    // No polling: whatever this tab posts on joining is the announcement, not a poll's answer.
    const { gate, client, time, posts } = await setup({ initialSession: false, refetchInterval: 0 });
    clients.push(client);
    client.subscribe(() => {});
    await time.advance(500); // the hello wait passes with nobody to answer: this tab reads the session itself
    expect(client.getSnapshot().status).toBe("authenticated");
    expect(posts).toEqual([]);

    gate.open();
    await until(time, () => expect(client.getSnapshot().isLeader).toBe(true)); // joined
    expect(posts).toEqual([expect.objectContaining({ type: "state", reason: "refresh", session: client.getSnapshot().data })]);
    expect(posts).not.toContainEqual(expect.objectContaining({ type: "hello" })); // it knows the session already
  });

  it("a loading tab that joins in time asks the other tabs first (hello)", { timeout: 30_000 }, async () => {
    const { gate, client, time, posts } = await setup({ initialSession: false, timeout: 60_000 });
    clients.push(client);
    gate.open();
    client.subscribe(() => {});
    await until(time, () => expect(posts).toContainEqual(expect.objectContaining({ type: "hello" })));
  });

  it("destroyed before the protocol arrived: the link is closed and nothing joins", { timeout: 30_000 }, async () => {
    const { gate, client, time, links, posts } = await setup();
    client.subscribe(() => {});
    await time.advance(100);
    client.destroy();
    gate.open();
    await until(time, () => expect(links.closed).toBe(1));
    await time.advance(5_000);
    expect(client.getSnapshot().isLeader).toBe(false);
    expect(posts).toEqual([]);
  });
});

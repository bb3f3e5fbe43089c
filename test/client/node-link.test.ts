import { afterEach, describe, expect, it } from "vitest";
import { createSessionClient, type SessionClient } from "../../src/client/index.ts";

const session = { user: { id: "u1" }, expires: "2030-01-01T00:00:00.000Z" };
const clients: SessionClient[] = [];
afterEach(() => clients.splice(0).forEach((client) => client.destroy()));

describe("the tab link outside a window", () => {
  it("Node's global BroadcastChannel and Web Locks link clients as tabs: five clients poll like one", async () => {
    expect(typeof window).toBe("undefined");
    expect(typeof BroadcastChannel).toBe("function");
    let requests = 0;
    const fetch = async () => (requests++, Response.json(session, { headers: { date: new Date().toUTCString() } }));
    const channelName = `node-link-${Math.random()}`;
    for (let i = 0; i < 5; i++) {
      const client = createSessionClient({ basePath: "http://localhost/api/auth", fetch, channelName, refetchInterval: 0.2, initialSession: session });
      client.subscribe(() => {});
      clients.push(client);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(clients.filter((client) => client.getSnapshot().isLeader)).toHaveLength(1);
    // One poller: about 1.5 s / 0.2 s ≈ 7 polls (five pollers would make ≈ 35).
    expect(requests).toBeGreaterThanOrEqual(4);
    expect(requests).toBeLessThanOrEqual(10);
  });
});

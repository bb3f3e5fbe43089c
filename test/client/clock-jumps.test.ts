import { describe, expect, it } from "vitest";
import { createBrowser } from "./harness.ts";

const SECOND = 1000;
const DAY = 86_400_000;

describe("wall-clock jumps", () => {
  it.each([
    ["set back a day", -DAY],
    ["set ahead a day", DAY],
  ])("with the browser's clock %s, polling goes on and a sign-out shows in every tab", async (_, jump) => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 3 }, () => browser.openTab({ refetchInterval: 2, initialSession }));
    await browser.time.advance(3 * SECOND);
    for (const tab of tabs) tab.setClockSkew(jump);
    const jumpedAt = browser.time.now();
    await browser.time.advance(15 * SECOND);
    expect(browser.server.sessionReads(jumpedAt)).toBeGreaterThanOrEqual(6);
    expect(browser.server.sessionReads(jumpedAt)).toBeLessThanOrEqual(8);
    for (const tab of tabs) expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", isStale: false });
    const out = tabs[1]!.client.signOut({ redirect: false });
    await browser.time.advance(1 * SECOND);
    await out;
    for (const tab of tabs) expect(tab.client.getSnapshot()).toMatchObject({ status: "unauthenticated", data: null });
  });

  it("runs back to the real time after running ahead: nothing stops", async () => {
    const browser = createBrowser();
    const initialSession = browser.server.signInDirectly();
    const tabs = Array.from({ length: 2 }, () => browser.openTab({ refetchInterval: 2, initialSession }));
    for (const tab of tabs) tab.setClockSkew(10 * 60_000);
    await browser.time.advance(5 * SECOND);
    for (const tab of tabs) tab.setClockSkew(0);
    const back = browser.time.now();
    await browser.time.advance(15 * SECOND);
    expect(browser.server.sessionReads(back)).toBeGreaterThanOrEqual(6);
    const out = tabs[0]!.client.signOut({ redirect: false });
    await browser.time.advance(1 * SECOND);
    await out;
    for (const tab of tabs) expect(tab.client.getSnapshot().status).toBe("unauthenticated");
  });

  it("a tab whose clock is a day ahead of the others neither flaps nor adds requests", async () => {
    for (const skew of [DAY, -DAY]) {
      const browser = createBrowser();
      const initialSession = browser.server.signInDirectly();
      const tabs = Array.from({ length: 3 }, () => browser.openTab({ refetchInterval: 2, initialSession }));
      tabs[2]!.setClockSkew(skew);
      const statuses: string[] = [];
      for (const tab of tabs) tab.client.subscribe(() => statuses.push(tab.client.getSnapshot().status));
      await browser.time.advance(20 * SECOND);
      expect(statuses.filter((status) => status !== "authenticated")).toEqual([]);
      expect(browser.server.sessionReads()).toBeLessThanOrEqual(11);
      for (const tab of tabs) expect(tab.client.getSnapshot()).toMatchObject({ status: "authenticated", isStale: false });
    }
  });
});

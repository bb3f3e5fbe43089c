import { describe, expect, it } from "vitest";
import { createFakeTime } from "./fake-time.ts";
import { createTabHub } from "./tab-hub.ts";

describe("the simulated browser's lock", () => {
  it("has one holder at a time, even for a caller arriving as the holder releases it", async () => {
    // The newcomer asks k microtasks after the first holder finishes: some k land between the release and the waiter resuming.
    for (let k = 0; k < 12; k++) {
      const time = createFakeTime();
      const withLock = createTabHub(time).env("tab").withLock!;
      let holders = 0;
      let most = 0;
      const hold = (until: Promise<unknown>) => async () => {
        most = Math.max(most, ++holders);
        await until;
        holders--;
      };
      let finishFirst!: () => void;
      const first = withLock("lock", 10_000, hold(new Promise<void>((resolve) => (finishFirst = resolve))));
      const waiter = withLock("lock", 10_000, hold(time.settle()));
      await time.settle();
      finishFirst();
      let chain = Promise.resolve();
      for (let i = 0; i < k; i++) chain = chain.then(() => {});
      const newcomer = chain.then(() => withLock("lock", 10_000, hold(time.settle())));
      await Promise.all([first, waiter, newcomer]);
      expect({ k, most }).toEqual({ k, most: 1 });
    }
  });
});

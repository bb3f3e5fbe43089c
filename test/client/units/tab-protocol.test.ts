import { describe, expect, it } from "vitest";
import type { Session } from "../../../src/shared/session.ts";
import { MAX_SEEN, type SessionReason, type StateMessage, type TabMessage } from "../../../src/client/messages.ts";
import type { ClientEnv } from "../../../src/client/env.ts";
import type { ReadRequest, Reader } from "../../../src/client/reader.ts";
import { readSession } from "../../../src/client/session-shape.ts";
import { createTabProtocol } from "../../../src/client/tab-protocol.ts";
import type { SessionSnapshot } from "../../../src/client/types.ts";

const ada: Session = { user: { name: "Ada" }, expires: "2026-12-28T10:00:00.000Z" };
const bob: Session = { user: { name: "Bob" }, expires: "2026-12-28T10:00:00.000Z" };
const THROTTLE = 5_000;
const TIMEOUT = 10_000;

const state = (id: string, session: Session | null, fields: Record<string, unknown> = {}) => ({
  v: 2,
  type: "state",
  id,
  reason: "sync",
  session,
  seen: [],
  ...fields,
});

/** A posted message without what the protocol stamps on every one (the version and a fresh id). */
const body = ({ v: _v, id: _id, ...message }: TabMessage) => message;

/** A tab showing Ada, on a monotonic clock the test sets, with every hook recorded. */
function setup(shown: Partial<SessionSnapshot> = {}, tryLock?: ClientEnv["tryLock"]) {
  const clock = { now: 0 };
  const posts: TabMessage[] = [];
  const applied: { session: Session | null; reason: SessionReason; writeId: string | undefined }[] = [];
  const heard: (boolean | undefined)[] = [];
  const refreshes: (ReadRequest | undefined)[] = [];
  const timer: { at?: number; run?: (() => void) | undefined } = {};
  const snapshot: SessionSnapshot = { status: "authenticated", data: ada, error: null, isStale: false, updatedAt: 0, isLeader: true, ...shown };
  let seed = 1;
  const protocol = createTabProtocol(
    { monotonic: () => clock.now, random: () => (seed = (seed * 16807) % 2147483647) / 2147483647, tryLock },
    { throttle: THROTTLE, timeout: TIMEOUT },
    {
      shown: () => snapshot,
      send: (message) => void posts.push(message),
      apply: (session, reason, _server, writeId) => void applied.push({ session, reason, writeId }),
      showFailure: () => {},
      heard: (polling) => void heard.push(polling),
      refresh: (request) => (refreshes.push(request), Promise.resolve()),
      serverTime: () => undefined,
      checkTimer: (at, run) => Object.assign(timer, { at, run }),
      readSession,
    },
  );
  return { clock, posts, applied, heard, refreshes, timer, protocol };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe("createTabProtocol", () => {
  it("answers a hello with its state and an empty write list before any write", () => {
    const { protocol, posts } = setup();
    protocol.onMessage({ v: 2, type: "hello", id: "h1" });
    expect(posts.map(body)).toEqual([{ type: "state", reason: "sync", session: ada, seen: [], server: undefined }]);
  });

  it("stamps every message it posts with the protocol version and a fresh id", () => {
    const { protocol, posts } = setup();
    protocol.post({ type: "poll" });
    protocol.post({ type: "poll" });
    expect(posts).toEqual([
      { v: 2, id: expect.stringMatching(/^[0-9a-z]{8,20}$/), type: "poll" },
      { v: 2, id: expect.stringMatching(/^[0-9a-z]{8,20}$/), type: "poll" },
    ]);
    expect(posts[0]!.id).not.toBe(posts[1]!.id);
  });

  it("leaves a hello unanswered unless it leads and has an answer to give", () => {
    for (const shown of [{ isLeader: false }, { isLeader: true, status: "loading" as const, data: null }]) {
      const { protocol, posts } = setup(shown);
      protocol.onMessage({ v: 2, type: "hello", id: "h1" });
      expect(posts).toEqual([]);
    }
  });

  it("counts every write and lists only the latest MAX_SEEN of them", () => {
    const { protocol, posts } = setup();
    for (let i = 1; i <= MAX_SEEN + 1; i++) protocol.remember(`r${i}`);
    expect(protocol.writes).toBe(MAX_SEEN + 1);
    protocol.announce(ada, "refresh");
    expect(posts.at(-1)).toMatchObject({ seen: Array.from({ length: MAX_SEEN }, (_, i) => `r${i + 2}`) });
  });

  it("lists all writes while there are at most MAX_SEEN", () => {
    const { protocol, posts } = setup();
    for (let i = 1; i <= MAX_SEEN; i++) protocol.remember(`r${i}`);
    protocol.onMessage({ v: 2, type: "hello", id: "h1" });
    expect(posts.at(-1)).toMatchObject({ seen: Array.from({ length: MAX_SEEN }, (_, i) => `r${i + 1}`) });
  });

  it("holds an announced change of user until a read confirms it, and counts a read's confirmation as no write", () => {
    const { protocol, applied } = setup();
    protocol.onMessage(state("m1", bob));
    expect(protocol.held?.id).toBe("m1");
    expect(applied).toEqual([]);
    protocol.onMessage(state("v1", bob, { reason: "verify", re: "m1" }));
    expect(protocol.held).toBeUndefined();
    expect(applied).toEqual([{ session: bob, reason: "verify", writeId: undefined }]);
    expect(protocol.writes).toBe(0);
    expect(protocol.dropped).toBe(0);
  });

  it("remembers a confirmed announced write as a write", () => {
    const { protocol, posts } = setup();
    protocol.onMessage(state("m1", bob, { reason: "signin" }));
    protocol.onMessage(state("v1", bob, { reason: "verify", re: "m1" }));
    expect(protocol.writes).toBe(1);
    protocol.onMessage({ v: 2, type: "hello", id: "h1" });
    expect(posts.at(-1)).toMatchObject({ seen: ["m1"] });
  });

  it("counts a held change superseded before its check as dropped, and only then", () => {
    const { protocol } = setup();
    protocol.onMessage(state("m1", bob));
    expect(protocol.dropped).toBe(0);
    protocol.onMessage(state("m2", null));
    expect(protocol.held?.id).toBe("m2");
    expect(protocol.dropped).toBe(1);
  });

  it("does not take a state naming the held change as an answer to its check unless it is a verify", () => {
    const { protocol, applied } = setup();
    protocol.onMessage(state("m1", bob));
    protocol.onMessage(state("m2", ada, { re: "m1" }));
    expect(protocol.held?.id).toBe("m1");
    expect(applied).toEqual([{ session: ada, reason: "sync", writeId: undefined }]);
  });

  it("does not take a verify answering another check as the held change's check", () => {
    const { protocol } = setup();
    protocol.onMessage(state("m1", bob));
    protocol.onMessage(state("v1", ada, { reason: "verify", re: "m0" }));
    expect(protocol.held?.id).toBe("m1");
  });

  it("checks a held change with a read of its own when no reader is attached", async () => {
    const { protocol, timer, refreshes } = setup();
    protocol.onMessage(state("m1", bob));
    expect(timer.at).toBe(-Infinity); // nothing refuted yet: check at once
    timer.run?.();
    await flush();
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]?.stillNeeded?.()).toBe(true);
  });

  it("checks a held change only after the read already on its way", async () => {
    const { protocol, timer, refreshes } = setup();
    let finish = () => {};
    const onItsWay = new Promise<void>((resolve) => (finish = resolve));
    const asked: (StateMessage | undefined)[] = [];
    const reader = {
      sentWithout: (mark: StateMessage | undefined) => (asked.push(mark), onItsWay),
    } as Partial<Reader<StateMessage | undefined>> as Reader<StateMessage | undefined>;
    protocol.use(reader);
    protocol.onMessage(state("m1", bob));
    timer.run?.();
    await flush();
    expect(asked.map((mark) => mark?.id)).toEqual(["m1"]);
    expect(refreshes).toEqual([]);
    finish();
    await flush();
    expect(refreshes).toHaveLength(1);
  });

  it("drops a read that does not list this tab's latest write only within a request timeout and a second of it", () => {
    const { protocol, clock, applied } = setup();
    protocol.remember("w0");
    clock.now = TIMEOUT;
    protocol.onMessage(state("m1", ada));
    expect(applied).toEqual([]);
    protocol.onMessage(state("m2", ada, { seen: ["w0"] }));
    expect(applied).toEqual([{ session: ada, reason: "sync", writeId: undefined }]);
    clock.now = TIMEOUT + 1_000;
    protocol.onMessage(state("m3", ada));
    expect(applied).toHaveLength(2);
  });

  it("converges through the server at most once per throttle window on messages it cannot read", () => {
    const { protocol, clock, refreshes } = setup();
    const unreadable = { v: 3, type: "state", id: "x" };
    protocol.onMessage(unreadable);
    expect(refreshes).toHaveLength(1);
    clock.now = THROTTLE - 1;
    protocol.onMessage(unreadable);
    expect(refreshes).toHaveLength(1);
    clock.now = THROTTLE;
    protocol.onMessage(unreadable);
    expect(refreshes).toHaveLength(2);
    expect(protocol.dropped).toBe(3);
  });

  it("tells whether the polling tab was heard sending a read or with an answer", () => {
    const { protocol, heard } = setup();
    protocol.onMessage({ v: 2, type: "poll", id: "p1" });
    protocol.onMessage(state("m1", ada));
    protocol.onMessage({ v: 2, type: "failure", id: "f1", code: "network" });
    expect(heard).toEqual([true, false, false]);
  });

  it("announces a read that was not the held change's check as a plain read, leaving the change held", () => {
    const { protocol, posts } = setup();
    protocol.onMessage(state("m1", bob));
    expect(protocol.announce(ada, "refresh", undefined)).toBe("local");
    expect(posts.map(body)).toEqual([{ type: "state", reason: "refresh", session: ada, seen: [], server: undefined }]);
    expect(protocol.held?.id).toBe("m1");
    expect(protocol.dropped).toBe(0);
  });

  it("announces a write as that write whatever read mark comes with it", () => {
    const { protocol, posts } = setup();
    protocol.onMessage(state("m1", bob));
    expect(protocol.announce(ada, "update", protocol.held)).toBe("local");
    const writeId = posts[0]!.id;
    expect(posts).toEqual([{ v: 2, type: "state", id: writeId, reason: "update", session: ada, seen: [writeId], server: undefined }]);
    expect(protocol.held).toBeUndefined();
    expect(protocol.dropped).toBe(0);
  });

  it("announces the held change's check as a verify that confirms it", () => {
    const { protocol, posts } = setup();
    protocol.onMessage(state("m1", bob));
    expect(protocol.announce(bob, "refresh", protocol.held)).toBe("remote");
    expect(posts.map(body)).toEqual([{ type: "state", reason: "verify", session: bob, seen: [], server: undefined, re: "m1" }]);
    expect(protocol.writes).toBe(0);
  });

  describe("standing in for a silent leader", () => {
    const readerOf = (sent: boolean) => {
      const standIns: number[] = [];
      const reader = { sent, standIn: () => (standIns.push(1), Promise.resolve()) } as unknown as Reader<StateMessage | undefined>;
      return { reader, standIns };
    };

    it("reads without the read lock once it holds the standby lock, if the leader is still silent then", async () => {
      const lockNames: string[] = [];
      const { protocol, heard } = setup({ isLeader: false }, async (name, _ms, task) => (lockNames.push(name), await task(), true));
      const { reader, standIns } = readerOf(false);
      protocol.use(reader);
      protocol.standby(() => true);
      await flush();
      expect(lockNames).toEqual(["sessionpulse:standby"]);
      expect(standIns).toHaveLength(1);
      expect(heard).toEqual([]);
    });

    it("does not read when the leader spoke while it waited for the standby lock", async () => {
      const { protocol } = setup({ isLeader: false }, async (_name, _ms, task) => (await task(), true));
      const { reader, standIns } = readerOf(false);
      protocol.use(reader);
      protocol.standby(() => false);
      await flush();
      expect(standIns).toEqual([]);
    });

    it("gives the follower that holds the standby lock a period, keeping what it knew of the poll in flight", async () => {
      const { protocol, heard } = setup({ isLeader: false }, () => Promise.resolve(false));
      const { reader, standIns } = readerOf(false);
      protocol.use(reader);
      protocol.standby(() => true);
      await flush();
      expect(standIns).toEqual([]);
      expect(heard).toEqual([undefined]);
    });

    it("stands aside while its own read is on its way (its answer re-arms the timers)", async () => {
      let locks = 0;
      const { protocol } = setup({ isLeader: false }, async (_name, _ms, task) => (locks++, await task(), true));
      const { reader, standIns } = readerOf(true);
      protocol.use(reader);
      protocol.standby(() => true);
      await flush();
      expect([locks, standIns.length]).toEqual([0, 0]);
    });

    it("reads at once where there are no locks", async () => {
      const { protocol } = setup({ isLeader: false });
      const { reader, standIns } = readerOf(false);
      protocol.use(reader);
      protocol.standby(() => true);
      await flush();
      expect(standIns).toHaveLength(1);
    });
  });
});

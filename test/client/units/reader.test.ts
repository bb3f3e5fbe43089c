import { describe, expect, it } from "vitest";
import type { Session } from "../../../src/shared/session.ts";
import type { ClientEnv } from "../../../src/client/env.ts";
import { createReader, type ReadRequest } from "../../../src/client/reader.ts";
import type { Transport } from "../../../src/client/transport.ts";
import { createFakeTime } from "../fake-time.ts";

const ada: Session = { user: { name: "Ada" }, expires: "2026-12-28T10:00:00.000Z" };
const TIMEOUT = 10_000;

interface Request {
  signal: AbortSignal | undefined;
  answer: (session: Session | null) => void;
  reject: (error: unknown) => void;
}

/**
 * A reader on fake time with a transport whose requests the test answers, and a browser-wide lock that
 * is open unless the test closes it. `afterTask` runs inside the lock once the first task is done.
 */
function setup({ locked = true, afterTask }: { locked?: boolean; afterTask?: () => void } = {}) {
  const time = createFakeTime();
  const requests: Request[] = [];
  const locks: { name: string; maxHoldMs: number }[] = [];
  const failures: unknown[] = [];
  const answers: { session: Session | null; mark: string }[] = [];
  const settled = { count: 0 };
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  let tasks = 0;
  const env: ClientEnv = {
    now: time.now,
    monotonic: time.now,
    setTimeout: time.setTimeout,
    clearTimeout: time.clearTimeout,
    random: () => 0.5,
    fetch: () => Promise.reject(new Error("no fetch here")),
    isVisible: () => true,
    onFocus: () => () => {},
    isOnline: () => true,
    onOnline: () => () => {},
    navigate: () => {},
    href: () => undefined,
    async withLock<T>(name: string, maxHoldMs: number, task: () => Promise<T>): Promise<T> {
      locks.push({ name, maxHoldMs });
      await gate;
      const result = await task();
      if (tasks++ === 0) afterTask?.();
      return result;
    },
  };
  const transport = {
    session: (signal?: AbortSignal) =>
      new Promise<{ body: Session | null; server: undefined }>((resolve, reject) => {
        signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        requests.push({ signal, answer: (body) => resolve({ body, server: undefined }), reject });
      }),
  } as Partial<Transport> as Transport;
  let marks = 0;
  const reader = createReader<string>(env, transport, TIMEOUT, {
    locked: () => locked,
    writes: () => 0,
    sending: () => `mark${++marks}`,
    answered: (session, _server, _startedAt, mark) => void answers.push({ session, mark }),
    failed: (error) => void failures.push(error),
    settled: () => void settled.count++,
  });
  return {
    time,
    reader,
    requests,
    locks,
    failures,
    answers,
    settled,
    closeLock: () => void (gate = new Promise<void>((resolve) => (open = resolve))),
    openLock: () => open(),
  };
}

describe("createReader", () => {
  it("settles after every read, sent, skipped (no longer needed after the lock wait), failed or abandoned: the timers are re-armed each time (item 4b)", async () => {
    const { reader, requests, time, settled, closeLock, openLock, failures } = setup();
    // Sent and answered.
    const answered = reader.refresh();
    await time.settle();
    requests[0]!.answer(ada);
    await answered;
    expect(settled.count).toBe(1);
    // Queued on the lock, then no longer needed: nothing is sent, and still it settles.
    closeLock();
    const skipped = reader.refresh({ stillNeeded: () => false });
    await time.advance(50);
    openLock();
    await time.advance(50);
    await skipped;
    expect(requests).toHaveLength(1);
    expect(settled.count).toBe(2);
    // Failed.
    const failing = reader.refresh();
    await time.settle();
    requests[1]!.reject(new Error("offline"));
    await failing;
    expect(failures).toHaveLength(1);
    expect(settled.count).toBe(3);
    // Abandoned by a write.
    const abandoned = reader.refresh();
    await time.settle();
    reader.abort();
    await abandoned;
    expect(settled.count).toBe(4);
  });

  it("takes the browser-wide refresh lock, held at most a request timeout and a second", async () => {
    const { reader, requests, locks, time } = setup();
    const read = reader.refresh();
    await time.settle();
    expect(locks).toEqual([{ name: "sessionpulse:refresh", maxHoldMs: TIMEOUT + 1_000 }]);
    requests[0]!.answer(ada);
    await read;
  });

  it("reads without the lock when the tab is not linked to others", async () => {
    const { reader, requests, locks, time } = setup({ locked: false });
    const read = reader.refresh();
    await time.settle();
    expect(requests).toHaveLength(1);
    expect(locks).toEqual([]);
    requests[0]!.answer(ada);
    await read;
  });

  it("stands in without the lock, even while another read is queued on it", async () => {
    const { reader, requests, locks, time, closeLock, openLock, answers } = setup();
    closeLock();
    const queued = reader.refresh();
    const standIn = reader.standIn();
    await time.settle();
    expect(locks).toHaveLength(1); // the queued read only
    expect(requests).toHaveLength(1);
    requests[0]!.answer(ada);
    await standIn;
    expect(answers).toEqual([{ session: ada, mark: "mark1" }]);
    // The queued read it replaced is dropped once the lock is granted.
    openLock();
    await queued;
    expect(requests).toHaveLength(1);
  });

  it("sends a joined read when any caller still needs it", async () => {
    const { reader, requests, time, closeLock, openLock } = setup();
    closeLock();
    const first = reader.refresh({ stillNeeded: () => false });
    const second = reader.refresh({ stillNeeded: () => true });
    expect(second).toBe(first);
    openLock();
    await time.settle();
    expect(requests).toHaveLength(1);
    requests[0]!.answer(ada);
    await first;
  });

  it("sends a joined read when a caller that joins it gives no reason (it always needs one)", async () => {
    const { reader, requests, time, closeLock, openLock, failures } = setup();
    closeLock();
    const first = reader.refresh({ stillNeeded: () => false });
    const second = reader.refresh();
    openLock();
    await time.settle();
    expect(requests).toHaveLength(1);
    expect(failures).toEqual([]);
    requests[0]!.answer(ada);
    await Promise.all([first, second]);
  });

  it("skips a queued read no caller needs any more", async () => {
    const { reader, requests, closeLock, openLock } = setup();
    closeLock();
    const first = reader.refresh({ stillNeeded: () => false });
    const second = reader.refresh({ stillNeeded: () => false });
    openLock();
    await Promise.all([first, second]);
    expect(requests).toEqual([]);
  });

  it("says a read is sent only while its request is on its way", async () => {
    const { reader, requests, time, closeLock, openLock } = setup();
    expect(reader.sent).toBe(false);
    closeLock();
    const read = reader.refresh();
    expect(reader.sent).toBe(false); // queued on the lock, not sent
    openLock();
    await time.settle();
    expect(requests).toHaveLength(1);
    expect(reader.sent).toBe(true);
    requests[0]!.answer(ada);
    await read;
    expect(reader.sent).toBe(false);
  });

  it("hands out the read on its way unless it went out with the given mark", async () => {
    const { reader, requests, time, closeLock, openLock } = setup();
    expect(reader.sentWithout("mark1")).toBeUndefined();
    closeLock();
    const read = reader.refresh();
    expect(reader.sentWithout("other")).toBeUndefined(); // not sent yet: nothing to wait for
    openLock();
    await time.settle();
    expect(reader.sentWithout("other")).toBe(read);
    expect(reader.sentWithout("mark1")).toBeUndefined();
    requests[0]!.answer(ada);
    await read;
    expect(reader.sentWithout("other")).toBeUndefined();
  });

  it("gives a caller arriving as a skipped read ends a read of its own", async () => {
    let sentAtSkip: boolean | undefined;
    let later: Promise<void> | undefined;
    const { reader, requests, time } = setup({
      afterTask: () => {
        sentAtSkip = reader.sent;
        later = reader.refresh();
      },
    });
    await reader.refresh({ stillNeeded: () => false });
    await time.settle();
    expect(sentAtSkip).toBe(false);
    expect(requests).toHaveLength(1);
    requests[0]!.answer(ada);
    await later;
  });

  it("does not report a read it aborted as a failure", async () => {
    const { reader, requests, time, failures } = setup();
    const read = reader.refresh();
    await time.settle();
    expect(requests).toHaveLength(1);
    reader.abort();
    await read;
    expect(requests[0]!.signal?.aborted).toBe(true);
    expect(failures).toEqual([]);
  });

  it("reports a read that failed on its own", async () => {
    const { reader, requests, time, failures } = setup();
    const read = reader.refresh();
    await time.settle();
    const error = new Error("offline");
    requests[0]!.reject(error);
    await read;
    expect(failures).toEqual([error]);
  });

  it("waits for a read already sent before a fresh call, then reads again", async () => {
    const { reader, requests, time } = setup();
    const first = reader.refresh();
    await time.settle();
    await time.advance(5);
    const fresh = reader.refresh({ fresh: true } satisfies ReadRequest);
    requests[0]!.answer(ada);
    await first;
    await time.settle();
    expect(requests).toHaveLength(2);
    requests[1]!.answer(ada);
    await fresh;
  });
});

import type { Session } from "../shared/session.js";
import type { ClientEnv } from "./env.js";
import type { Transport } from "./transport.js";

/** Pause, after a read waited for the lock, before it asks whether it is still needed, ms. */
const LOCK_SETTLE = 10;
const REFRESH_LOCK = "sessionpulse:refresh";

export interface ReadRequest {
  /** Asked once the lock is held: another tab may have brought the answer meanwhile. */
  stillNeeded?: () => boolean;
  /** Hold the browser-wide read lock (default): one tab reads at a time. A standby read skips it (a hung leader may hold it). */
  lock?: boolean;
  /** Never join a read whose request went out before this call: wait for it, then read again. */
  fresh?: boolean;
}

export interface ReaderHooks<Mark> {
  /** Whether reads take the browser-wide lock (only when linked to other tabs). */
  locked: () => boolean;
  /** Writes applied so far (this tab's or announced): an answer to a request sent before one is not used. */
  writes: () => number;
  /** The request is going out; what it returns comes back with the answer (the announced change it can confirm). */
  sending: () => Mark;
  answered: (session: Session | null, server: { time: number; at: number } | undefined, startedAt: number, mark: Mark) => void;
  failed: (error: unknown) => void;
  /** After every read, sent or skipped: the timers must be re-armed (a skipped poll must not leave none). */
  settled: () => void;
}

/**
 * `GET /session` for this tab: one read at a time, shared by concurrent
 * callers, serialised across tabs by a lock, abandoned when a write starts.
 */
export function createReader<Mark>(env: ClientEnv, transport: Transport, timeout: number, hooks: ReaderHooks<Mark>) {
  let reading: Promise<void> | undefined;
  /** When the read in flight went out (monotonic): Infinity until decided, -Infinity when it was skipped. */
  let sentAt = Infinity;
  let mark: Mark | undefined;
  /** Why the read not sent yet is wanted, one predicate per caller: it goes out if any still holds. */
  let needs: Array<() => boolean> = [];
  let abort: AbortController | undefined;
  const always = () => true;

  async function read({ stillNeeded, lock = true }: ReadRequest): Promise<void> {
    const wanted = (needs = [stillNeeded ?? always]);
    const controller = (abort = new AbortController());
    sentAt = Infinity;
    const askedAt = env.monotonic();
    const task = async () => {
      const startedAt = env.monotonic();
      // Tabs that open or focus together queue on the lock; a grant after a wait can arrive before the channel
      // message with the previous holder's answer, so let that land before asking whether a read is still needed.
      if (startedAt > askedAt) await new Promise<void>((resolve) => env.setTimeout(resolve, LOCK_SETTLE));
      // A write since this read was queued aborted it: an abort listener added now would never fire.
      if (controller.signal.aborted || !wanted.some((needed) => needed())) return void (sentAt = -Infinity);
      const writesBefore = hooks.writes();
      try {
        sentAt = env.monotonic();
        mark = hooks.sending();
        const { body, server } = await transport.session(controller.signal);
        // A write applied since the request went out (here or in another tab) may be newer than this answer.
        if (hooks.writes() === writesBefore) hooks.answered(body, server, startedAt, mark);
      } catch (error) {
        if (!controller.signal.aborted) hooks.failed(error);
      }
    };
    await (lock && hooks.locked() && env.withLock ? env.withLock(REFRESH_LOCK, timeout + 1_000, task) : task()).catch(hooks.failed);
  }

  const start = (request: ReadRequest) => (reading = read(request).finally(() => ((reading = undefined), hooks.settled())));

  function refresh(request: ReadRequest = {}): Promise<void> {
    if (reading) {
      // Not decided yet: join it, adding this caller's reason to need it.
      if (sentAt === Infinity) return (needs.push(request.stillNeeded ?? always), reading);
      // Skipped, or already on its way before a `fresh` call: wait for it, then decide again.
      if (sentAt === -Infinity || (request.fresh && sentAt < env.monotonic())) return reading.then(() => refresh(request));
      return reading;
    }
    return start(request);
  }
  const sent = () => reading !== undefined && sentAt !== Infinity && sentAt !== -Infinity;

  return {
    refresh,
    /** A read without the lock, replacing one still queued for it (the tab holding the lock may be hung). */
    standIn(): Promise<void> {
      abort?.abort();
      return start({ lock: false });
    },
    /** Whether a request is on its way now. */
    get sent() {
      return sent();
    },
    /** The read on its way, unless it went out with `current` as its mark (then its answer can speak for it). */
    sentWithout: (current: Mark): Promise<void> | undefined => (sent() && mark !== current ? reading : undefined),
    abort: () => abort?.abort(),
  };
}

export type Reader<Mark> = ReturnType<typeof createReader<Mark>>;

import type { Session } from "../shared/session.js";
import type { ClientEnv } from "./env.js";
import type { SessionErrorCode } from "./errors.js";
import {
  identityOf,
  isWrite,
  MAX_SEEN,
  PROTOCOL_VERSION,
  readMessage,
  type OutgoingMessage,
  type SessionReason,
  type StateMessage,
  type TabMessage,
} from "./messages.js";
import type { ReadRequest, Reader } from "./reader.js";
import type { readSession } from "./session-shape.js";
import type { SessionSnapshot } from "./types.js";

// A chunk of its own: the client loads it when it links to the other tabs (see `join` in client.ts). It imports
// nothing the client's first chunk also needs (what it shares comes in through the hooks), so bundlers split no
// small shared chunk off that first chunk.

/** Held by the one follower that reads for a leader gone silent. */
const STANDBY_LOCK = "sessionpulse:standby";

export interface TabProtocolHooks {
  shown: () => SessionSnapshot;
  /** Posts on the tab link. */
  send: (message: TabMessage) => void;
  /** Shows an answer another tab announced (and this tab accepted). */
  apply: (session: Session | null, reason: SessionReason, server: number | undefined, writeId: string | undefined) => void;
  /** Shows the polling tab's failure. */
  showFailure: (code: SessionErrorCode, status: number | undefined) => void;
  /** The polling tab was heard from; `polling`: its read is on its way (undefined: as it was). */
  heard: (polling?: boolean) => void;
  refresh: (request?: ReadRequest) => Promise<unknown>;
  /** The server's time to hand to another tab, if this tab has a reading of its own. */
  serverTime: () => number | undefined;
  /** Arms a one-shot timer at a monotonic instant (`Infinity` disarms it). */
  checkTimer: (at: number, run?: () => void) => void;
  /** The client's check of a session's wire shape, the one its server answers pass (`readSession`). */
  readSession: typeof readSession;
}

/**
 * What the tabs tell each other, and what a tab believes of it. The channel is
 * for speed, not authority: any script of the origin can post on it. A change
 * of who is signed in (another user, signed in ↔ out) or an earlier expiry is
 * shown only once a read confirms it; the tabs share that read through the
 * lock and every tab hears its answer. A read that may predate a write this
 * tab has seen is not shown. A follower stands in for a leader gone silent.
 */
export function createTabProtocol(
  env: Pick<ClientEnv, "monotonic" | "random" | "tryLock">,
  { throttle, timeout }: { throttle: number; timeout: number },
  hooks: TabProtocolHooks,
) {
  const mono = () => env.monotonic();
  const newId = () => (env.random().toString(36).slice(2, 12) + env.random().toString(36).slice(2, 12)).padEnd(8, "0");
  const post = (message: OutgoingMessage) => hooks.send({ v: PROTOCOL_VERSION, id: newId(), ...message });
  let lastWrite: string | null = null;
  let lastWriteAt = -Infinity;
  const recentWrites: string[] = [];
  let writes = 0;
  /** An identity change announced over the channel, shown only once a read confirms it. */
  let held: StateMessage | undefined;
  /** When a check last refuted an announced change: the next check waits a throttle window after it (a forger re-posting costs one read per window). */
  let refutedAt = -Infinity;
  let dropped = 0;
  let lastDropRefresh = -Infinity;
  let reader: Reader<StateMessage | undefined> | undefined;

  function remember(writeId: string) {
    lastWrite = writeId;
    lastWriteAt = mono();
    recentWrites.push(writeId);
    if (recentWrites.length > MAX_SEEN) recentWrites.shift();
    writes++;
  }

  /** A check of the held message came back with `session`: it confirms the change or refutes it. */
  function settle(message: StateMessage, session: Session | null) {
    held = undefined;
    if (identityOf(session) === identityOf(message.session)) {
      if (isWrite(message.reason)) remember(message.id);
    } else {
      dropped++;
      refutedAt = mono();
    }
  }

  function needsCheck(session: Session | null) {
    const { status, data } = hooks.shown();
    // A new page takes another tab's signed-in state at once (the common case, no request). "Signed out" it
    // checks: a page load is when a sign-in by navigation (a magic link, an OAuth callback) lands, which
    // the other tabs cannot know of yet; signed-out tabs do not poll, so nothing else would correct it.
    if (status === "loading") return session === null;
    if (identityOf(session) !== identityOf(data)) return true;
    return !!session && !!data && Date.parse(session.expires) < Date.parse(data.expires);
  }

  function hold(message: StateMessage) {
    if (held) dropped++; // superseded before it was checked
    held = message;
    const check = () => held === message;
    // A read already out went before this message and cannot confirm it: wait for it, then read again.
    const verify = () => check() && void (reader?.sentWithout(message) ?? Promise.resolve()).then(() => hooks.refresh({ stillNeeded: check }));
    hooks.checkTimer(refutedAt + throttle, verify);
  }

  function receive(message: StateMessage) {
    const { reason, seen, session } = message;
    if (reason === "verify" && held && message.re === held.id) {
      settle(held, session);
      return hooks.apply(session, reason, message.server, undefined);
    }
    if (needsCheck(session)) return hold(message);
    // A read whose sender had not seen this tab's latest write may be older than it, if it went out before
    // that write: then it arrives within a request timeout of it. (Tabs may see concurrent writes in
    // different orders, so after that window a read is taken whatever it lists.)
    if (!isWrite(reason) && lastWrite !== null && !seen.includes(lastWrite) && mono() - lastWriteAt < timeout + 1_000) return;
    hooks.apply(session, reason, message.server, isWrite(reason) ? message.id : undefined);
  }

  function onMessage(raw: unknown) {
    const verdict = readMessage(raw, hooks.readSession);
    if (!verdict.ok) {
      dropped++;
      // Something that looked like ours but failed validation (a newer client version, or a forgery):
      // the leader converges through the server, at most once per throttle window; the others hear its answer.
      if (verdict.ours && hooks.shown().isLeader && mono() - lastDropRefresh >= throttle) {
        lastDropRefresh = mono();
        void hooks.refresh();
      }
      return;
    }
    const message = verdict.message;
    if (message.type === "hello") {
      const { isLeader, status, data } = hooks.shown();
      if (isLeader && status !== "loading") post({ type: "state", reason: "sync", session: data, seen: recentWrites, server: hooks.serverTime() });
      return;
    }
    hooks.heard(message.type === "poll");
    if (message.type === "state") receive(message);
    else if (message.type === "failure") hooks.showFailure(message.code, message.status);
  }

  return {
    /** Lets announced changes wait for a read already on its way. */
    use(readerOfTab: Reader<StateMessage | undefined>) {
      reader = readerOfTab;
    },
    onMessage,
    /** Posts one of this tab's own messages (`poll`, `failure`, `hello`). */
    post,
    /**
     * The leader went silent (its page hung, say): one follower reads instead, without the read lock the leader
     * may hold, if `stillSilent` once it holds the standby lock; the others give it a period.
     */
    standby(stillSilent: () => boolean) {
      if (reader?.sent) return; // this tab's own read is out; its answer re-arms the timers
      const task = async () => {
        if (stillSilent()) await reader?.standIn();
      };
      if (!env.tryLock) return void task();
      void env.tryLock(STANDBY_LOCK, timeout + 1_000, task).then((ran) => ran || hooks.heard());
    },
    /**
     * Announces this tab's own server answer (a read sent with `mark`, or a write's outcome) and returns who
     * caused the change: `remote` when the read confirmed another tab's announced change.
     */
    announce(session: Session | null, reason: SessionReason, mark?: StateMessage): "local" | "remote" {
      const checks = !isWrite(reason) && held && mark === held ? held : undefined;
      if (isWrite(reason)) {
        remember(newId());
        held = undefined; // this tab's own write is newer than anything announced before it
      }
      if (checks) settle(checks, session);
      post({
        type: "state",
        ...(isWrite(reason) && { id: lastWrite! }),
        reason: checks ? "verify" : reason,
        session,
        seen: recentWrites,
        server: hooks.serverTime(),
        ...(checks && { re: checks.id }),
      });
      return checks ? "remote" : "local";
    },
    remember,
    /** Writes applied so far, this tab's and announced ones. */
    get writes() {
      return writes;
    },
    get held() {
      return held;
    },
    get dropped() {
      return dropped;
    },
  };
}

export type TabProtocol = ReturnType<typeof createTabProtocol>;
export type TabProtocolModule = { createTabProtocol: typeof createTabProtocol };

import type { ClientEnv, TabLink } from "../../src/client/env.ts";
import type { FakeTime } from "./fake-time.ts";

interface Member {
  name: string;
  onMessage?: (message: unknown) => void;
  onLeadership?: (isLeader: boolean) => void;
  alive: boolean;
}

/**
 * The tabs of one browser, in memory: a channel that delivers structured
 * clones to every other open tab on a later microtask, a leader election that
 * hands over to the oldest remaining candidate (at once when the leader closes,
 * after `crashDetectMs` when it dies without closing), and a lock queue.
 */
export function createTabHub(time: FakeTime, { crashDetectMs = 1000, messageDelayMs = 0, electionDelayMs = 0 } = {}) {
  const members: Member[] = [];
  let leader: Member | undefined;
  const lockQueue: Array<() => void> = [];
  let lockHeld = false;
  const heldNamed = new Set<string>();
  const stats = { messages: 0 };

  function elect() {
    if (leader?.alive) return;
    leader = members.find((member) => member.alive && member.onLeadership);
    leader?.onLeadership?.(true);
  }

  /** Hands the lock straight to the next waiter, so no newcomer can take it before the waiter resumes. */
  function release() {
    const next = lockQueue.shift();
    if (next) next();
    else lockHeld = false;
  }

  return {
    stats,
    /** Sends a raw message into the channel as if from another tab (forgeries, old versions). */
    inject(message: unknown) {
      for (const member of members) if (member.alive) queueMicrotask(() => member.onMessage?.(message));
    },
    get leaderName() {
      return leader?.alive ? leader.name : undefined;
    },
    /** The tab dies without closing (killed process): it falls silent, the lead moves after `crashDetectMs`. */
    crash(name: string) {
      const member = members.find((candidate) => candidate.name === name);
      if (!member) return;
      member.alive = false;
      member.onMessage = undefined;
      member.onLeadership = undefined;
      if (leader === member) time.setTimeout(elect, crashDetectMs);
    },
    env(name: string): Pick<ClientEnv, "withLock" | "tryLock"> & { openTabLink: (name: string) => TabLink } {
      return {
        openTabLink(): TabLink {
          const member: Member = { name, alive: true };
          members.push(member);
          return {
            post(message) {
              if (!member.alive) return;
              stats.messages++;
              const copy = structuredClone(message);
              // Like a browser, delivery may lag behind a lock grant (messageDelayMs > 0) or come first (0).
              const deliver = (other: Member) => () => other.alive && other.onMessage?.(structuredClone(copy));
              for (const other of members) {
                if (other === member || !other.alive) continue;
                if (messageDelayMs > 0) time.setTimeout(deliver(other), messageDelayMs);
                else queueMicrotask(deliver(other));
              }
            },
            onMessage(listener) {
              member.onMessage = listener;
            },
            onLeadership(listener) {
              member.onLeadership = listener;
              // A real election (a Web Lock grant) may come after the page's first read is queued.
              if (electionDelayMs > 0) time.setTimeout(elect, electionDelayMs);
              else queueMicrotask(elect);
            },
            close() {
              member.alive = false;
              members.splice(members.indexOf(member), 1);
              if (leader === member) {
                leader = undefined;
                queueMicrotask(elect);
              }
            },
          };
        },
        async tryLock(lockName, maxHoldMs, task) {
          if (heldNamed.has(lockName)) return false;
          heldNamed.add(lockName);
          let timer: unknown;
          const bound = new Promise<void>((resolve) => (timer = time.setTimeout(resolve, maxHoldMs)));
          await Promise.race([task().catch(() => {}), bound]);
          time.clearTimeout(timer);
          heldNamed.delete(lockName);
          return true;
        },
        async withLock(_name, maxHoldMs, task) {
          if (lockHeld)
            await new Promise<void>((resolve) => lockQueue.push(resolve)); // resumes holding it
          else lockHeld = true;
          const result = task();
          let timer: unknown;
          const bound = new Promise<void>((resolve) => (timer = time.setTimeout(resolve, maxHoldMs)));
          await Promise.race([result.catch(() => {}), bound]);
          time.clearTimeout(timer);
          release();
          return result;
        },
      };
    },
  };
}

export type TabHub = ReturnType<typeof createTabHub>;

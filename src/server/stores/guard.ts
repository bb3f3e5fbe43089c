import { SessionServerError } from "../errors.js";
import { StoreInputError } from "./input-error.js";
import { StoreSetupError } from "./setup-error.js";
import { STORE_METHODS, type Store } from "./store.js";

/**
 * The store as the handler uses it: every call bounded by `timeoutMs` and every
 * failure turned into `store_unavailable` (503) — except a {@link StoreInputError},
 * which is `store_input_rejected` (400) —, so a store that is down or
 * hanging fails closed, fast, and the handler serves again once it is back.
 *
 * One sweeping timer watches every call in flight instead of a timer per call:
 * arming and clearing a timer on each of the several store calls of every
 * request costs more than a point lookup. A call is refused at most a sweep
 * (a quarter of the timeout) after its deadline.
 */
export function guardStore(store: Store, timeoutMs: number): Store {
  const inFlight = new Set<{ deadline: number; fail: (cause: Error) => void }>();
  let sweeper: ReturnType<typeof setInterval> | undefined;

  function sweep() {
    const now = Date.now();
    for (const call of inFlight) {
      if (now >= call.deadline) {
        inFlight.delete(call);
        call.fail(new Error(`the store took over ${timeoutMs} ms`));
      }
    }
    if (inFlight.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }

  // A value the backend refused is the request's fault, not an outage: 400, no Retry-After, no error log.
  // A store that cannot work as configured is the app's to fix, not an outage: 500, no Retry-After; the log has the cause.
  const unavailable = (cause: unknown) =>
    cause instanceof StoreInputError
      ? new SessionServerError("store_input_rejected", "the session store refused a value of this request", { cause })
      : cause instanceof StoreSetupError
        ? new SessionServerError("store_misconfigured", "the session store is not set up to work: see the server log", { cause })
        : new SessionServerError("store_unavailable", "the session store is unavailable", { cause });

  function guard<T>(run: () => Promise<T>): Promise<T> {
    let pending: Promise<T>;
    try {
      // A custom store may answer with a plain value or a thenable; a native promise passes through as is.
      pending = Promise.resolve(run());
    } catch (cause) {
      return Promise.reject(unavailable(cause));
    }
    // One promise and one reaction per call: this wraps every store call of every request.
    return new Promise<T>((resolve, reject) => {
      const call = { deadline: Date.now() + timeoutMs, fail: (cause: Error) => reject(unavailable(cause)) };
      inFlight.add(call);
      if (!sweeper) {
        sweeper = setInterval(sweep, Math.max(10, timeoutMs / 4));
        // Never keep a process alive just to watch the store (Node; a no-op elsewhere).
        (sweeper as { unref?: () => void }).unref?.();
      }
      pending.then(
        (value) => {
          inFlight.delete(call);
          resolve(value);
        },
        (cause: unknown) => {
          inFlight.delete(call);
          reject(unavailable(cause));
        },
      );
    });
  }

  const guarded = {} as Record<(typeof STORE_METHODS)[number] | "prepare", unknown>;
  for (const method of STORE_METHODS) {
    guarded[method] = (...args: unknown[]) => guard(() => (store[method] as (...a: unknown[]) => Promise<unknown>)(...args));
  }
  // Not bounded: it only loads code, and runs once at start-up.
  if (store.prepare) guarded.prepare = () => store.prepare!();
  return guarded as Store;
}

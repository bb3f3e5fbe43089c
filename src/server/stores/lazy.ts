/**
 * The open/close life of a store's connection, shared by every store: opened
 * on first use (not at construction, so creating a handler needs no running
 * database), a failed open forgotten so the next call tries again, calls after
 * `close()` refused, and a close during an open waiting for it and then
 * disposing of what it opened.
 *
 * `current` is the open value once there is one: stores read it first and
 * skip an `await` per call on the hot path.
 *
 * @example
 * ```ts
 * const connection = lazy("myStore", () => connect(url), (client) => client.quit());
 * const client = connection.current ?? (await connection.ready());
 * ```
 */
export interface Lazy<T> {
  readonly current: T | undefined;
  ready(): Promise<T>;
  close(): Promise<void>;
}

export function lazy<T>(name: string, open: () => Promise<T>, dispose: (value: T) => unknown = () => undefined): Lazy<T> {
  let opening: Promise<T> | undefined;
  let current: T | undefined;
  let closed = false;
  return {
    get current() {
      return current;
    },
    ready() {
      if (closed) return Promise.reject(new Error(`${name} is closed`));
      opening ??= open().then(
        (value) => {
          // Closed while opening: `close` disposes of it; nothing may use it.
          if (!closed) current = value;
          return value;
        },
        (error: unknown) => {
          opening = undefined;
          throw error;
        },
      );
      return opening;
    },
    async close() {
      if (closed) return;
      closed = true;
      current = undefined;
      const value = await opening?.catch(() => undefined);
      if (value !== undefined) await dispose(value);
    },
  };
}

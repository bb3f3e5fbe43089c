/**
 * Thrown by a store that cannot work as configured: its driver is not installed or cannot load in this
 * runtime. Not an outage, so not `503 store_unavailable` with a `Retry-After` that would send clients
 * back to a server that cannot get better: the handler answers 500 `store_misconfigured`, and logs this
 * error's message, which says what to install or pass. `createSessionHandler` asks the store to check
 * this at start-up (`Store.prepare`), so it is in the log before the first sign-in.
 *
 * @example
 * ```ts
 * throw new StoreSetupError("myStore needs the optional peer `my-driver` (npm install my-driver)");
 * ```
 */
export class StoreSetupError extends Error {
  override readonly name = "StoreSetupError";
  readonly code = "store_misconfigured" as const;
}

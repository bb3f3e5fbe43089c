/**
 * Thrown by a store whose backend refused a value as invalid input (a
 * PostgreSQL data exception, say) rather than being unreachable. The handler
 * answers 400 `store_input_rejected`, not 503 `store_unavailable`: bad input
 * from a client must not look like an outage (no `Retry-After`, no error log),
 * and is never retried.
 *
 * @example
 * ```ts
 * throw new StoreInputError("the database refused a value", { cause: error });
 * ```
 */
export class StoreInputError extends Error {
  override readonly name = "StoreInputError";
  readonly code = "store_input_rejected" as const;
}

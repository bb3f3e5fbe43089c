/** First retry after a failure, ms. */
export const RETRY_BASE = 1_000;
/** Longest wait between retries, ms. */
export const RETRY_CAP = 60_000;

/**
 * Capped exponential backoff with "equal jitter": the n-th retry waits between
 * half and all of `min(cap, base·2ⁿ⁻¹)`, so tabs and browsers that failed
 * together do not retry together.
 */
export function retryDelay(failures: number, random: () => number): number {
  const ceiling = Math.min(RETRY_CAP, RETRY_BASE * 2 ** Math.max(0, failures - 1));
  return ceiling / 2 + (random() * ceiling) / 2;
}

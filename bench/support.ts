/** What the server benchmarks share: knobs, statistics, the measuring loop and signing in through a handler. */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";

export const ORIGIN = "http://localhost";
export const COOKIE_NAME = "authjs.session-token";

export function positiveInt(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : fallback;
}

/** The installed version of a package, or "?". */
export function versionOf(pkg: string): string {
  try {
    const url = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Runs `op` back to back for at least `ms` milliseconds on `concurrency` loops
 * at once (1: one request at a time); returns the ops done and the time taken.
 */
export async function measure(op: () => Promise<void>, ms: number, concurrency = 1): Promise<{ ops: number; ms: number }> {
  let count = 0;
  const start = performance.now();
  const end = start + ms;
  const loop = async () => {
    while (performance.now() < end) {
      // Batches of 4 between clock reads keep timer overhead out of the figure.
      for (let i = 0; i < 4; i++) await op();
      count += 4;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { ops: count, ms: performance.now() - start };
}

/** BENCH_SEED, or a fresh random seed; printed by the benchmarks so a run's order can be replayed. */
export const benchSeed = () => positiveInt(process.env.BENCH_SEED, 1 + Math.floor(Math.random() * (2 ** 31 - 1)));

/** mulberry32: a small seeded generator, so the slice orders of a run can be replayed (BENCH_SEED). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates on a copy. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

export function sessionCookieOf(response: Response): string | undefined {
  for (const line of response.headers.getSetCookie()) {
    if (line.startsWith(`${COOKIE_NAME}=`)) return line.slice(COOKIE_NAME.length + 1).split(";")[0];
  }
  return undefined;
}

/** Signs in through the handler as a browser would: GET /csrf, then POST /callback/credentials; returns the session token. */
export async function signIn(handler: (request: Request) => Promise<Response>, credentials: Record<string, string>): Promise<string> {
  const csrfResponse = await handler(new Request(`${ORIGIN}/api/auth/csrf`));
  const csrfCookie = csrfResponse.headers.getSetCookie()[0]?.split(";")[0];
  const { csrfToken } = (await csrfResponse.json()) as { csrfToken: string };
  if (!csrfCookie || !csrfToken) throw new Error(`GET /csrf gave no token (status ${csrfResponse.status})`);
  const response = await handler(
    new Request(`${ORIGIN}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie, "x-auth-return-redirect": "1", origin: ORIGIN },
      body: new URLSearchParams({ ...credentials, csrfToken, callbackUrl: "/" }),
    }),
  );
  const token = sessionCookieOf(response);
  if (response.status !== 200 || !token) throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
  return token;
}

/** The closing line of a report: when, on what, and how long it took. */
export function footer(startedAt: Date, concurrency: number): string {
  const seconds = ((Date.now() - startedAt.getTime()) / 1000).toFixed(1);
  const load = loadavg().map((value) => value.toFixed(2)).join(" ");
  return `\n${startedAt.toISOString()} · node ${process.version} · c=${concurrency} · ${seconds} s · load average at end: ${load}`;
}

/** Runs a benchmark's main; a benchmark is a report, not a test: it always exits 0 and says what went wrong. */
export async function runReport(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    console.log(`ERROR: the benchmark could not complete: ${(error as Error).stack ?? error}`);
  }
  process.exitCode = 0;
}

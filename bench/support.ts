/**
 * What the benchmarks share: knobs, statistics, the measuring loop, loading the
 * build, the report's opening and closing lines and signing in through a handler.
 */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";

export const ORIGIN = "http://localhost";
export const COOKIE_NAME = "authjs.session-token";

/** What the server benchmarks sign in with and serve. */
export const SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
export const MAX_AGE = 30 * 86_400;
export const USER = { id: "user-1", name: "Ada Lovelace", email: "ada@example.com", image: "https://example.com/avatars/ada.png" };

export const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function positiveInt(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : fallback;
}

/** A comma list of positive integers ("1,5,10"); entries that are not one are dropped, and `fallback` stands in for a list left empty. */
export function positiveInts(value: string | undefined, fallback: number[]): number[] {
  const parsed = (value ?? "")
    .split(",")
    .map((item) => positiveInt(item, 0))
    .filter((n) => n > 0);
  return parsed.length > 0 ? parsed : fallback;
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

/** How the throughput benchmarks split their time: rounds, each a window per case cut into slices. */
export interface SliceKnobs {
  /** BENCH_ROUNDS (default 5). */
  rounds: number;
  /** BENCH_SLICE_MS (default 100, at most the window). */
  sliceMs: number;
  /** Slices per case per round: BENCH_WINDOW_MS / BENCH_SLICE_MS, at least 1. */
  slices: number;
  /** Warm-up per case before the first round: 500 ms, or the window when shorter. */
  warmupMs: number;
  /** BENCH_SEED, or a fresh random one: the slice orders of the run. */
  seed: number;
}

/** The knobs from the environment; `defaultWindowMs` is the benchmark's BENCH_WINDOW_MS default. */
export function sliceKnobs(defaultWindowMs: number): SliceKnobs {
  const windowMs = positiveInt(process.env.BENCH_WINDOW_MS, defaultWindowMs);
  const sliceMs = Math.min(positiveInt(process.env.BENCH_SLICE_MS, 100), windowMs);
  return {
    rounds: positiveInt(process.env.BENCH_ROUNDS, 5),
    sliceMs,
    slices: Math.max(1, Math.round(windowMs / sliceMs)),
    warmupMs: Math.min(500, windowMs),
    seed: benchSeed(),
  };
}

/** A measured case: its operation, and its ops/s per round, which `runRounds` fills. */
export interface RoundCase {
  op: () => Promise<void>;
  opsPerRound: number[];
}

/**
 * The measuring loop: a warm-up per case, then `knobs.rounds` rounds in each of
 * which every case runs `knobs.slices` slices of `knobs.sliceMs`, every pass
 * over the cases in a new order (seeded by `knobs.seed`): what runs just
 * before a case changes how fast it runs (a store server still busy from the
 * previous slice keeps the other core awake and halves a loopback round trip),
 * so no case may always follow the same one. After each round every case's
 * `opsPerRound` has that round's ops/s, and `onRound(round)` runs.
 */
export async function runRounds(cases: readonly RoundCase[], knobs: SliceKnobs, concurrency: number, onRound: (round: number) => void): Promise<void> {
  for (const entry of cases) await measure(entry.op, knobs.warmupMs, concurrency);
  const random = seededRandom(knobs.seed);
  for (let round = 0; round < knobs.rounds; round++) {
    const totals = new Map<RoundCase, { ops: number; ms: number }>(cases.map((entry) => [entry, { ops: 0, ms: 0 }]));
    for (let slice = 0; slice < knobs.slices; slice++) {
      for (const entry of shuffled(cases, random)) {
        const { ops, ms } = await measure(entry.op, knobs.sliceMs, concurrency);
        const total = totals.get(entry)!;
        total.ops += ops;
        total.ms += ms;
      }
    }
    for (const entry of cases) {
      const { ops, ms } = totals.get(entry)!;
      entry.opsPerRound.push((ops * 1000) / ms);
    }
    onRound(round);
  }
}

/**
 * Imports built files (`dist/<file>`, what users import) by computed
 * specifiers, so typechecking does not depend on a build having run. Resolves
 * to their modules in order, or to why they could not be imported.
 */
export async function importDist<T extends unknown[]>(...files: string[]): Promise<T | string> {
  try {
    return (await Promise.all(files.map((file) => import(new URL(`../dist/${file}`, import.meta.url).href)))) as T;
  } catch (error) {
    return `cannot import ${files.length === 1 ? `dist/${files[0]}` : "dist/"} (run \`npx vite build\` first): ${message(error)}`;
  }
}

/**
 * The opening lines of a throughput report: the title, the versions and the
 * machine, the method (`sliced`: how the slices are described), `extra`
 * lines, and the load average at the start.
 */
export function printHeader(title: string, packages: string[], knobs: SliceKnobs, concurrency: number, sliced: string, extra: string[] = []): void {
  console.log(title);
  console.log(
    `node ${process.version} · ${packages.map((pkg) => `${pkg} ${versionOf(pkg)}`).join(" · ")} · ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "?"})`,
  );
  console.log(
    `c=${concurrency}${concurrency === 1 ? " (sequential awaits)" : " (concurrent loops)"} · ${knobs.rounds} rounds × ${knobs.slices * knobs.sliceMs} ms per case, in ${knobs.slices} slices of ${knobs.sliceMs} ms${sliced}, in a new random order each pass (BENCH_SEED=${knobs.seed}) · warm-up ${knobs.warmupMs} ms per case`,
  );
  for (const line of extra) console.log(line);
  console.log(
    `load average at start: ${loadavg()
      .map((v) => v.toFixed(2))
      .join(" ")}\n`,
  );
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
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
  return `\n${startedAt.toISOString()} · node ${process.version} · c=${concurrency} · ${seconds} s · load average at end: ${load}`;
}

/** Runs a benchmark's main; a benchmark is a report, not a test: it always exits 0 and says what went wrong. */
export async function runReport(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    console.log(`ERROR: the benchmark could not complete: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  process.exitCode = 0;
}

/** Deletes a bench run's Redis keys (everything under `prefix`), a page at a time; ioredis is loaded only when asked. */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const { Redis } = await import("ioredis");
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
}

/**
 * Load benchmark over HTTP on loopback: `GET /session` with many distinct
 * signed-in sessions and many connections, for sessionpulse's JWT strategy and
 * its database strategy on each store, for Auth.js (`Auth()` from @auth/core,
 * JWT) and for a bare `node:http` server answering a fixed JSON body (the
 * ceiling), all in one run. Not in CI.
 *
 * Run: `npx vite build && npm run bench:load` (about 4–5 minutes; installs
 * autocannon into bench/peers on first run). Knobs:
 * - LOAD_SESSIONS (default 10000): distinct signed-in sessions (users u0 …).
 * - LOAD_CONNECTIONS (default 200), LOAD_DURATION (seconds, default 20).
 * - LOAD_CASES: a comma list of bare, authjs, jwt, jwt-fit, db-sqlite,
 *   db-postgres, db-redis (default all). LOAD_ROUNDS (default 1): the whole set
 *   again, each round in a new order (seeded, BENCH_SEED).
 * - BENCH_PG_URL / BENCH_REDIS_URL as in bench/server-db.ts.
 * A quick run: `LOAD_DURATION=3 LOAD_SESSIONS=2000 npm run bench:load`.
 *
 * Method. Each case runs in its own server process (bench/load-server.ts:
 * `toNodeHandler` from dist/server.js on 127.0.0.1), so its RSS and CPU are its
 * own; the load comes from autocannon in another process
 * (bench/load-client.ts), so the generator has the other core and does not
 * starve the server's event loop. Every request carries the next session's
 * cookie in turn (round robin over all sessions) and every answer is checked
 * for that session's own user (its email in the body). Per case: a warm-up of
 * one pass over every session (JIT, the verified-token cache, the one due
 * write of each database session), then LOAD_DURATION seconds measured. The
 * server's RSS is read when it is ready (sessions signed in, before any load),
 * after the warm-up and at the end, with its peak (maxRSS); store writes are
 * counted by a wrapper around the store, in the warm-up and in the measured
 * part. Ratios are between cases of the same run. A report, not a test: it
 * always exits 0 and prints MISSED next to a target it does not reach.
 */
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClientArgs, ClientResult } from "./load-client.ts";
import { CASES, type CaseName, type ParentMessage, type ServerArgs, type ServerMessage, type WriteCounts } from "./load-server.ts";
import { benchSeed, footer, message, positiveInt, runReport, seededRandom, shuffled, versionOf } from "./support.ts";

const SESSIONS = positiveInt(process.env.LOAD_SESSIONS, 10_000);
const CONNECTIONS = positiveInt(process.env.LOAD_CONNECTIONS, 200);
const DURATION = positiveInt(process.env.LOAD_DURATION, 20);
const ROUNDS = positiveInt(process.env.LOAD_ROUNDS, 1);
const SEED = benchSeed();
const PG_URL = process.env.BENCH_PG_URL ?? process.env.SESSIONPULSE_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.SESSIONPULSE_REDIS_URL ?? "redis://127.0.0.1:6379";
const SELECTED: CaseName[] = (() => {
  const names = (process.env.LOAD_CASES ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  return names.length === 0 ? [...CASES] : CASES.filter((name) => names.includes(name));
})();

const LABELS: Record<CaseName, string> = {
  bare: "bare node:http, fixed JSON (ceiling)",
  authjs: `Auth.js Auth() ${versionOf("@auth/core")}, JWT`,
  jwt: "sessionpulse JWT (default cache)",
  "jwt-fit": "sessionpulse JWT (cache sized to fit all sessions)",
  "db-sqlite": "sessionpulse database, SQLite file",
  "db-postgres": "sessionpulse database, PostgreSQL",
  "db-redis": "sessionpulse database, Redis",
};
/** Ours: must answer every request with its session, without errors. */
const OURS = new Set<CaseName>(["jwt", "jwt-fit", "db-sqlite", "db-postgres", "db-redis"]);

const HERE = fileURLToPath(new URL(".", import.meta.url));
const PEERS = join(HERE, "peers");

interface Stats {
  rss: number;
  maxRss: number;
  heapUsed: number;
  cpuMs: number;
  writes?: WriteCounts;
}

interface Outcome {
  name: CaseName;
  round: number;
  describe?: string;
  setupMs?: number;
  cookieChars?: number;
  atReady?: Stats;
  warmup?: ClientResult;
  afterWarmup?: Stats;
  measured?: ClientResult;
  atEnd?: Stats;
  failed?: string;
}

function ensurePeers(): void {
  if (existsSync(join(PEERS, "node_modules", "autocannon", "package.json"))) return;
  console.log("bench/peers/node_modules has no autocannon: running `npm ci --prefix bench/peers` …");
  execFileSync("npm", ["ci", "--prefix", PEERS, "--no-audit", "--no-fund"], { stdio: "inherit" });
}

/** The next message of `child` that satisfies `accept`; rejects on an `error` message, an exit or after `ms`. */
function nextMessage<T>(child: ChildProcess, accept: (raw: { type: string }) => raw is T & { type: string }, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
    const onMessage = (raw: { type: string; message?: string }) => {
      if (raw.type === "error") done(new Error(`${what}: ${raw.message}`));
      else if (accept(raw)) done(undefined, raw);
    };
    const onExit = (code: number | null, signal: string | null) => done(new Error(`${what}: exited (${signal ?? code}) before answering`));
    function done(error: Error | undefined, value?: T) {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve(value!);
    }
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}

const isType =
  <T>(type: string) =>
  (raw: { type: string }): raw is T & { type: string } =>
    raw.type === type;

async function load(args: ClientArgs): Promise<ClientResult> {
  const child = fork(join(HERE, "load-client.ts"), [JSON.stringify(args)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const limit = (args.amount ? 120 : args.duration + 60) * 1000;
  try {
    return await nextMessage<ClientResult>(child, isType<ClientResult>("result"), limit, "load generator");
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

async function stats(server: ChildProcess, reset: boolean): Promise<Stats> {
  const answer = nextMessage<ServerMessage & { type: "stats" }>(server, isType<ServerMessage & { type: "stats" }>("stats"), 10_000, "server stats");
  server.send({ type: "stats", reset } satisfies ParentMessage);
  const { type: _type, ...rest } = await answer;
  return rest;
}

async function runCase(name: CaseName, round: number, dir: string): Promise<Outcome> {
  const outcome: Outcome = { name, round };
  const cookieFile = join(dir, `${name}-${round}.cookies`);
  const args: ServerArgs = { case: name, sessions: SESSIONS, cookieFile, pgUrl: PG_URL, redisUrl: REDIS_URL };
  const server = fork(join(HERE, "load-server.ts"), [JSON.stringify(args)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  try {
    const ready = await nextMessage<ServerMessage & { type: "ready" }>(server, isType<ServerMessage & { type: "ready" }>("ready"), 300_000, `server ${name}`);
    outcome.describe = ready.describe;
    outcome.setupMs = ready.setupMs;
    outcome.cookieChars = ready.cookieChars;
    outcome.atReady = await stats(server, true);
    const url = `http://127.0.0.1:${ready.port}`;
    outcome.warmup = await load({ url, cookieFile, connections: CONNECTIONS, duration: DURATION, amount: SESSIONS, offset: 0 });
    outcome.afterWarmup = await stats(server, true);
    outcome.measured = await load({ url, cookieFile, connections: CONNECTIONS, duration: DURATION, offset: SESSIONS >> 1 });
    outcome.atEnd = await stats(server, false);
  } catch (error) {
    outcome.failed = message(error);
  } finally {
    if (server.exitCode === null) {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.send({ type: "stop" } satisfies ParentMessage);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (server.exitCode === null) server.kill("SIGKILL");
    }
    rmSync(cookieFile, { force: true });
  }
  return outcome;
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (n >= 10 ? n.toFixed(0) : n.toFixed(1));

function writesCell(outcome: Outcome): string {
  if (!outcome.afterWarmup?.writes || !outcome.atEnd?.writes) return "–";
  const warm = outcome.afterWarmup.writes;
  const run = outcome.atEnd.writes;
  const max = Math.max(warm.maxTouchesPerSession, run.maxTouchesPerSession);
  return `${warm.total} in warm-up (${warm.sessionsTouched} sessions slid) + ${run.total} measured · max ${max} per session`;
}

function printOutcome(outcome: Outcome): void {
  if (outcome.failed) {
    console.log(`${outcome.name} (round ${outcome.round + 1}): FAILED: ${outcome.failed}`);
    return;
  }
  const m = outcome.measured!;
  const w = outcome.warmup!;
  console.log(
    `${outcome.name} (round ${outcome.round + 1}): ${outcome.describe}; set up in ${(outcome.setupMs! / 1000).toFixed(1)} s, cookies ~${outcome.cookieChars} chars\n` +
      `  warm-up: ${fmt(w.requests)} requests in ${w.seconds.toFixed(1)} s (${fmt(w.rps)} req/s, p50 ${ms(w.p50)} ms, p99 ${ms(w.p99)} ms), errors ${w.errors} (timeouts ${w.timeouts}), non-2xx ${w.non2xx}, without session ${w.withoutSession}, max ${ms(w.max)} ms\n` +
      `  measured: ${fmt(m.requests)} requests in ${m.seconds.toFixed(1)} s: ${fmt(m.rps)} req/s, p50 ${ms(m.p50)} ms, p90 ${ms(m.p90)} ms, p99 ${ms(m.p99)} ms, max ${ms(m.max)} ms; errors ${m.errors} (timeouts ${m.timeouts}), non-2xx ${m.non2xx}, without session ${m.withoutSession}, Set-Cookie ${m.setCookie}, status ${JSON.stringify(m.statusCodes)}\n` +
      `  CPU: server ${((outcome.atEnd!.cpuMs / (m.seconds * 1000)) * 100).toFixed(0)}% of a core, load generator ${((m.cpuMs / (m.seconds * 1000)) * 100).toFixed(0)}%; RSS ready ${mib(outcome.atReady!.rss)} MiB → after warm-up ${mib(outcome.afterWarmup!.rss)} → end ${mib(outcome.atEnd!.rss)} (peak ${mib(outcome.atEnd!.maxRss)}); heap at end ${mib(outcome.atEnd!.heapUsed)} MiB` +
      (outcome.afterWarmup!.writes
        ? `\n  store writes: warm-up ${JSON.stringify(outcome.afterWarmup!.writes)}, measured ${JSON.stringify(outcome.atEnd!.writes)}`
        : ""),
  );
}

const medianOf = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const startedAt = new Date();
  ensurePeers();
  const autocannonVersion = versionOfPeer("autocannon");
  console.log("sessionpulse load benchmark: GET /session over HTTP on loopback");
  console.log(
    `node ${process.version} · autocannon ${autocannonVersion} · @auth/core ${versionOf("@auth/core")} · ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "?"})`,
  );
  console.log(
    `${SESSIONS} sessions · ${CONNECTIONS} connections · ${DURATION} s measured per case after a warm-up of one pass over every session · cases ${SELECTED.join(", ")} · ${ROUNDS} round(s), order seeded (BENCH_SEED=${SEED})`,
  );
  console.log(
    `load average at start: ${loadavg()
      .map((v) => v.toFixed(2))
      .join(" ")}\n`,
  );

  const dir = mkdtempSync(join(tmpdir(), "sessionpulse-load-cookies-"));
  const outcomes: Outcome[] = [];
  const random = seededRandom(SEED);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of shuffled(SELECTED, random)) {
        const outcome = await runCase(name, round, dir);
        printOutcome(outcome);
        outcomes.push(outcome);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Per case: the median over rounds of req/s; the other cells from the round with that median's nearest value.
  const rpsOf = (name: CaseName) => outcomes.filter((o) => o.name === name && o.measured).map((o) => o.measured!.rps);
  const rows: string[][] = [];
  for (const name of SELECTED) {
    const mine = outcomes.filter((o) => o.name === name);
    const ok = mine.filter((o) => !o.failed);
    if (ok.length === 0) {
      rows.push([LABELS[name], "FAILED", "", "", "", "", "", "", "", mine[0]?.failed ?? ""]);
      continue;
    }
    // Measured, then the warm-up's in brackets when not 0.
    const both = (of: (r: ClientResult) => number) => {
      const measured = ok.reduce((sum, o) => sum + of(o.measured!), 0);
      const warm = ok.reduce((sum, o) => sum + of(o.warmup!), 0);
      return `${measured}${warm > 0 ? ` (warm-up: ${warm})` : ""}`;
    };
    const errors = both((r) => r.errors);
    const non2xx = both((r) => r.non2xx);
    const without = both((r) => r.withoutSession);
    const rps = rpsOf(name);
    const last = ok[ok.length - 1]!;
    rows.push([
      LABELS[name],
      `${fmt(medianOf(rps))}${rps.length > 1 ? ` (${rps.map(fmt).join(", ")})` : ""}`,
      ok.map((o) => ms(o.measured!.p50)).join(", "),
      ok.map((o) => ms(o.measured!.p99)).join(", "),
      errors,
      non2xx,
      name === "bare" ? `${without} (fixed body)` : without,
      `${mib(last.atReady!.rss)} → ${mib(last.atEnd!.rss)} (peak ${mib(last.atEnd!.maxRss)})`,
      `${((last.atEnd!.cpuMs / (last.measured!.seconds * 1000)) * 100).toFixed(0)}% / ${((last.measured!.cpuMs / (last.measured!.seconds * 1000)) * 100).toFixed(0)}%`,
      writesCell(last),
    ]);
  }
  const header = [
    "case",
    "req/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "non-2xx",
    "answers without session",
    "server RSS MiB ready → end (peak)",
    "CPU server / generator",
    "store writes",
  ];
  console.log(`\n${[header, header.map(() => "---"), ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n")}\n`);
  console.log(
    "errors (timeouts included), non-2xx and answers without session: the measured part, and the warm-up's in brackets when not 0 (the database cases' warm-up is the burst of every session's one due write); store writes: counted at the store.\n",
  );

  // Targets.
  const lines: string[] = [];
  const ratio = (a: CaseName, b: CaseName) => {
    const mine = rpsOf(a);
    const theirs = rpsOf(b);
    if (mine.length === 0 || theirs.length === 0) return undefined;
    // Per round when both ran in it, then the median.
    const perRound: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const x = outcomes.find((o) => o.name === a && o.round === round && o.measured);
      const y = outcomes.find((o) => o.name === b && o.round === round && o.measured);
      if (x && y) perRound.push(x.measured!.rps / y.measured!.rps);
    }
    return medianOf(perRound);
  };
  const target = (label: string, value: number | undefined, min: number) => {
    if (value === undefined) lines.push(`NOT MEASURED: ${label}`);
    else lines.push(`${value >= min ? "met" : "TARGET MISSED"}: ${label}: ${value.toFixed(2)}× (target ≥ ${min}×)`);
  };
  target("JWT (default cache) ÷ Auth.js, same run", ratio("jwt", "authjs"), 6);
  target("JWT (default cache) ÷ bare node:http ceiling, same run", ratio("jwt", "bare"), 0.4);
  const fit = ratio("jwt-fit", "bare");
  if (fit !== undefined)
    lines.push(
      `(reference) JWT with a cache that fits every session ÷ ceiling: ${fit.toFixed(2)}×; ÷ Auth.js: ${ratio("jwt-fit", "authjs")?.toFixed(2) ?? "–"}×`,
    );
  for (const name of SELECTED.filter((n) => OURS.has(n))) {
    const ok = outcomes.filter((o) => o.name === name && !o.failed);
    if (ok.length === 0) {
      lines.push(`TARGET MISSED: ${LABELS[name]}: did not run (${outcomes.find((o) => o.name === name)?.failed ?? "?"})`);
      continue;
    }
    for (const phase of ["measured", "warmup"] as const) {
      const bad = ok.reduce((sum, o) => sum + o[phase]!.errors + o[phase]!.non2xx, 0);
      const lost = ok.reduce((sum, o) => sum + o[phase]!.withoutSession, 0);
      const what = phase === "measured" ? `${DURATION} s measured` : name.startsWith("db-") ? "warm-up (every session's due write at once)" : "warm-up";
      lines.push(
        `${bad === 0 && lost === 0 ? "met" : "TARGET MISSED"}: ${LABELS[name]}, ${what}: ${bad} errors or non-2xx, ${lost} answers without the session (target 0 and 0)`,
      );
    }
    if (name.startsWith("db-")) {
      const worst = Math.max(...ok.map((o) => Math.max(o.afterWarmup!.writes!.maxTouchesPerSession, o.atEnd!.writes!.maxTouchesPerSession)));
      const measuredWrites = ok.reduce((sum, o) => sum + o.atEnd!.writes!.total, 0);
      lines.push(
        `${worst <= 1 && measuredWrites === 0 ? "met" : "TARGET MISSED"}: ${LABELS[name]}: at most ${worst} write per session in the run, ${measuredWrites} writes after the warm-up (target ≤ 1 per updateAge, so 0 after each session's one due slide)`,
      );
    }
  }
  for (const line of lines) console.log(line);
  console.log(footer(startedAt, CONNECTIONS));
}

function versionOfPeer(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(PEERS, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

await runReport(main);

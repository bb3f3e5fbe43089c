/**
 * Server benchmark, database strategy: `GET /session` throughput of the built
 * handler (`dist/server.js` and the stores in `dist/server/*.js`, what users
 * import) for each store, against the same store's raw point lookup of the
 * session row through its driver (the floor), all in one process and one run;
 * and the store writes per 1000 requests while `updateAge` has not elapsed
 * (target 0) and once it has (target 1 per session).
 *
 * Run: `npx vite build && npm run bench:server-db` (Node 26 runs this file by
 * type stripping). Needs PostgreSQL and Redis; a store whose service cannot be
 * reached is reported as SKIPPED. Knobs:
 * - BENCH_ROUNDS (default 5), BENCH_WINDOW_MS (default 1500), BENCH_SLICE_MS
 *   (default 100): see Method.
 * - BENCH_SEED: replays a run's order of slices (printed by every run).
 * - BENCH_CONCURRENCY (default 1): requests in flight at once.
 * - BENCH_STORES: a comma list of sqlite, postgres, redis, memory (default all).
 * - BENCH_PG_URL, else SESSIONPULSE_POSTGRES_URL (what the store tests use),
 *   else postgres://postgres@127.0.0.1:5432/test.
 * - BENCH_REDIS_URL, else SESSIONPULSE_REDIS_URL, else redis://127.0.0.1:6379.
 *
 * Method: c=1 by default (one request at a time, sequential awaits). Each
 * round gives every case a window of BENCH_WINDOW_MS, cut into slices of
 * BENCH_SLICE_MS; each pass over all cases of all stores runs them in a new
 * random order (seeded, BENCH_SEED), so the noise of this shared machine, and
 * the effect of whichever case ran just before, lands on all cases alike; a
 * store's ratio is its session path over its own floor measured in the same
 * round. Reported: median ops/s (min–max over rounds) and the median
 * (min–max) of the per-round ratios. Tables and keys carry a per-run prefix
 * and are removed at the end. It is a report, not a test: it always exits 0
 * and prints MISSED next to a target it does not reach.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { createSessionHandler as CreateSessionHandler, memoryStore as MemoryStore, Store, StoredSession } from "../src/server/index.ts";
import type { sqliteStore as SqliteStore } from "../src/server/stores/sqlite.ts";
import type { postgresStore as PostgresStore } from "../src/server/stores/postgres.ts";
import type { redisStore as RedisStore } from "../src/server/stores/redis.ts";
import {
  COOKIE_NAME,
  MAX_AGE,
  ORIGIN,
  SECRET,
  USER,
  footer,
  importDist,
  median,
  message,
  positiveInt,
  printHeader,
  runReport,
  runRounds,
  signIn,
  sliceKnobs,
  versionOf,
} from "./support.ts";

const KNOBS = sliceKnobs(1500);
/** Requests in flight at once (BENCH_CONCURRENCY); 1 measures latency-bound throughput, more overlaps the store's round trips as a busy server does. */
const CONCURRENCY = positiveInt(process.env.BENCH_CONCURRENCY, 1);
/** Only these stores (BENCH_STORES=redis,sqlite); all when unset. */
const STORES = process.env.BENCH_STORES?.split(",")
  .map((name) => name.trim())
  .filter(Boolean);
/** The services the store tests use (test/server/services.ts) unless BENCH_PG_URL / BENCH_REDIS_URL name others. */
const PG_URL = process.env.BENCH_PG_URL ?? process.env.SESSIONPULSE_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.SESSIONPULSE_REDIS_URL ?? "redis://127.0.0.1:6379";

const SESSION_URL = `${ORIGIN}/api/auth/session`;
/** The measured handlers: 1 day (the default), which never elapses during a run, so they never write. */
const MEASURE_UPDATE_AGE = 86_400;
/** The write-count handlers run on a fake clock against this `updateAge` (seconds). */
const WRITES_UPDATE_AGE = 600;
const WRITES_REQUESTS = 1000;
/** Fake-clock step per request: 1000 steps stay under `updateAge` (500 s < 600 s). */
const WRITES_STEP_MS = 500;
const RATIO_TARGET = 0.5;

/** Per-run names: tables `<RUN_PREFIX>sessions`, keys `sessionpulse-bench:<run>:…`; removed at the end. */
const RUN = randomBytes(4).toString("hex");
const TABLE_PREFIX = `spbench_${RUN}_`;
const KEY_PREFIX = `sessionpulse-bench:${RUN}:`;

/** The store id of a database token, computed outside sessionpulse: SHA-256 hex. */
const storeIdOf = (token: string) => createHash("sha256").update(token).digest("hex");

const sessionRequest = (token: string) => new Request(SESSION_URL, { headers: { cookie: `${COOKIE_NAME}=${token}` } });

interface WriteCounts {
  create: number;
  touchCalls: number;
  touchWrote: number;
  update: number;
  delete: number;
  deleteByUser: number;
  revokeToken: number;
  advanceGeneration: number;
  putValue: number;
}

const emptyCounts = (): WriteCounts => ({
  create: 0,
  touchCalls: 0,
  touchWrote: 0,
  update: 0,
  delete: 0,
  deleteByUser: 0,
  revokeToken: 0,
  advanceGeneration: 0,
  putValue: 0,
});
const writesOf = (c: WriteCounts) => c.create + c.touchWrote + c.update + c.delete + c.deleteByUser + c.revokeToken + c.advanceGeneration + c.putValue;

/** The store with its writing calls counted (a touch counts only when it wrote, an update only when it changed a row). */
function countingStore(store: Store): { store: Store; counts: WriteCounts } {
  const counts = emptyCounts();
  const counted: Store = {
    create: async (session) => {
      counts.create++;
      await store.create(session);
    },
    get: (id, now) => store.get(id, now),
    touch: async (id, expires, now, ifExpiresAtMost) => {
      counts.touchCalls++;
      const wrote = await store.touch(id, expires, now, ifExpiresAtMost);
      if (wrote) counts.touchWrote++;
      return wrote;
    },
    update: async (id, data, now) => {
      const changed = await store.update(id, data, now);
      if (changed) counts.update++;
      return changed;
    },
    delete: async (id) => {
      counts.delete++;
      await store.delete(id);
    },
    deleteByUser: async (userId) => {
      counts.deleteByUser++;
      return store.deleteByUser(userId);
    },
    listByUser: (userId, now) => store.listByUser(userId, now),
    revokeToken: async (key, expires, revokedAt) => {
      counts.revokeToken++;
      await store.revokeToken(key, expires, revokedAt);
    },
    revokedAt: (key, now) => store.revokedAt(key, now),
    advanceGeneration: async (key, expires, floor) => {
      counts.advanceGeneration++;
      return store.advanceGeneration(key, expires, floor);
    },
    putValue: async (key, value, expires, now, onlyIfAbsent) => {
      counts.putValue++;
      return store.putValue(key, value, expires, now, onlyIfAbsent);
    },
    getValue: (key, now) => store.getValue(key, now),
    deleteValue: (key) => store.deleteValue(key),
    prune: (now) => store.prune(now),
    close: () => store.close(),
  };
  return { store: counted, counts };
}

interface Modules {
  createSessionHandler: typeof CreateSessionHandler;
  memoryStore: typeof MemoryStore;
  sqliteStore: typeof SqliteStore;
  postgresStore: typeof PostgresStore;
  redisStore: typeof RedisStore;
}

async function loadModules(): Promise<Modules | string> {
  const loaded = await importDist<
    [Pick<Modules, "createSessionHandler" | "memoryStore">, Pick<Modules, "sqliteStore">, Pick<Modules, "postgresStore">, Pick<Modules, "redisStore">]
  >("server.js", "server/sqlite.js", "server/postgres.js", "server/redis.js");
  if (typeof loaded === "string") return loaded;
  const [server, sqlite, postgres, redis] = loaded;
  return {
    createSessionHandler: server.createSessionHandler,
    memoryStore: server.memoryStore,
    sqliteStore: sqlite.sqliteStore,
    postgresStore: postgres.postgresStore,
    redisStore: redis.redisStore,
  };
}

/** What a store brings: the store itself and, outside sessionpulse, its raw lookup and clean-up. */
interface Backend {
  store: Store;
  /** Versions and names, printed once. */
  describe: string;
  floorLabel: string;
  /** The raw point lookup of the row `id`; resolves to what the driver returned for it, undefined when no row came back. */
  lookup: (id: string) => Promise<unknown>;
  /** The row's `updated_at` (ms) read raw, to check the writes the counting proxy reports. */
  updatedAt: (id: string) => Promise<number | undefined>;
  /** Drops what the run created and closes the raw client; the store is closed before. */
  cleanup: () => Promise<string>;
}

interface Case {
  id: string;
  op: () => Promise<void>;
  /** Answers that were not what the precondition promised; must stay 0. */
  failures: number;
  opsPerRound: number[];
}

interface Row {
  name: string;
  label: string;
  skipped?: string;
  session?: Case;
  floor?: Case;
  /** The raw lookup inside a minimal Fetch handler (see prepareRow). */
  fetchFloor?: Case;
  floorLabel?: string;
  target: boolean;
  writes?: { unelapsed: WriteCounts; elapsed: WriteCounts; check: string };
  ratios: number[];
  /** Session path over the minimal Fetch handler, per round. */
  fetchRatios: number[];
  /** After measuring: undefined, or why the measured session's row changed (the measured handler must not write). */
  checkNoWrite?: () => Promise<string | undefined>;
  store?: Store;
  cleanup?: () => Promise<string>;
}

async function openSqlite(m: Modules): Promise<Backend> {
  const { DatabaseSync } = await import("node:sqlite");
  const dir = mkdtempSync(join(tmpdir(), "sessionpulse-bench-"));
  const path = join(dir, "sessions.db");
  const store = m.sqliteStore({ path, driver: "node:sqlite" }, { tablePrefix: TABLE_PREFIX });
  try {
    // A first call opens the file (WAL) and creates the tables before the raw connection prepares against them.
    await store.get("0".repeat(64), Date.now());
  } catch (error) {
    await store.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const db = new DatabaseSync(path);
  const table = `"${TABLE_PREFIX}sessions"`;
  const select = db.prepare(`SELECT * FROM ${table} WHERE id = ?`);
  const { version } = db.prepare("SELECT sqlite_version() AS version").get() as { version: string };
  const { journal_mode: mode } = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
  return {
    store,
    describe: `SQLite ${version} (node:sqlite), temp file ${path}, journal_mode ${mode}, table ${table}`,
    floorLabel: `node:sqlite prepared SELECT * FROM ${table} WHERE id = ?`,
    lookup: async (id) => select.get(id),
    updatedAt: async (id) => (select.get(id) as { updated_at?: number } | undefined)?.updated_at,
    cleanup: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
      return `removed ${dir}`;
    },
  };
}

async function openPostgres(m: Modules): Promise<Backend> {
  const { Pool } = await import("pg");
  // The store's own pool is 10 connections (its default); the floor's is the same size.
  const pool = new Pool({ connectionString: PG_URL, max: 10, connectionTimeoutMillis: 2000 });
  pool.on("error", () => undefined);
  let version: string;
  try {
    version = ((await pool.query("SHOW server_version")).rows[0] as { server_version: string }).server_version;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new Error(`PostgreSQL at ${PG_URL} unreachable: ${message(error)}`, { cause: error });
  }
  const store = m.postgresStore({ connectionString: PG_URL }, { tablePrefix: TABLE_PREFIX });
  const sessions = `"${TABLE_PREFIX}sessions"`;
  const revoked = `"${TABLE_PREFIX}revoked_tokens"`;
  try {
    await store.get("0".repeat(64), Date.now());
  } catch (error) {
    await store.close().catch(() => undefined);
    await pool.query(`DROP TABLE IF EXISTS ${sessions}, ${revoked}`).catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw error;
  }
  const text = `SELECT * FROM ${sessions} WHERE id = $1`;
  return {
    store,
    describe: `PostgreSQL ${version} at ${PG_URL} (pg ${versionOf("pg")}), pools of 10 (store's own, floor's own), table ${sessions}`,
    floorLabel: `pg pool.query(${text})`,
    lookup: async (id) => (await pool.query({ text, values: [id] })).rows[0],
    updatedAt: async (id) => {
      const row = (await pool.query({ text, values: [id] })).rows[0] as { updated_at?: string } | undefined;
      return row?.updated_at === undefined ? undefined : Number(row.updated_at);
    },
    cleanup: async () => {
      try {
        await pool.query(`DROP TABLE IF EXISTS ${sessions}, ${revoked}`);
        const left = (await pool.query({ text: "SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE $1", values: [`${TABLE_PREFIX}%`] })).rows[0] as {
          n: number;
        };
        return `dropped ${sessions}, ${revoked} (${left.n} tables with the prefix left)`;
      } finally {
        await pool.end();
      }
    },
  };
}

async function openRedis(m: Modules): Promise<Backend> {
  const { Redis } = await import("ioredis");
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  let lastError: unknown;
  client.on("error", (error: unknown) => {
    lastError = error;
  });
  let version: string;
  try {
    await client.connect();
    version = /redis_version:(\S+)/.exec(await client.info("server"))?.[1] ?? "?";
  } catch (error) {
    client.disconnect();
    throw new Error(`Redis at ${REDIS_URL} unreachable: ${message(error)}${lastError ? ` (${message(lastError)})` : ""}`, { cause: error });
  }
  const store = m.redisStore({ url: REDIS_URL }, { keyPrefix: KEY_PREFIX });
  try {
    await store.get("0".repeat(64), Date.now());
  } catch (error) {
    await store.close().catch(() => undefined);
    client.disconnect();
    throw error;
  }
  // The store reads a session with HMGET on `<keyPrefix>session:<id>`, fields u d c m e a.
  const sessionKey = (id: string) => `${KEY_PREFIX}session:${id}`;
  const fields = ["u", "d", "c", "m", "e", "a"];
  return {
    store,
    describe: `Redis ${version} at ${REDIS_URL} (ioredis ${versionOf("ioredis")}), one connection each (store's own, floor's own), key ${KEY_PREFIX}session:<id>`,
    floorLabel: `ioredis hmget(${KEY_PREFIX}session:<id>, ${fields.join(" ")})`,
    lookup: async (id) => {
      const values = await client.hmget(sessionKey(id), ...fields);
      return values[0] === null ? undefined : values;
    },
    updatedAt: async (id) => {
      const m = await client.hget(sessionKey(id), "m");
      return m === null ? undefined : Number(m);
    },
    cleanup: async () => {
      try {
        let cursor = "0";
        let deleted = 0;
        do {
          const [next, keys] = await client.scan(cursor, "MATCH", `${KEY_PREFIX}*`, "COUNT", 1000);
          cursor = next;
          if (keys.length > 0) deleted += await client.del(...keys);
        } while (cursor !== "0");
        return `deleted ${deleted} keys ${KEY_PREFIX}*`;
      } finally {
        await client.quit().catch(() => client.disconnect());
      }
    },
  };
}

async function openMemory(m: Modules): Promise<Backend> {
  const store = m.memoryStore();
  // The store's Map is private: the floor is a Map.get on a Map holding a copy of the row.
  const rows = new Map<string, StoredSession>();
  let copied = false;
  return {
    store,
    describe: "memoryStore() (in-process Map, structuredClone on read); reference row, no target",
    floorLabel: "Map.get of a copy of the row",
    lookup: async (id) => {
      if (!copied) {
        const row = await store.get(id, Date.now());
        if (row) rows.set(id, row);
        copied = true;
      }
      return rows.get(id);
    },
    updatedAt: async (id) => (await store.get(id, Date.now()))?.updatedAt,
    cleanup: async () => "cleared",
  };
}

/** Signs in, checks the preconditions, counts the writes; fills the row's cases. */
async function prepareRow(m: Modules, row: Row, backend: Backend): Promise<void> {
  const authorize = async () => ({ ...USER });
  row.store = backend.store;
  row.cleanup = backend.cleanup;
  row.floorLabel = backend.floorLabel;
  console.log(`${row.name}: ${backend.describe}`);

  // Store writes per 1000 requests, on a fake clock, through a counting proxy of the same store.
  const { store: counted, counts } = countingStore(backend.store);
  let fakeNow = Date.now();
  const writer = m.createSessionHandler({
    secret: SECRET,
    session: { strategy: "database", maxAge: MAX_AGE, updateAge: WRITES_UPDATE_AGE },
    store: counted,
    authorize,
    clock: () => fakeNow,
  });
  const signedInAt = fakeNow;
  const writerToken = await signIn(writer.handler, { email: USER.email, password: "bench" });
  const writerId = storeIdOf(writerToken);
  const run = async (): Promise<{ counts: WriteCounts; bad: number }> => {
    Object.assign(counts, emptyCounts());
    let bad = 0;
    for (let i = 0; i < WRITES_REQUESTS; i++) {
      const response = await writer.handler(sessionRequest(writerToken));
      await response.text();
      if (response.status !== 200) bad++;
      fakeNow += WRITES_STEP_MS;
    }
    return { counts: { ...counts }, bad };
  };
  fakeNow += WRITES_STEP_MS;
  const unelapsed = await run();
  const updatedBefore = await backend.updatedAt(writerId);
  // Jump once past updateAge since sign-in: the next request is due to slide the expiry.
  fakeNow = signedInAt + (WRITES_UPDATE_AGE + 100) * 1000;
  const jumpedTo = fakeNow;
  const elapsed = await run();
  const updatedAfter = await backend.updatedAt(writerId);
  const problems: string[] = [];
  if (unelapsed.bad + elapsed.bad > 0) problems.push(`${unelapsed.bad + elapsed.bad} non-200`);
  if (updatedBefore !== signedInAt) problems.push(`updated_at ${updatedBefore} after the unelapsed run, sign-in was ${signedInAt}`);
  if (updatedAfter !== jumpedTo) problems.push(`updated_at ${updatedAfter} after the elapsed run, expected ${jumpedTo} (the first request after the jump)`);
  row.writes = {
    unelapsed: unelapsed.counts,
    elapsed: elapsed.counts,
    check: problems.length ? `CHECK FAILED: ${problems.join("; ")}` : "row's updated_at agrees",
  };

  // The measured handler: real clock, updateAge 1 day, so no request writes.
  const { handler } = m.createSessionHandler({
    secret: SECRET,
    session: { strategy: "database", maxAge: MAX_AGE, updateAge: MEASURE_UPDATE_AGE },
    store: backend.store,
    authorize,
  });
  const token = await signIn(handler, { email: USER.email, password: "bench" });
  const id = storeIdOf(token);
  const probe = await handler(sessionRequest(token));
  const probeText = await probe.text();
  const probeBody = JSON.parse(probeText) as { user?: { email?: string } } | null;
  if (probe.status !== 200) throw new Error(`precondition: GET /session answered ${probe.status}: ${probeText}`);
  if (probe.headers.getSetCookie().length > 0) throw new Error("precondition: GET /session sent Set-Cookie (it would be writing)");
  if (probeBody?.user?.email !== USER.email) throw new Error(`precondition: no session in the body: ${probeText}`);
  if ((await backend.lookup(id)) === undefined) throw new Error(`precondition: the raw lookup finds no row ${id}`);
  const expectedLength = probeText.length;

  const session: Case = {
    id: `${row.name}`,
    failures: 0,
    opsPerRound: [],
    op: async () => {
      const response = await handler(sessionRequest(token));
      const text = await response.text();
      if (response.status !== 200 || text.length !== expectedLength) session.failures++;
    },
  };
  const floor: Case = {
    id: `${row.name}-floor`,
    failures: 0,
    opsPerRound: [],
    op: async () => {
      if ((await backend.lookup(id)) === undefined) floor.failures++;
    },
  };
  // The least a Fetch handler can do around the same lookup: the same Request
  // as the session path, its Cookie header read, the raw lookup by the stored
  // id, the row as JSON in a Response, read as text. What no `GET /session`
  // can go below, so `floor / fetchFloor` is the best ratio any Fetch handler reaches.
  const cookieHeader = `${COOKIE_NAME}=${token}`;
  const fetchFloor: Case = {
    id: `${row.name}-fetch-floor`,
    failures: 0,
    opsPerRound: [],
    op: async () => {
      const request = sessionRequest(token);
      const found = request.headers.get("cookie") === cookieHeader ? await backend.lookup(id) : undefined;
      if (found === undefined) fetchFloor.failures++;
      await new Response(JSON.stringify(found), { headers: FETCH_FLOOR_HEADERS }).text();
    },
  };
  row.session = session;
  row.floor = floor;
  row.fetchFloor = fetchFloor;
  // Checked after measuring: the measured handler must not have written.
  const updatedAt = await backend.updatedAt(id);
  row.checkNoWrite = async () => ((await backend.updatedAt(id)) === updatedAt ? undefined : "the measured session's updated_at moved");
}

const FETCH_FLOOR_HEADERS = { "content-type": "application/json", "cache-control": "private, no-store" };

/** Per round, the minimal Fetch handler over the raw lookup: the best ratio any `GET /session` could show. */
const ceilingRatios = (row: Row) => row.fetchFloor!.opsPerRound.map((ops, round) => ops / row.floor!.opsPerRound[round]!);

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
/** Two decimals, or three significant digits below 0.1 (the reference row's ratio is far below 1). */
const fmtRatio = (r: number) => (r >= 0.1 ? r.toFixed(2) : r.toPrecision(2));
const writesCell = (c: WriteCounts) => {
  const extra = [c.create && `create ${c.create}`, c.touchWrote && `touch ${c.touchWrote}`, c.update && `update ${c.update}`, c.delete && `delete ${c.delete}`]
    .filter(Boolean)
    .join(", ");
  return `${writesOf(c)}${extra ? ` (${extra})` : ""}`;
};

async function main(): Promise<void> {
  const startedAt = new Date();
  printHeader("sessionpulse server benchmark: GET /session, database strategy", ["pg", "ioredis"], KNOBS, CONCURRENCY, " over all cases", [
    `per-run prefix: tables ${TABLE_PREFIX}*, keys ${KEY_PREFIX}*`,
  ]);

  const modules = await loadModules();
  if (typeof modules === "string") {
    console.log(`ERROR: ${modules}`);
    return;
  }

  const allSpecs: { name: string; label: string; target: boolean; open: (m: Modules) => Promise<Backend> }[] = [
    { name: "sqlite", label: "SQLite (temp file, WAL)", target: true, open: openSqlite },
    { name: "postgres", label: "PostgreSQL", target: true, open: openPostgres },
    { name: "redis", label: "Redis", target: true, open: openRedis },
    { name: "memory", label: "memoryStore (reference)", target: false, open: openMemory },
  ];
  const specs = allSpecs.filter((spec) => STORES === undefined || STORES.includes(spec.name));
  if (specs.length === 0) {
    console.log(`ERROR: BENCH_STORES=${process.env.BENCH_STORES} names none of ${allSpecs.map((spec) => spec.name).join(", ")}`);
    return;
  }
  const rows: Row[] = specs.map((spec) => ({ name: spec.name, label: spec.label, target: spec.target, ratios: [], fetchRatios: [] }));

  try {
    for (const [i, spec] of specs.entries()) {
      const row = rows[i]!;
      try {
        await prepareRow(modules, row, await spec.open(modules));
      } catch (error) {
        row.skipped = message(error);
        console.log(`${row.name}: SKIPPED: ${row.skipped}`);
      }
    }
    console.log("");

    const active = rows.filter((row) => !row.skipped);
    const cases = active.flatMap((row) => [row.floor!, row.fetchFloor!, row.session!]);
    await runRounds(cases, KNOBS, CONCURRENCY, (round) => {
      const parts: string[] = [];
      for (const row of active) {
        const session = row.session!.opsPerRound[round]!;
        const floor = row.floor!.opsPerRound[round]!;
        const fetchFloor = row.fetchFloor!.opsPerRound[round]!;
        row.ratios.push(session / floor);
        row.fetchRatios.push(session / fetchFloor);
        parts.push(`${row.name} ${fmt(session)}/${fmt(floor)}/${fmt(fetchFloor)} (${fmtRatio(session / floor)}×, ${fmtRatio(session / fetchFloor)}×)`);
      }
      console.log(`round ${round + 1}/${KNOBS.rounds} (session/floor/Fetch floor req/s): ${parts.join(" · ")}`);
    });

    for (const row of active) {
      const problem = await row.checkNoWrite?.();
      if (problem) {
        row.session!.failures++;
        console.log(`${row.name}: ${problem}`);
      }
    }

    const header = [
      "store",
      "session path req/s median (min–max)",
      "raw lookup req/s median (min–max)",
      "ratio, median of per-round (min–max)",
      "minimal Fetch handler around the raw lookup req/s: the ceiling's ratio · session path × it",
      "writes/1000, updateAge unelapsed",
      "writes/1000, elapsed",
      "target status",
    ];
    const tableRows = rows.map((row) => {
      if (row.skipped) return [row.label, "SKIPPED", "", "", "", "", "", `SKIPPED: ${row.skipped}`];
      const s = row.session!.opsPerRound;
      const f = row.floor!.opsPerRound;
      const ratio = median(row.ratios);
      const w = row.writes!;
      const writesMet = writesOf(w.unelapsed) === 0 && writesOf(w.elapsed) === 1 && w.elapsed.touchWrote === 1 && !w.check.startsWith("CHECK");
      const status: string[] = [];
      const failures = row.session!.failures + row.floor!.failures + row.fetchFloor!.failures;
      if (failures > 0) status.push(`INVALID: ${failures} unexpected answers`);
      status.push(
        row.target ? (ratio >= RATIO_TARGET ? `ratio met (≥ ${RATIO_TARGET}×)` : `ratio MISSED (< ${RATIO_TARGET}×)`) : "ratio: reference, no target",
      );
      status.push(writesMet ? "writes met (0 / 1)" : "writes MISSED (target 0 / 1)");
      return [
        row.label,
        `${fmt(median(s))} (${fmt(Math.min(...s))}–${fmt(Math.max(...s))})`,
        `${fmt(median(f))} (${fmt(Math.min(...f))}–${fmt(Math.max(...f))})`,
        `${fmtRatio(ratio)} (${fmtRatio(Math.min(...row.ratios))}–${fmtRatio(Math.max(...row.ratios))})`,
        `${fmt(median(row.fetchFloor!.opsPerRound))}: ceiling ${fmtRatio(median(ceilingRatios(row)))}× · session ${fmtRatio(median(row.fetchRatios))}×`,
        writesCell(w.unelapsed),
        writesCell(w.elapsed),
        status.join(" · "),
      ];
    });
    const table = [header, header.map(() => "---"), ...tableRows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
    console.log(`\n${table}\n`);

    for (const row of active) console.log(`floor ${row.name}: ${row.floorLabel}`);
    console.log(
      "Fetch floor: the session path's Request, its Cookie header read, the same raw lookup, the row as JSON in a Response read as text; its ratio to the raw lookup is the most any Fetch handler can reach",
    );
    for (const row of active) {
      const w = row.writes!;
      console.log(
        `writes ${row.name}: touch calls ${w.unelapsed.touchCalls} unelapsed / ${w.elapsed.touchCalls} elapsed (a call that wrote nothing is not a write); ${w.check}`,
      );
    }
    console.log("");

    let missed = 0;
    for (const row of active) {
      const ratio = median(row.ratios);
      if (row.target && ratio < RATIO_TARGET) {
        missed++;
        const ceiling = median(ceilingRatios(row));
        const why = ceiling < RATIO_TARGET ? ` (unreachable for a Fetch handler: the lookup alone inside one reaches ${fmtRatio(ceiling)}×)` : "";
        console.log(`TARGET MISSED: ${row.label}: session path ${fmtRatio(ratio)}× its raw lookup, target ≥ ${RATIO_TARGET}×${why}`);
      }
      const w = row.writes!;
      const problems = [
        writesOf(w.unelapsed) !== 0 && `TARGET MISSED: ${row.label}: ${writesOf(w.unelapsed)} writes per 1000 requests with updateAge unelapsed, target 0`,
        writesOf(w.elapsed) !== 1 && `TARGET MISSED: ${row.label}: ${writesOf(w.elapsed)} writes per 1000 requests after updateAge elapsed, target 1`,
        w.check.startsWith("CHECK") && `TARGET MISSED: ${row.label}: ${w.check}`,
        row.session!.failures + row.floor!.failures + row.fetchFloor!.failures > 0 && `INVALID: ${row.label}: unexpected answers while measuring`,
      ].filter((line): line is string => typeof line === "string");
      missed += problems.length;
      for (const line of problems) console.log(line);
    }
    for (const row of rows) if (row.skipped) console.log(`NOT MEASURED: ${row.label}: ${row.skipped}`);
    if (missed === 0 && rows.every((row) => !row.skipped)) console.log("All targets met.");
  } finally {
    for (const row of rows) {
      if (!row.store) continue;
      try {
        await row.store.close();
        console.log(`cleanup ${row.name}: store closed; ${await row.cleanup!()}`);
      } catch (error) {
        console.log(`cleanup ${row.name}: FAILED: ${message(error)}`);
      }
    }
  }
  console.log(footer(startedAt, CONCURRENCY));
}

await runReport(main);

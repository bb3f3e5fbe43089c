/**
 * Cost growth, JWT strategy: time per `GET /session` of the built handler
 * (`dist/server.js`, in-process, real `Request`s, c=1) as three things grow:
 *
 * - **size**: the session's claims, 1 KB → 10 KB (a `jwt` callback adds a
 *   field at sign-in; past ~4 KB the cookie is split into chunks `.0`, `.1`,
 *   …). Per size: a repeat request (same cookie: a cache hit), the cache off
 *   (every request decrypts: a first sight's cost), and re-issuing
 *   (`updateAge: 0`: every request encrypts and sets the chunked cookie).
 *   Every handler of this part has `cookies.maxSize: 32768`: the default
 *   12,288-character cap refuses the 10 KB token (see the report).
 * - **keys**: secrets in rotation, 1 → 5. Per count: a token under the first
 *   secret, repeat request and cache off; and a token under the last secret,
 *   which is re-issued under the first on every request (what a browser's
 *   first request after a rotation costs; with one secret the last is the
 *   first, so that cell is `updateAge: 0` instead, the same work).
 * - **deny-list**: revoked token ids in the store, 0 → 100,000, on SQLite
 *   (file, WAL), Redis and PostgreSQL; a repeat request (a cache hit, whose
 *   cost is then the deny-list read: one `revokedAt` for the token's id and
 *   one for the user's generation, on every request). Each size has its own
 *   store (a SQLite file, a Redis database 8–11, a PostgreSQL table prefix),
 *   filled through `store.revokeToken` with random ids, so the sizes can be
 *   measured interleaved.
 *
 * Run: `npx vite build && npm run bench:cost-growth` (about 4 minutes). Knobs:
 * BENCH_PARTS (comma list of size, keys, denylist; default all),
 * BENCH_DENYLIST (comma list of sizes, default 0,1000,10000,100000),
 * BENCH_ROUNDS (default 5), BENCH_WINDOW_MS (default 600), BENCH_SLICE_MS
 * (default 100), BENCH_SEED; BENCH_PG_URL / BENCH_REDIS_URL as in
 * bench/server-db.ts. Method as in the other throughput benchmarks: within a
 * part, every case gets the same slices in a new random order on each pass;
 * a case's growth is its time per request over the smallest one's in the same
 * round (median of the per-round ratios). It always exits 0.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jwtDecrypt } from "jose";
import type { createSessionHandler as CreateSessionHandler, SessionCallbacks, SessionHandlerConfig, Store } from "../src/server/index.ts";
import type { sqliteStore as SqliteStore } from "../src/server/stores/sqlite.ts";
import type { postgresStore as PostgresStore } from "../src/server/stores/postgres.ts";
import type { redisStore as RedisStore } from "../src/server/stores/redis.ts";
import {
  deleteRedisKeys,
  COOKIE_NAME,
  MAX_AGE,
  ORIGIN,
  SECRET,
  USER,
  footer,
  importDist,
  median,
  message,
  positiveInts,
  printHeader,
  runReport,
  runRounds,
  sliceKnobs,
  versionOf,
} from "./support.ts";

const KNOBS = sliceKnobs(600);
const PARTS = (process.env.BENCH_PARTS ?? "size,keys,denylist").split(",").map((part) => part.trim());
const SIZES_KB = [1, 2, 4, 6, 8, 10];
const KEY_COUNTS = [1, 2, 3, 4, 5];
/** Revoked ids per store; 0 always comes first (the base of the ratios). */
const DENY_SIZES = [0, ...new Set(positiveInts(process.env.BENCH_DENYLIST, [1000, 10_000, 100_000]))];
const PG_URL = process.env.BENCH_PG_URL ?? process.env.SESSIONPULSE_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.SESSIONPULSE_REDIS_URL ?? "redis://127.0.0.1:6379";
/** Redis databases of the deny-list part, one per size (the tests use database 0). */
const REDIS_DB_BASE = 8;
const RUN = randomBytes(4).toString("hex");
const SESSION_URL = `${ORIGIN}/api/auth/session`;
const COOKIE_MAX = 32_768;
/** For the handler that only shows the default cookie cap refusing a token: its cookie_too_large is the answer, not news. */
const QUIET = { error: () => {}, warn: () => {}, debug: () => {} };

interface Modules {
  createSessionHandler: typeof CreateSessionHandler;
  sqliteStore: typeof SqliteStore;
  postgresStore: typeof PostgresStore;
  redisStore: typeof RedisStore;
}

interface Case {
  id: string;
  op: () => Promise<void>;
  failures: number;
  opsPerRound: number[];
}

type Handler = ReturnType<typeof CreateSessionHandler>;

/** The Cookie header of a sign-in's session cookie (one, or its chunks). */
function cookieHeaderOf(setCookies: string[]): { header: string; token: string; chunks: number; chars: number } {
  const pairs = setCookies
    .filter((line) => line.startsWith(COOKIE_NAME) && !/;\s*Max-Age=0/i.test(line))
    .map((line) => line.slice(0, line.indexOf(";")))
    .filter((pair) => pair.length > pair.indexOf("=") + 1);
  if (pairs.length === 0) throw new Error("sign-in set no session cookie");
  // Chunks come in order (.0, .1, …): their values joined are the token.
  const token = pairs.map((pair) => pair.slice(pair.indexOf("=") + 1)).join("");
  return { header: pairs.join("; "), token, chunks: pairs.length, chars: token.length };
}

async function signedIn(handler: Handler): Promise<ReturnType<typeof cookieHeaderOf>> {
  const { cookies } = await handler.api.signIn(new Request(`${ORIGIN}/api/auth/signin`), { ...USER });
  return cookieHeaderOf(cookies);
}

/** A case sending `cookie` to `handler`; an answer without the session, or whose Set-Cookie is not as `reissues` says, is a failure. */
function sessionCase(id: string, handler: Handler, cookie: string, reissues: boolean): Case {
  const entry: Case = {
    id,
    failures: 0,
    opsPerRound: [],
    op: async () => {
      const response = await handler.handler(new Request(SESSION_URL, { headers: { cookie } }));
      const text = await response.text();
      if (response.status !== 200 || !text.includes(USER.email) || response.headers.has("set-cookie") !== reissues) entry.failures++;
    },
  };
  return entry;
}

/** Checks a case once before measuring; throws with what differed. */
async function probe(entry: Case): Promise<void> {
  await entry.op();
  if (entry.failures > 0) throw new Error(`${entry.id}: the answer is not as expected (status, session or Set-Cookie)`);
}

const us = (opsPerSecond: number) => 1e6 / opsPerSecond;
const fmtUs = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

/** Runs a part's cases interleaved; returns per case id its median µs/request and per-round µs. */
async function measurePart(title: string, cases: Case[]): Promise<Map<string, number[]>> {
  console.log(`\n${title}: ${cases.length} cases`);
  await runRounds(cases, KNOBS, 1, (round) => {
    console.log(`  round ${round + 1}/${KNOBS.rounds}: ${cases.map((entry) => `${entry.id} ${fmtUs(us(entry.opsPerRound[round]!))} µs`).join(" · ")}`);
  });
  for (const entry of cases) if (entry.failures > 0) console.log(`INVALID: ${entry.id}: ${entry.failures} answers not as expected`);
  return new Map(cases.map((entry) => [entry.id, entry.opsPerRound.map(us)]));
}

/** "µs (×ratio to `base` in the same round)". */
function cell(times: Map<string, number[]>, id: string, base: string): string {
  const mine = times.get(id);
  const theirs = times.get(base);
  if (!mine) return "–";
  const own = `${fmtUs(median(mine))} µs`;
  if (!theirs || id === base) return own;
  return `${own} (${median(mine.map((value, round) => value / theirs[round]!)).toFixed(2)}×)`;
}

const table = (header: string[], rows: string[][]) => [header, header.map(() => "---"), ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");

/** HKDF-SHA256, salt = cookie name: the derivation Auth.js and src/server/jwt/keys.ts use (to read a token's claims size). */
async function claimsBytes(token: string): Promise<number> {
  const encoder = new TextEncoder();
  const material = await crypto.subtle.importKey("raw", encoder.encode(SECRET), "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode(COOKIE_NAME), info: encoder.encode(`Auth.js Generated Encryption Key (${COOKIE_NAME})`) },
    material,
    512,
  );
  const { payload } = await jwtDecrypt(token, new Uint8Array(bits));
  return JSON.stringify(payload).length;
}

async function sizePart(m: Modules): Promise<string> {
  const authorize = async () => ({ ...USER });
  const base = { secret: SECRET, authorize, cookies: { maxSize: COOKIE_MAX } } satisfies SessionHandlerConfig;
  const cases: Case[] = [];
  const info: string[][] = [];
  // The claims without padding, to size the pad.
  const plain = m.createSessionHandler(base);
  const plainCookie = await signedIn(plain);
  const plainBytes = await claimsBytes(plainCookie.token);
  for (const kb of SIZES_KB) {
    const pad = "p".repeat(Math.max(0, kb * 1024 - plainBytes - ',"profile":""'.length));
    const callbacks: SessionCallbacks = { jwt: ({ token, user }) => (user ? { ...token, profile: pad } : token) };
    const hit = m.createSessionHandler({ ...base, callbacks });
    const cold = m.createSessionHandler({ ...base, callbacks, jwt: { cache: false } });
    const reissuing = m.createSessionHandler({ ...base, callbacks, session: { maxAge: MAX_AGE, updateAge: 0 } });
    const cookie = await signedIn(hit);
    const bytes = await claimsBytes(cookie.token);
    const defaultHandler = m.createSessionHandler({ secret: SECRET, authorize, callbacks, logger: QUIET });
    const refusedByDefault = (await (await defaultHandler.handler(new Request(SESSION_URL, { headers: { cookie: cookie.header } }))).json()) === null;
    info.push([`${kb} KB`, String(bytes), String(cookie.chars), String(cookie.chunks), refusedByDefault ? "refused (over 12,288)" : "accepted"]);
    for (const [suffix, handler, reissues] of [
      ["hit", hit, false],
      ["nocache", cold, false],
      ["reissue", reissuing, true],
    ] as const) {
      const entry = sessionCase(`size-${kb}-${suffix}`, handler, cookie.header, reissues);
      await probe(entry);
      cases.push(entry);
    }
  }
  const times = await measurePart("size", cases);
  const rows = SIZES_KB.map((kb, i) => [
    ...info[i]!,
    cell(times, `size-${kb}-hit`, "size-1-hit"),
    cell(times, `size-${kb}-nocache`, "size-1-nocache"),
    cell(times, `size-${kb}-reissue`, "size-1-reissue"),
  ]);
  return table(
    [
      "claims",
      "claims JSON bytes",
      "cookie chars",
      "chunks",
      "default cookies.maxSize",
      "repeat request (cache hit), × 1 KB",
      "cache off (decrypts), × 1 KB",
      "re-issuing (updateAge 0), × 1 KB",
    ],
    rows,
  );
}

async function keysPart(m: Modules): Promise<string> {
  const authorize = async () => ({ ...USER });
  const secrets = Array.from({ length: Math.max(...KEY_COUNTS) }, (_, i) => `${SECRET}-rotation-${i}`);
  const cases: Case[] = [];
  for (const k of KEY_COUNTS) {
    const ring = secrets.slice(0, k);
    const hit = m.createSessionHandler({ secret: ring, authorize });
    const cold = m.createSessionHandler({ secret: ring, authorize, jwt: { cache: false } });
    const first = await signedIn(hit);
    cases.push(sessionCase(`keys-${k}-hit`, hit, first.header, false), sessionCase(`keys-${k}-nocache`, cold, first.header, false));
    if (k === 1) {
      const reissuing = m.createSessionHandler({ secret: ring, authorize, session: { maxAge: MAX_AGE, updateAge: 0 } });
      cases.push(sessionCase(`keys-${k}-last`, reissuing, first.header, true));
    } else {
      // Signed in by a server that had only the last secret; this one has it last: re-issued under the first.
      const last = await signedIn(m.createSessionHandler({ secret: ring[k - 1]!, authorize }));
      cases.push(sessionCase(`keys-${k}-last`, hit, last.header, true));
    }
  }
  for (const entry of cases) await probe(entry);
  const times = await measurePart("keys", cases);
  const rows = KEY_COUNTS.map((k) => [
    String(k),
    cell(times, `keys-${k}-hit`, "keys-1-hit"),
    cell(times, `keys-${k}-nocache`, "keys-1-nocache"),
    `${cell(times, `keys-${k}-last`, "keys-1-last")}${k === 1 ? " (updateAge 0: the same re-issue)" : ""}`,
  ]);
  return table(
    [
      "secrets",
      "token under the first: repeat request (cache hit), × 1 secret",
      "token under the first: cache off, × 1 secret",
      "token under the last: re-issued under the first, × 1 secret",
    ],
    rows,
  );
}

interface DenyStore {
  name: string;
  label: string;
  open: (size: number) => Promise<{ store: Store; filled?: () => void; cleanup: () => Promise<void> }>;
}

async function fill(store: Store, count: number): Promise<number> {
  const started = performance.now();
  const now = Date.now();
  const until = now + MAX_AGE * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) {
        next++;
        await store.revokeToken(crypto.randomUUID(), until, now);
      }
    }),
  );
  return performance.now() - started;
}

async function denylistPart(m: Modules): Promise<string> {
  const backends: DenyStore[] = [
    {
      name: "sqlite",
      label: "SQLite file (node:sqlite, WAL)",
      open: async () => {
        // The store on our own connection, set up as the store sets up its own file (WAL, synchronous FULL),
        // except while filling: 100,000 revocations each fsynced would take minutes.
        const { DatabaseSync } = await import("node:sqlite");
        const dir = mkdtempSync(join(tmpdir(), "sessionpulse-growth-"));
        const db = new DatabaseSync(join(dir, "s.db"));
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = OFF");
        const store = m.sqliteStore({ database: db });
        return {
          store,
          filled: () => db.exec("PRAGMA synchronous = FULL"),
          cleanup: async () => {
            db.close();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    },
    {
      name: "redis",
      label: "Redis",
      open: async (size) => {
        const db = REDIS_DB_BASE + DENY_SIZES.indexOf(size);
        const url = `${REDIS_URL.replace(/\/\d*$/, "")}/${db}`;
        const prefix = `sessionpulse-growth:${RUN}:`;
        const store = m.redisStore({ url }, { keyPrefix: prefix });
        return {
          store,
          cleanup: () => deleteRedisKeys(url, prefix),
        };
      },
    },
    {
      name: "postgres",
      label: "PostgreSQL",
      open: async (size) => {
        const prefix = `spgrowth_${RUN}_${size}_`;
        const store = m.postgresStore({ connectionString: PG_URL }, { tablePrefix: prefix });
        return {
          store,
          cleanup: async () => {
            const { Pool } = await import("pg");
            const pool = new Pool({ connectionString: PG_URL, max: 1 });
            try {
              const { rows } = await pool.query<{ tablename: string }>({
                text: "SELECT tablename FROM pg_tables WHERE tablename LIKE $1",
                values: [`${prefix}%`],
              });
              for (const { tablename } of rows) await pool.query(`DROP TABLE IF EXISTS "${tablename}"`);
            } finally {
              await pool.end();
            }
          },
        };
      },
    },
  ];
  const authorize = async () => ({ ...USER });
  const cases: Case[] = [];
  const opened: { store: Store; cleanup: () => Promise<void> }[] = [];
  const skipped: string[] = [];
  const fills: string[] = [];
  try {
    for (const backend of backends) {
      try {
        for (const size of DENY_SIZES) {
          const entry = await backend.open(size);
          opened.push(entry);
          const ms = await fill(entry.store, size);
          entry.filled?.();
          if (size > 0) fills.push(`${backend.name} ${size.toLocaleString("en-US")} in ${(ms / 1000).toFixed(1)} s`);
          const handler = m.createSessionHandler({ secret: SECRET, authorize, store: entry.store });
          const cookie = await signedIn(handler);
          const measured = sessionCase(`deny-${backend.name}-${size}`, handler, cookie.header, false);
          await probe(measured);
          cases.push(measured);
        }
      } catch (error) {
        skipped.push(`${backend.label}: ${message(error)}`);
        for (let i = cases.length - 1; i >= 0; i--) if (cases[i]!.id.startsWith(`deny-${backend.name}-`)) cases.splice(i, 1);
      }
    }
    console.log(`\ndeny-list filled through store.revokeToken (32 at a time): ${fills.join(", ")}`);
    for (const line of skipped) console.log(`SKIPPED ${line}`);
    const times = await measurePart("denylist", cases);
    const active = backends.filter((backend) => times.has(`deny-${backend.name}-0`));
    const rows = DENY_SIZES.map((size) => [
      size.toLocaleString("en-US"),
      ...active.map((backend) => cell(times, `deny-${backend.name}-${size}`, `deny-${backend.name}-0`)),
    ]);
    return table(["revoked ids in the store", ...active.map((backend) => `${backend.label}: repeat request, × 0`)], rows);
  } finally {
    for (const entry of opened) {
      await entry.store.close().catch(() => undefined);
      await entry.cleanup().catch((error: unknown) => console.log(`cleanup: ${message(error)}`));
    }
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  printHeader("sessionpulse cost growth: GET /session, JWT strategy, in-process", ["jose", "pg", "ioredis"], KNOBS, 1, " within each part");
  const loaded = await importDist<
    [Pick<Modules, "createSessionHandler">, Pick<Modules, "sqliteStore">, Pick<Modules, "postgresStore">, Pick<Modules, "redisStore">]
  >("server.js", "server/sqlite.js", "server/postgres.js", "server/redis.js");
  if (typeof loaded === "string") {
    console.log(`ERROR: ${loaded}`);
    return;
  }
  const [server, sqlite, postgres, redis] = loaded;
  const modules: Modules = { ...server, ...sqlite, ...postgres, ...redis };
  const tables: string[] = [];
  if (PARTS.includes("size")) tables.push(`Session size (cookies.maxSize ${COOKIE_MAX}):\n\n${await sizePart(modules)}`);
  if (PARTS.includes("keys")) tables.push(`Keys in rotation:\n\n${await keysPart(modules)}`);
  if (PARTS.includes("denylist")) tables.push(`Deny-list size (JWT with a store):\n\n${await denylistPart(modules)}`);
  console.log(`\n${tables.join("\n\n")}\n`);
  console.log(
    `jose ${versionOf("jose")}; µs per request = 1 / median ops/s over rounds; (×) = median over rounds of the ratio to the row's first line in the same round`,
  );
  console.log(footer(startedAt, 1));
}

await runReport(main);

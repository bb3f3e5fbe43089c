/**
 * One server under load, run by `bench/load.ts` in a child process of its own
 * (so its RSS and CPU are its own, and the load generator runs in another
 * process). Not meant to be run by hand.
 *
 * Argument: one JSON object ({@link ServerArgs}). The server signs in
 * `sessions` distinct users (u0 … u<n-1>), writes one line per session to
 * `cookieFile` (`<Cookie header>\t<what its answer must contain>`), listens on
 * 127.0.0.1 on a free port and sends `{ type: "ready", port, … }` over IPC. On
 * `{ type: "stats", reset }` it answers `{ type: "stats", … }` (RSS, peak RSS,
 * CPU, store writes since the last reset); on `{ type: "stop" }` it closes the
 * server and the store, drops what it created (tables, keys, files) and exits.
 *
 * Cases:
 * - `bare`: `node:http` answering a fixed session-shaped JSON body: the ceiling.
 * - `authjs`: `Auth()` from @auth/core (JWT strategy), behind the same
 *   `toNodeHandler` adapter as ours; cookies minted by `@auth/core/jwt`.
 * - `jwt`, `jwt-fit`: `createSessionHandler`, JWT strategy, default options
 *   (`jwt-fit`: a verified-token cache large enough for every session).
 * - `db-sqlite`, `db-postgres`, `db-redis`: the database strategy on each
 *   store, through a wrapper counting the store's writes. The sessions are
 *   signed in by a handler whose clock runs `updateAge` + 1 h behind, so each
 *   is due for one expiry slide: the first request of each session writes once,
 *   and no later one may (≤ 1 write per session per `updateAge`).
 */
import { createServer, type RequestListener, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Auth } from "@auth/core";
import Credentials from "@auth/core/providers/credentials";
import { encode as authjsEncode } from "@auth/core/jwt";
import type { createSessionHandler as CreateSessionHandler, Store, toNodeHandler as ToNodeHandler } from "../src/server/index.ts";
import type { sqliteStore as SqliteStore } from "../src/server/stores/sqlite.ts";
import type { postgresStore as PostgresStore } from "../src/server/stores/postgres.ts";
import type { redisStore as RedisStore } from "../src/server/stores/redis.ts";
import { COOKIE_NAME, MAX_AGE, ORIGIN, SECRET, deleteRedisKeys, importDist, message, versionOf } from "./support.ts";

export const CASES = ["bare", "authjs", "jwt", "jwt-fit", "db-sqlite", "db-postgres", "db-redis"] as const;
export type CaseName = (typeof CASES)[number];

export interface ServerArgs {
  case: CaseName;
  sessions: number;
  cookieFile: string;
  pgUrl: string;
  redisUrl: string;
}

/** Store writes counted by the wrapper: calls that changed something (a touch or an update that wrote nothing is not a write). */
export interface WriteCounts {
  total: number;
  byMethod: Record<string, number>;
  /** Sessions with at least one expiry slide (a touch that wrote). */
  sessionsTouched: number;
  /** The most touches that wrote for one session. */
  maxTouchesPerSession: number;
}

export type ServerMessage =
  | { type: "ready"; port: number; describe: string; setupMs: number; cookieChars: number; writesAtSignIn?: WriteCounts }
  | { type: "stats"; rss: number; maxRss: number; heapUsed: number; cpuMs: number; writes?: WriteCounts }
  | { type: "error"; message: string };

export type ParentMessage = { type: "stats"; reset: boolean } | { type: "stop" };

/** The database strategy's `updateAge` (the default, 1 day): a session written once in the run may not be written again. */
const UPDATE_AGE = 86_400;
/** The session-shaped body of the bare server, as big as ours. */
const BARE_BODY = JSON.stringify({
  user: { name: "User 0", email: "u0@example.com", image: "https://example.com/avatars/u0.png", id: "u0" },
  expires: new Date(Date.now() + MAX_AGE * 1000).toISOString(),
});
const userOf = (i: number) => ({ id: `u${i}`, name: `User ${i}`, email: `u${i}@example.com`, image: `https://example.com/avatars/u${i}.png` });
/** What an answer must contain to carry session `i`: its own user's email. */
const expectedOf = (i: number) => `"email":"u${i}@example.com"`;

const WRITE_METHODS = new Set(["create", "touch", "update", "delete", "deleteByUser", "revokeToken", "advanceGeneration", "putValue", "deleteValue", "prune"]);
/** Methods whose boolean result says whether they wrote. */
const WROTE_IF_TRUE = new Set(["touch", "update", "putValue"]);

/** The store with its writes counted: a plain object over every method of the store, built once. */
function countingStore(store: Store): { store: Store; counts: () => WriteCounts; reset: () => void } {
  let byMethod: Record<string, number> = {};
  let touches = new Map<string, number>();
  const wrapped: Record<string, unknown> = {};
  for (const key in store) {
    const value = (store as unknown as Record<string, unknown>)[key];
    if (typeof value !== "function") continue;
    const method = value as (...args: unknown[]) => unknown;
    wrapped[key] = WRITE_METHODS.has(key)
      ? async (...args: unknown[]) => {
          const result = await method.apply(store, args);
          if (!WROTE_IF_TRUE.has(key) || result === true) {
            byMethod[key] = (byMethod[key] ?? 0) + 1;
            if (key === "touch") touches.set(args[0] as string, (touches.get(args[0] as string) ?? 0) + 1);
          }
          return result;
        }
      : (...args: unknown[]) => method.apply(store, args);
  }
  return {
    store: wrapped as unknown as Store,
    counts: () => ({
      total: Object.values(byMethod).reduce((a, b) => a + b, 0),
      byMethod: { ...byMethod },
      sessionsTouched: touches.size,
      maxTouchesPerSession: Math.max(0, ...touches.values()),
    }),
    reset: () => {
      byMethod = {};
      touches = new Map();
    },
  };
}

/** Runs `task(i)` for i in 0…n-1, `width` at a time. */
async function inBatches(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

interface Modules {
  createSessionHandler: typeof CreateSessionHandler;
  toNodeHandler: typeof ToNodeHandler;
  sqliteStore: typeof SqliteStore;
  postgresStore: typeof PostgresStore;
  redisStore: typeof RedisStore;
}

interface Built {
  listener: RequestListener;
  cookies: string[];
  describe: string;
  writes?: ReturnType<typeof countingStore>;
  cleanup: () => Promise<void>;
}

/** `toNodeHandler(handler)` as a `node:http` listener (it settles on its own and never rejects). */
function listenerOf(m: Modules, handler: (request: Request) => Promise<Response>): RequestListener {
  const node = m.toNodeHandler(handler);
  return (request, response) => void node(request, response);
}

const sessionCookieLine = (cookies: string[]) => {
  const line = cookies.find((cookie) => cookie.startsWith(`${COOKIE_NAME}=`));
  if (!line) throw new Error("auth.api.signIn set no session cookie");
  return line.slice(0, line.indexOf(";"));
};

async function build(args: ServerArgs, m: Modules): Promise<Built> {
  const n = args.sessions;
  const cookies: string[] = new Array<string>(n);
  const authorize = async () => null;
  switch (args.case) {
    case "bare": {
      // Cookies as long as ours, so the requests weigh the same; the answer ignores them.
      for (let i = 0; i < n; i++) cookies[i] = `${COOKIE_NAME}=${randomBytes(450).toString("base64url")}`;
      const headers = { "content-type": "application/json", "cache-control": "private, no-store", "content-length": Buffer.byteLength(BARE_BODY) };
      return {
        listener: (_request, response) => {
          response.writeHead(200, headers);
          response.end(BARE_BODY);
        },
        cookies,
        describe: `bare node:http, fixed ${BARE_BODY.length}-byte JSON body`,
        cleanup: async () => {},
      };
    }
    case "authjs": {
      const config = {
        basePath: "/api/auth",
        trustHost: true,
        secret: SECRET,
        session: { strategy: "jwt" as const, maxAge: MAX_AGE },
        providers: [Credentials({ credentials: { email: {}, password: {} }, authorize })],
      };
      await inBatches(n, 8, async (i) => {
        const user = userOf(i);
        const token = await authjsEncode({
          token: { sub: user.id, name: user.name, email: user.email, picture: user.image },
          secret: SECRET,
          salt: COOKIE_NAME,
          maxAge: MAX_AGE,
        });
        cookies[i] = `${COOKIE_NAME}=${token}`;
      });
      return {
        listener: listenerOf(m, (request) => Auth(request, config)),
        cookies,
        describe: `Auth() from @auth/core ${versionOf("@auth/core")}, JWT strategy, behind sessionpulse's toNodeHandler`,
        cleanup: async () => {},
      };
    }
    case "jwt":
    case "jwt-fit": {
      const fit = args.case === "jwt-fit";
      // Room for every session and then some: 10,000 tokens of ~1 KB each (token + claims + 160 B) need ~10 MB.
      const cache = { maxEntries: Math.max(10_000, n), maxBytes: Math.max(32 * 2 ** 20, n * 2048) };
      const auth = m.createSessionHandler({ secret: SECRET, session: { maxAge: MAX_AGE }, authorize, ...(fit ? { jwt: { cache } } : {}) });
      await inBatches(n, 8, async (i) => {
        const { cookies: set } = await auth.api.signIn(new Request(`${ORIGIN}/api/auth/signin`), userOf(i));
        cookies[i] = sessionCookieLine(set);
      });
      return {
        listener: listenerOf(m, auth.handler),
        cookies,
        describe: `createSessionHandler, JWT strategy, no store, ${fit ? `verified-token cache of ${cache.maxEntries} entries / ${cache.maxBytes / 2 ** 20} MiB` : "default options (verified-token cache: 10,000 entries / 16 MiB)"}`,
        cleanup: async () => {},
      };
    }
    case "db-sqlite":
    case "db-postgres":
    case "db-redis": {
      const run = randomBytes(4).toString("hex");
      let store: Store;
      let describe: string;
      let drop: () => Promise<void>;
      if (args.case === "db-sqlite") {
        const dir = mkdtempSync(join(tmpdir(), "sessionpulse-load-"));
        store = m.sqliteStore({ path: join(dir, "sessions.db"), driver: "node:sqlite" }, { tablePrefix: `spload_${run}_` });
        describe = `SQLite file (node:sqlite, WAL) in ${dir}`;
        drop = async () => rmSync(dir, { recursive: true, force: true });
      } else if (args.case === "db-postgres") {
        const prefix = `spload_${run}_`;
        store = m.postgresStore({ connectionString: args.pgUrl }, { tablePrefix: prefix });
        describe = `PostgreSQL at ${args.pgUrl} (pg ${versionOf("pg")}, the store's own pool: 10 connections)`;
        drop = async () => {
          const { Pool } = await import("pg");
          const pool = new Pool({ connectionString: args.pgUrl, max: 1 });
          try {
            const { rows } = await pool.query<{ tablename: string }>({
              text: "SELECT tablename FROM pg_tables WHERE tablename LIKE $1",
              values: [`${prefix}%`],
            });
            for (const { tablename } of rows) await pool.query(`DROP TABLE IF EXISTS "${tablename}"`);
          } finally {
            await pool.end();
          }
        };
      } else {
        const prefix = `sessionpulse-load:${run}:`;
        store = m.redisStore({ url: args.redisUrl }, { keyPrefix: prefix });
        describe = `Redis at ${args.redisUrl} (ioredis ${versionOf("ioredis")})`;
        drop = () => deleteRedisKeys(args.redisUrl, prefix);
      }
      const counted = countingStore(store);
      const options = { secret: SECRET, session: { strategy: "database" as const, maxAge: MAX_AGE, updateAge: UPDATE_AGE }, store: counted.store, authorize };
      // Signed in updateAge + 1 h ago (by the clock), so every session is due for one expiry slide.
      const behind = (UPDATE_AGE + 3600) * 1000;
      const past = m.createSessionHandler({ ...options, clock: () => Date.now() - behind });
      await inBatches(n, 16, async (i) => {
        const { cookies: set } = await past.api.signIn(new Request(`${ORIGIN}/api/auth/signin`), userOf(i));
        cookies[i] = sessionCookieLine(set);
      });
      const auth = m.createSessionHandler(options);
      return {
        listener: listenerOf(m, auth.handler),
        cookies,
        describe: `createSessionHandler, database strategy (updateAge ${UPDATE_AGE} s; sessions signed in ${behind / 3_600_000} h ago, each due for one write), ${describe}, writes counted by a wrapper`,
        writes: counted,
        cleanup: async () => {
          await store.close();
          await drop();
        },
      };
    }
  }
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? "{}") as ServerArgs;
  const send = (payload: ServerMessage) => process.send?.(payload);
  const startedAt = performance.now();
  const loaded = await importDist<
    [Pick<Modules, "createSessionHandler" | "toNodeHandler">, Pick<Modules, "sqliteStore">, Pick<Modules, "postgresStore">, Pick<Modules, "redisStore">]
  >("server.js", "server/sqlite.js", "server/postgres.js", "server/redis.js");
  if (typeof loaded === "string") throw new Error(loaded);
  const [server, sqlite, postgres, redis] = loaded;
  const modules: Modules = { ...server, ...sqlite, ...postgres, ...redis };
  const built = await build(args, modules);
  // One line per session: the Cookie header and the text its answer must contain.
  writeFileSync(args.cookieFile, built.cookies.map((cookie, i) => `${cookie}\t${args.case === "bare" ? expectedOf(0) : expectedOf(i)}`).join("\n"));
  const writesAtSignIn = built.writes?.counts();
  built.writes?.reset();
  const http: Server = createServer({ keepAliveTimeout: 60_000 }, built.listener);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const address = http.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  let cpuAtReset = process.cpuUsage();
  process.on("message", (raw: ParentMessage) => {
    if (raw.type === "stats") {
      const cpu = process.cpuUsage(cpuAtReset);
      const memory = process.memoryUsage();
      const stats: ServerMessage = {
        type: "stats",
        rss: memory.rss,
        maxRss: process.resourceUsage().maxRSS * 1024,
        heapUsed: memory.heapUsed,
        cpuMs: (cpu.user + cpu.system) / 1000,
      };
      if (built.writes) stats.writes = built.writes.counts();
      if (raw.reset) {
        built.writes?.reset();
        cpuAtReset = process.cpuUsage();
      }
      send(stats);
    } else if (raw.type === "stop") {
      http.closeAllConnections();
      http.close();
      built
        .cleanup()
        .catch((error: unknown) => console.error(`cleanup ${args.case}: ${message(error)}`))
        .finally(() => process.exit(0));
    }
  });
  send({
    type: "ready",
    port: address.port,
    describe: built.describe,
    setupMs: performance.now() - startedAt,
    cookieChars: Math.round(built.cookies.reduce((sum, cookie) => sum + cookie.length, 0) / built.cookies.length),
    ...(writesAtSignIn ? { writesAtSignIn } : {}),
  });
}

main().catch((error: unknown) => {
  const payload: ServerMessage = { type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  process.send?.(payload, () => process.exit(1));
});

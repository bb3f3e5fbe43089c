import pg from "pg";
import { afterAll, type TestContext } from "vitest";
import { memoryStore } from "../../../src/server/stores/memory.ts";
import { postgresStore } from "../../../src/server/stores/postgres.ts";
import { redisStore } from "../../../src/server/stores/redis.ts";
import { sqliteStore } from "../../../src/server/stores/sqlite.ts";
import type { Store } from "../../../src/server/stores/store.ts";
import { POSTGRES, REDIS, REDIS_CLUSTER, needService, runId, type Service } from "../services.ts";

/**
 * Every store the handler supports, as the server tests open them: a fresh,
 * empty one per call (its own tables or key prefix), cleaned up after the file.
 * Tests of behaviour that must hold "on every store" loop over these.
 */
export interface Backend {
  name: string;
  /** The service the store talks to; absent for in-process stores. */
  service?: Service;
  /** A fresh store. Call `ready(context)` first in a test. */
  open: () => Store;
}

const RUN = runId();
let opened = 0;
const stores: Store[] = [];
const tables: string[] = [];

afterAll(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
  if (tables.length === 0) return;
  const client = new pg.Client({ connectionString: POSTGRES.url });
  await client.connect();
  for (const prefix of tables.splice(0)) await client.query(`DROP TABLE IF EXISTS "${prefix}sessions", "${prefix}revoked_tokens", "${prefix}values"`);
  await client.end();
});

function track(store: Store): Store {
  stores.push(store);
  return store;
}

const ALL: readonly Backend[] = [
  { name: "memory", open: () => track(memoryStore()) },
  { name: "SQLite", open: () => track(sqliteStore({ path: ":memory:" })) },
  {
    name: "PostgreSQL",
    service: POSTGRES,
    open: () => {
      const tablePrefix = `spb${RUN}_${++opened}_`;
      tables.push(tablePrefix);
      return track(postgresStore({ connectionString: POSTGRES.url }, { tablePrefix, maxConnections: 4 }));
    },
  },
  { name: "Redis", service: REDIS, open: () => track(redisStore({ url: REDIS.url }, { keyPrefix: `sessionpulse-test:${RUN}:${++opened}:` })) },
  {
    name: "Redis Cluster",
    service: REDIS_CLUSTER,
    open: () => track(redisStore({ cluster: [REDIS_CLUSTER.url] }, { keyPrefix: `sessionpulse-test:${RUN}:${++opened}:` })),
  },
];

/** The backends to run, all by default; `SESSIONPULSE_BACKENDS=memory,SQLite` picks some (mutation testing does). */
export const BACKENDS: readonly Backend[] = process.env.SESSIONPULSE_BACKENDS
  ? ALL.filter((backend) => process.env.SESSIONPULSE_BACKENDS!.split(",").includes(backend.name))
  : ALL;

/** Skips (or on CI fails) the test when the backend's service is not reachable. */
export async function ready(backend: Backend, context: Pick<TestContext, "skip">): Promise<void> {
  if (backend.service) await needService(backend.service, context);
}

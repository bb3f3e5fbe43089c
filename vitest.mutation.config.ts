import { defineConfig } from "vitest/config";

/**
 * The suite Stryker runs against each mutant (`npm run test:mutation`): the
 * server tests that exercise the modules it mutates, on the in-process stores
 * (the PostgreSQL and Redis suites test the SQL and the Lua, which are not
 * mutated), with the property tests at a size a mutant run can afford.
 */
process.env.SESSIONPULSE_BACKENDS ??= "memory,SQLite";
process.env.SESSIONPULSE_PROPERTY_RUNS ??= "60";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/server/**/*.test.ts"],
    exclude: ["test/server/stores/postgres.test.ts", "test/server/stores/redis.test.ts", "test/server/several-servers.test.ts"],
  },
});

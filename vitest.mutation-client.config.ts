import { defineConfig } from "vitest/config";

/**
 * The suite Stryker runs against each client mutant (`npm run test:mutation:client`): the client
 * tests on injected time and sources, with the model-based test at a size a mutant run can afford.
 */
process.env.SESSIONPULSE_PROPERTY_RUNS ??= "60";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/client/**/*.test.ts"],
    // Real timers and a real BroadcastChannel: slow, and not about these modules.
    exclude: ["test/client/node-link.test.ts"],
  },
});

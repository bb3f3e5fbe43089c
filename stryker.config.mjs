// Mutation testing of the modules that guard the promises (`npm run test:mutation`): the session
// lifecycle, the JWT codec and its verified-token cache, the cookie layer, the CSRF, Origin and Host checks, provider sign-in and the
// server API. A surviving mutant is
// a missing test or dead code; QUALITY.md holds the latest score and the survivors explained.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts", related: true },
  coverageAnalysis: "perTest",
  mutate: [
    "src/server/session/*.ts",
    "src/server/jwt/codec.ts",
    "src/server/jwt/token-cache.ts",
    "src/server/cookies/*.ts",
    "src/server/http/csrf.ts",
    "src/server/http/origin.ts",
    "src/server/http/host.ts",
    "src/server/http/oauth-routes.ts",
    "src/server/oauth/*.ts",
    "src/server/api.ts",
    // Types and re-exports only.
    "!src/server/session/time.ts",
  ],
  checkers: [],
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  concurrency: 2,
  timeoutMS: 20000,
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: ".stryker-tmp",
};

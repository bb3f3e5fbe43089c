// Mutation testing of the client modules that guard its promises (`npm run test:mutation:client`): the
// scheduler (the keep-alive never silently stops), the tab protocol and message validation (forged
// messages change nothing, every tab shows the truth), the reader and the server clock. QUALITY.md
// holds the latest score and the survivors explained.
import base from "./stryker.config.mjs";

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  ...base,
  vitest: { configFile: "vitest.mutation-client.config.ts", related: true },
  mutate: ["src/client/schedule.ts", "src/client/tab-protocol.ts", "src/client/messages.ts", "src/client/reader.ts", "src/client/server-clock.ts"],
  incrementalFile: "reports/stryker-client-incremental.json",
  htmlReporter: { fileName: "reports/mutation-client/index.html" },
  jsonReporter: { fileName: "reports/mutation-client/mutation.json" },
};

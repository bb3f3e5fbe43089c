import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

/**
 * Library entries: one per `exports` subpath (DESIGN.md §1). Keys become the
 * file names in `dist/`, e.g. `dist/server.js`.
 */
const entries = {
  index: "src/client/index.ts",
  react: "react/index.ts",
  server: "src/server/index.ts",
  "server/sqlite": "src/server/stores/sqlite.ts",
  "server/postgres": "src/server/stores/postgres.ts",
  "server/redis": "src/server/stores/redis.ts",
};

/** Packages that stay imports in the build: runtime deps and optional peers. */
const external = [/^node:/, "sessionpulse", "jose", "@noble/hashes", "broadcast-channel", "react", "react-dom", "pg", "ioredis", "redis", "better-sqlite3"];

/**
 * TypeScript 7 has no JS API, so declaration plugins built on the compiler API
 * cannot drive it. The build runs `tsc` itself once the bundle is written, so
 * `vite build` still produces code and types in one command.
 */
function emitDeclarations(): Plugin {
  return {
    name: "sessionpulse:emit-declarations",
    apply: "build",
    closeBundle() {
      execFileSync("tsc", ["-p", "tsconfig.build.json"], { stdio: "inherit" });
    },
  };
}

export default defineConfig({
  plugins: [emitDeclarations()],
  build: {
    target: "es2022",
    minify: false,
    sourcemap: true,
    emptyOutDir: true,
    lib: { entry: entries, formats: ["es"] },
    rolldownOptions: {
      external: (id) => external.some((rule) => (typeof rule === "string" ? id === rule || id.startsWith(`${rule}/`) : rule.test(id))),
      output: { chunkFileNames: "chunks/[name]-[hash].js" },
      onLog(level, log, handler) {
        // The React files all say "use client"; the entry keeps it (checked by test/package), the merged ones need not.
        if (log.code === "MODULE_LEVEL_DIRECTIVE") return;
        handler(level, log);
      },
    },
  },
  resolve: {
    // The React binding imports the client as users do (`sessionpulse`); in tests that is the source.
    alias: [{ find: /^sessionpulse$/, replacement: fileURLToPath(new URL("./src/client/index.ts", import.meta.url)) }],
  },
  test: {
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    projects: [
      {
        extends: true,
        test: {
          name: "server",
          environment: "node",
          include: ["test/server/**/*.test.ts", "test/package/**/*.test.ts"],
        },
      },
      {
        // The client core on injected fakes: no DOM, exact simulated time.
        extends: true,
        test: { name: "client", environment: "node", include: ["test/client/**/*.test.ts"] },
      },
      {
        // The default browser sources and the React binding, in a DOM, with msw answering fetch.
        extends: true,
        test: { name: "browser", environment: "happy-dom", include: ["test/browser/**/*.test.ts", "test/react/**/*.test.{ts,tsx}"] },
      },
      {
        // The playground server and page in real Chromium (playwright-core). Runs after the
        // other projects (groupOrder), so their load does not skew its timings.
        extends: true,
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

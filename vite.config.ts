import { execFileSync } from "node:child_process";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

/**
 * Library entries: one per `exports` subpath (DESIGN.md §1). Keys become the
 * file names in `dist/`, e.g. `dist/server.js`.
 */
const entries = {
  index: "src/client/index.ts",
  server: "src/server/index.ts",
};

/** Packages that stay imports in the build: runtime deps and optional peers. */
const external = [/^node:/, "jose", "broadcast-channel", "react", "react-dom", "pg", "ioredis", "redis", "better-sqlite3"];

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
    },
  },
  test: {
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    projects: [
      {
        test: {
          name: "server",
          environment: "node",
          include: ["test/server/**/*.test.ts", "test/shared/**/*.test.ts"],
        },
      },
      {
        // The client core on injected fakes: no DOM, exact simulated time.
        test: { name: "client", environment: "node", include: ["test/client/**/*.test.ts"] },
      },
      {
        // The default browser sources, wired to a DOM, with msw answering fetch.
        test: { name: "browser", environment: "happy-dom", include: ["test/browser/**/*.test.ts"] },
      },
    ],
  },
});

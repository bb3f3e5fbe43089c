import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The playground app: `vite build --config playground/vite.config.ts` writes
 * `playground/dist`, which `playground/server.ts` serves. It imports the
 * library as a user would (`sessionpulse`, `sessionpulse/react`), which
 * resolves to the built `dist/` through the package's `exports`.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  logLevel: "warn",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: true },
});

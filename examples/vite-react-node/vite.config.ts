import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  // In development the session API runs in server.ts; the browser sees one origin.
  server: { proxy: { "/api": "http://localhost:3001" } },
});

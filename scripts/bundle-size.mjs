// Measures what the client entry costs a browser: `dist/index.js` bundled with
// its dependencies (broadcast-channel included), minified, gzip level 9.
// Fails when over budget, so size regressions stop `npm test`.
import { build } from "esbuild";
import { gzipSync } from "node:zlib";

const NAME = "sessionpulse (client, with broadcast-channel)";
const BUDGET = 9 * 1024;

const result = await build({
  entryPoints: ["dist/index.js"],
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  logLevel: "silent",
});
const code = result.outputFiles[0].contents;
const gzip = gzipSync(code, { level: 9 }).byteLength;
const ok = gzip <= BUDGET;
console.log(`${NAME}: ${code.byteLength} B min, ${gzip} B gzip (budget ${BUDGET} B) ${ok ? "ok" : "OVER BUDGET"}`);
process.exit(ok ? 0 : 1);

// Measures what the client entry costs a browser: `dist/index.js` bundled with
// its dependencies (broadcast-channel included), minified, gzip level 9.
// Fails when over budget, so size regressions stop `npm test`.
import { build } from "esbuild";
import { gzipSync } from "node:zlib";

const BUDGET = 9 * 1024;
const entries = [
  { name: "sessionpulse (client, with broadcast-channel)", entry: "dist/index.js", budget: BUDGET },
];

let failed = false;
for (const { name, entry, budget } of entries) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    external: ["react", "react-dom"],
    logLevel: "silent",
  });
  const code = result.outputFiles[0].contents;
  const gzip = gzipSync(code, { level: 9 }).byteLength;
  const verdict = gzip <= budget ? "ok" : "OVER BUDGET";
  if (gzip > budget) failed = true;
  console.log(`${name}: ${code.byteLength} B min, ${gzip} B gzip (budget ${budget} B) ${verdict}`);
}
process.exit(failed ? 1 : 0);

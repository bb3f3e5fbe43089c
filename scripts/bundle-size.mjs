// Measures what the client costs a browser: each entry bundled with its dependencies, minified, gzip
// level 9. Code split off behind a dynamic import is reported, not counted: the write side (sign-in,
// sign-out, update, session management), loaded on the first such call; the tab protocol and the browser's
// tab link, fetched when the client starts, while its first read is on its way (the tab works alone until
// they are here); and the `broadcast-channel` fallback, loaded only where the browser lacks BroadcastChannel
// or Web Locks. Fails when over budget,
// so size regressions stop `npm test`.
import { build } from "esbuild";
import { gzipSync } from "node:zlib";

const ENTRIES = [
  { name: "sessionpulse (createSessionClient)", entry: "dist/index.js", budget: 5 * 1024 },
  { name: "sessionpulse/react (with the client, without React)", entry: "dist/react.js", budget: 6 * 1024 },
];

let ok = true;
for (const { name, entry, budget } of ENTRIES) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    splitting: true,
    outdir: "out",
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    external: ["react", "react-dom"],
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const outputs = Object.entries(result.metafile.outputs);
  const main = outputs.find(([, output]) => output.entryPoint)?.[0];
  // What the entry needs at load: itself and the chunks it imports statically.
  const loaded = new Set([main]);
  for (const path of loaded)
    for (const imported of result.metafile.outputs[path]?.imports ?? []) if (imported.kind === "import-statement") loaded.add(imported.path);
  const gzipOf = (paths) =>
    paths.reduce(
      (sum, path) =>
        sum +
        gzipSync(result.outputFiles.find((file) => file.path.endsWith(path.replace(/^out\//, "/out/")))?.contents ?? new Uint8Array(), { level: 9 }).byteLength,
      0,
    );
  const atLoad = gzipOf([...loaded]);
  // Each lazy chunk with what it loads in turn, named by the module it was split at.
  const lazyChunks = outputs
    .filter(
      ([path]) =>
        !loaded.has(path) && outputs.some(([, output]) => output.imports.some((imported) => imported.path === path && imported.kind === "dynamic-import")),
    )
    .map(([path, output]) => {
      const closure = new Set([path]);
      for (const chunk of closure)
        for (const imported of result.metafile.outputs[chunk]?.imports ?? [])
          if (imported.kind === "import-statement" && !loaded.has(imported.path)) closure.add(imported.path);
      return `${(output.entryPoint ?? path).replace(/^.*\/|(-[\w]{8})?\.[jt]s$/g, "")} ${gzipOf([...closure])} B`;
    });
  const fits = atLoad <= budget;
  ok &&= fits;
  console.log(`${name}: ${atLoad} B gzip at load (budget ${budget} B) ${fits ? "ok" : "OVER BUDGET"}; loaded on demand: ${lazyChunks.join(", ")}`);
}
process.exit(ok ? 0 : 1);

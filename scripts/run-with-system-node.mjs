// Runs a script with the machine's own Node (the first `node` on PATH outside
// node_modules), not the toolchain Node that npm scripts put first. The
// library promises Node >= 20; this is how `npm test` proves it on the build.
//
//   node scripts/run-with-system-node.mjs <script> [args...]
//   node scripts/run-with-system-node.mjs --which   (prints that node's path)
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

const script = process.argv[2];
if (!script) {
  console.error("usage: run-with-system-node.mjs <script> [args...] | --which");
  process.exit(2);
}

function systemNode() {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir || dir.includes("node_modules")) continue;
    const candidate = join(dir, "node");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not there or not executable: try the next directory.
    }
  }
  return undefined;
}

const node = systemNode();
if (!node) {
  console.error("no system `node` found on PATH outside node_modules");
  process.exit(1);
}
const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
const major = Number(version.replace(/^v/, "").split(".")[0]);
if (!(major >= 20)) {
  console.error(`system node ${version} at ${node} is older than the supported 20`);
  process.exit(1);
}
if (script === "--which") {
  console.log(node);
  process.exit(0);
}
console.log(`running ${script} with system node ${version} (${node})`);
const result = spawnSync(node, [script, ...process.argv.slice(3)], { stdio: "inherit" });
process.exit(result.status ?? 1);

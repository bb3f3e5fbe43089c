// Type-checks every `ts`/`tsx` code block of README.md under `strict`, as a user would paste it: each block
// becomes a module (or several: a line `// path/file.ts` starts a file of that name), importing the package
// by its public names. Free names a snippet stands for (`email`, `db`, …) are declared in
// scripts/readme-snippets.d.ts (modules it does not install in readme-modules.d.ts). Run by `npm test`; fails on any type error.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, ".readme-check");
rmSync(out, { recursive: true, force: true });

const readme = readFileSync(join(root, "README.md"), "utf8");
const blocks = [...readme.matchAll(/^```(tsx?)\n([\s\S]*?)^```$/gm)];
let files = 0;
blocks.forEach(([, lang, body], index) => {
  let name = `block-${index + 1}.${lang}`;
  let lines = [];
  const flush = () => {
    if (lines.join("").trim() === "") return;
    const path = join(out, name);
    mkdirSync(dirname(path), { recursive: true });
    // A module of its own (top-level await, no clashes between blocks).
    writeFileSync(path, `${lines.join("\n")}\nexport {};\n`);
    files++;
  };
  for (const line of body.split("\n")) {
    const marker = /^\/\/ ([\w@/[\].-]+\.tsx?)\b/.exec(line);
    if (marker) {
      flush();
      name = marker[1];
      lines = [];
    } else lines.push(line);
  }
  flush();
});

writeFileSync(
  join(out, "tsconfig.json"),
  JSON.stringify({
    extends: "../tsconfig.base.json",
    compilerOptions: {
      noEmit: true,
      types: ["node"],
      noUnusedLocals: false,
      paths: {
        sessionpulse: ["../src/client/index.ts"],
        "sessionpulse/react": ["../react/index.ts"],
        "sessionpulse/server": ["../src/server/index.ts"],
        "sessionpulse/server/*": ["../src/server/stores/*.ts"],
        "@/*": ["./*"],
      },
    },
    include: ["**/*.ts", "**/*.tsx", "../scripts/readme-snippets.d.ts", "../scripts/readme-modules.d.ts"],
  }),
);
try {
  execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-p", join(out, "tsconfig.json")], { stdio: "pipe" });
  console.log(`README: ${blocks.length} code blocks (${files} files) type-check under strict`);
} catch (error) {
  console.error(`README code blocks fail to type-check (files in .readme-check/):\n${error.stdout}${error.stderr}`);
  process.exit(1);
}

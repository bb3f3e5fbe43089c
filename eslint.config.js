// Lint rules that catch bugs the type checker lets through: a floating promise
// in a session library is a lost sign-out or a silently stopped poll.
// typescript-eslint needs the TypeScript compiler API, which TypeScript 7 does
// not have: it runs on the `typescript` package (6.x, `tsc6`) while the type
// check and the build use TypeScript 7 (`tsc`, from `@typescript/native`).
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // examples/ import the published package, which resolves only once installed: test/e2e/examples.test.ts installs
  // each from the packed tarball and runs its own type check and build.
  {
    ignores: [
      "dist/",
      "coverage/",
      "test-results/",
      "reports/",
      ".stryker-tmp/",
      ".readme-check/",
      "playground/dist/",
      "bench/peers/",
      "examples/",
      "**/node_modules/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js", "*.mjs", "scripts/*.mjs", "scripts/*.d.ts", "test/smoke/*.mjs"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/return-await": ["error", "in-try-catch"],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      // Store and route methods are async on purpose: a synchronous throw becomes a rejection.
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    files: ["react/**/*.{ts,tsx}", "playground/src/**/*.{ts,tsx}", "test/react/**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks },
    rules: { ...reactHooks.configs.recommended.rules },
  },
  {
    // Tests and benchmarks read JSON answers and drive untyped peers (next-auth v4 in happy-dom):
    // `any` is their input, not a bug. The library, the React binding and the playground stay strict.
    files: ["test/**", "bench/**"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  {
    // Plain JavaScript files carry no types to check against.
    files: ["**/*.js", "**/*.mjs"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
);

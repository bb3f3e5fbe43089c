import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("React files for the Next.js App Router", () => {
  it.each(readdirSync(new URL("../../react/", import.meta.url)).filter((file) => file.endsWith(".ts")))('%s starts with "use client"', (file) => {
    expect(readFileSync(new URL(`../../react/${file}`, import.meta.url), "utf8").startsWith('"use client";')).toBe(true);
  });
});

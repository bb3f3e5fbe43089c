/**
 * Drives the playground in real Chromium: builds the library and the app when
 * they are missing or older than their sources, starts `playground/server.ts`
 * on a free port with a throw-away data folder, and opens tabs with
 * playwright-core. Used by the end-to-end tests (`test/e2e`) and by
 * `bench/e2e-tabs.ts`, so at run time it imports only Node built-ins and
 * playwright-core (Node runs it by type stripping; the `import type`s below
 * are erased).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { Stats } from "../../playground/stats.ts";
import type { PlaygroundGlobal } from "../../playground/src/tab.ts";
import type { SessionSnapshot, SessionStatus } from "../../src/client/index.ts";

export type { Stats };

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Debian's `chromium` package (`.ci/run` installs it); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Why the browser tests cannot run here, or null when they can. */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  return `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium binary`;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Build

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/**
 * Makes sure the library (`dist/`) and the playground app (`playground/dist/`)
 * are built: the library when it is missing or older than `src/` or `react/`,
 * the app when it is missing or older than its sources or the library.
 * Returns what it built.
 */
export function buildPlayground(): string[] {
  const built: string[] = [];
  // NODE_ENV=production: vitest sets "test", with which Vite would bundle React's development build (several times slower).
  const run = (command: string, args: string[]) => execFileSync(command, args, { cwd: ROOT, stdio: "pipe", env: { ...process.env, NODE_ENV: "production" } });
  const library = join(ROOT, "dist", "index.js");
  const librarySources = Math.max(...["src", "react"].map((path) => newestMtime(join(ROOT, path))));
  if (
    !existsSync(library) ||
    !existsSync(join(ROOT, "dist", "react.js")) ||
    !existsSync(join(ROOT, "dist", "server.js")) ||
    statSync(library).mtimeMs < librarySources
  ) {
    run("npm", ["run", "build", "--silent"]);
    built.push("library");
  }
  const app = join(ROOT, "playground", "dist", "index.html");
  const sources = Math.max(
    ...["playground/src", "playground/index.html", "playground/vite.config.ts", "dist/index.js", "dist/react.js"].map((path) => newestMtime(join(ROOT, path))),
  );
  if (!existsSync(app) || statSync(app).mtimeMs < sources) {
    run(process.execPath, [join(ROOT, "node_modules", "vite", "bin", "vite.js"), "build", "--config", "playground/vite.config.ts"]);
    built.push("app");
  }
  return built;
}

// ---------------------------------------------------------------------------
// Server

export interface Playground {
  url: string;
  stats(): Promise<Stats>;
  resetStats(): Promise<void>;
  /** Makes `/api/auth/session` answer 503, for `seconds` or until switched off. */
  setOutage(on: boolean, seconds?: number): Promise<void>;
  setStrategy(strategy: "jwt" | "database"): Promise<void>;
  /** What the server printed. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `playground/server.ts` on a free port with a fresh data folder, or with `data` (shared by several
 * servers, as nodes of one site; the caller removes it) and extra environment.
 */
export async function startPlayground({ data: shared, env = {} }: { data?: string; env?: Record<string, string> } = {}): Promise<Playground> {
  const data = shared ?? mkdtempSync(join(tmpdir(), "sessionpulse-playground-"));
  const child = spawn(process.execPath, ["playground/server.ts"], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", PLAYGROUND_DATA: data, PLAYGROUND_STRATEGY: "database", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Should this process end without stop() (a crash, Ctrl-C), the server goes with it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the playground server did not start within 15 s:\n${output}`)), 15_000);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the playground server exited with ${code}:\n${output}`));
    });
  });

  const post = async (path: string, body: unknown) => {
    const response = await fetch(url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  };

  return {
    url,
    async stats() {
      return (await (await fetch(`${url}/demo/stats`)).json()) as Stats;
    },
    resetStats: () => post("/demo/stats/reset", {}),
    setOutage: (on, seconds) => post("/demo/fail", { on, ...(seconds && { seconds }) }),
    setStrategy: (strategy) => post("/demo/strategy", { strategy }),
    output: () => output,
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited, sleep(3_000)]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      if (!shared) rmSync(data, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// Browser and tabs

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** The page's `window` (main.tsx puts `__playground` on it); in `page.evaluate` callbacks. */
export interface PlaygroundWindow {
  __playground: PlaygroundGlobal;
}

const PAGE = '[data-testid="page"]';

/**
 * Opens `count` tabs one after another (each page loaded before the next
 * opens, so they number themselves Tab 1, Tab 2, … in order), then waits
 * until every one is past `loading`.
 */
export async function openTabs(context: BrowserContext, url: string, count: number, query = ""): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    await page.goto(`${url}/${query}`);
    pages.push(page);
  }
  await Promise.all(pages.map((page) => page.waitForSelector(`${PAGE}:not([data-status="loading"])`)));
  return pages;
}

/**
 * Clicks a control (by `data-testid`) with a DOM click event. Playwright's
 * `click()` first waits for the element to be stable across animation frames,
 * and Chromium runs a background tab's frames at a few per second: over a
 * second per click. The page handles both the same way.
 */
export async function press(page: Page, testId: string): Promise<void> {
  await page.getByTestId(testId).dispatchEvent("click");
}

export const tabLabel = (page: Page) => page.evaluate(() => (window as unknown as PlaygroundWindow).__playground.tab.label);

export async function statusOf(page: Page): Promise<Pick<SessionSnapshot, "status" | "isLeader" | "isStale">> {
  const element = page.locator(PAGE);
  const [status, leader, stale] = await Promise.all([
    element.getAttribute("data-status"),
    element.getAttribute("data-leader"),
    element.getAttribute("data-stale"),
  ]);
  return { status: status as SessionStatus, isLeader: leader === "true", isStale: stale === "true" };
}

export async function waitForStatus(pages: Page[], status: SessionStatus, timeout = 5_000): Promise<void> {
  await Promise.all(pages.map((page) => page.waitForSelector(`${PAGE}[data-status="${status}"]`, { timeout })));
}

/** The one tab showing the leader badge (waits until exactly one does). */
export async function leaderOf(pages: Page[], timeout = 5_000): Promise<Page> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const leaders: Page[] = [];
    for (const page of pages) if ((await statusOf(page)).isLeader) leaders.push(page);
    if (leaders.length === 1) return leaders[0]!;
    if (Date.now() > deadline) throw new Error(`expected one leader tab, found ${leaders.length}`);
    await sleep(50);
  }
}

/** Signs in through the form (which comes filled in with the first demo account). */
export async function signIn(page: Page, email = "ada@example.com", password = "lovelace"): Promise<void> {
  const form = { email, password };
  for (const field of ["email", "password"] as const) {
    const input = page.getByTestId(field);
    if ((await input.inputValue()) !== form[field]) await input.fill(form[field]);
  }
  await press(page, "sign-in");
}

/**
 * When the tab last rendered `status` (ms on a clock all tabs share:
 * performance.timeOrigin + performance.now()), or null.
 */
export function renderedAt(page: Page, status: SessionStatus): Promise<number | null> {
  return page.evaluate((wanted) => {
    const all = (window as unknown as PlaygroundWindow).__playground.transitions.filter((entry) => entry.status === wanted);
    return all.length ? all[all.length - 1]!.at : null;
  }, status);
}

export const sessionGets = (stats: Stats, tab?: string) =>
  (tab ? stats.sessionRequests.filter((request) => request.tab === tab) : stats.sessionRequests).length;

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

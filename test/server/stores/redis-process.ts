import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "vitest";
import { missing } from "../services.ts";

/** A port nothing listens on right now (the kernel's pick), for a private server. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether a Redis answers PING at the port, within `ms`. */
function pings(port: number, ms = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(ms, () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
    socket.once("error", () => done(false));
  });
}

/**
 * A Redis server of the test's own, on a free port, that the test may kill
 * and start again without disturbing the shared one on 6379. It persists
 * every write before answering (`appendonly yes`, `appendfsync always`, in a
 * directory of its own), as a Redis that keeps sessions must: restarted, it
 * comes back with everything it acknowledged.
 *
 * Skips the test (or fails it on CI) when the `redis-server` binary is missing.
 */
export async function privateRedis(context: Pick<TestContext, "skip">) {
  if (spawnSync("redis-server", ["--version"]).error) missing("redis-server is not installed (apt-get install redis-server)", context);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sessionpulse-redis-"));
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child) throw new Error("this Redis is already running");
    const started = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dir],
      { stdio: "ignore" },
    );
    child = started;
    started.once("exit", () => {
      if (child === started) child = undefined;
    });
    const deadline = performance.now() + 10_000;
    while (!(await pings(port))) {
      if (!child) throw new Error(`redis-server on port ${port} exited while starting`);
      if (performance.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** SIGKILL: no shutdown, no final save; whatever it acknowledged is already in its append-only file. */
  async function kill(): Promise<void> {
    const running = child;
    if (!running) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGKILL");
    await exited;
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    kill,
    /** Kills it and removes its files. */
    async dispose() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

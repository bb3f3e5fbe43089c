import { connect, createServer, type Socket } from "node:net";
import type { TestContext } from "vitest";

/** A database server the store tests run against. */
export interface Service {
  name: string;
  /** Connection URL the tests use; overridable from the environment. */
  url: string;
  host: string;
  port: number;
  /** The command that starts it on the project's machines. */
  start: string;
}

function service(name: string, url: string, start: string): Service {
  const parsed = new URL(url);
  return { name, url, host: parsed.hostname, port: Number(parsed.port), start };
}

export const POSTGRES = service(
  "PostgreSQL",
  process.env.SESSIONPULSE_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
);

export const REDIS = service(
  "Redis",
  process.env.SESSIONPULSE_REDIS_URL ?? "redis://127.0.0.1:6379",
  'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no',
);

/** A local Redis Cluster (three masters on 7001-7003); the tests reach the others through this one. */
export const REDIS_CLUSTER = service("Redis Cluster", process.env.SESSIONPULSE_REDIS_CLUSTER_URL ?? "redis://127.0.0.1:7001", "scripts/redis-cluster.sh");

/** Whether something accepts TCP connections at the address, within a second. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

const probes = new Map<Service, Promise<boolean>>();

/**
 * Call first in a test (or a `beforeEach`). When the service is down the test
 * is skipped at run time with a note saying how to start it, or, when CI sets
 * `SESSIONPULSE_REQUIRE_SERVICES=1`, it fails with that note: on CI a missing
 * database must not turn into a quietly green run.
 */
export async function needService(target: Service, context: Pick<TestContext, "skip">): Promise<void> {
  let probe = probes.get(target);
  if (!probe) {
    probe = reachable(target.host, target.port);
    probes.set(target, probe);
  }
  if (await probe) return;
  missing(`${target.name} is not reachable at ${target.host}:${target.port}; start it with: ${target.start}`, context);
}

/** Skips the test with `note`, or fails it on CI (`SESSIONPULSE_REQUIRE_SERVICES=1`), where nothing the tests need may be missing. */
export function missing(note: string, context: Pick<TestContext, "skip">): never {
  if (process.env.SESSIONPULSE_REQUIRE_SERVICES === "1") throw new Error(`${note} (SESSIONPULSE_REQUIRE_SERVICES=1, so this fails instead of skipping)`);
  return context.skip(note);
}

/** A short random name part, so parallel runs against one server never share tables or keys. */
export function runId(): string {
  return `${process.pid.toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A TCP relay to a service on a port of its own, to simulate the service going
 * away and coming back: `stop()` closes the port (connections are refused) and
 * drops every open connection, `start()` listens on the same port again.
 */
export async function tcpRelay(target: Service) {
  const sockets = new Set<Socket>();
  const frozen = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  let hanging = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    track(client);
    if (hanging) {
      // Accepts the connection and never answers: a server that hangs.
      frozen.add(client);
      client.on("error", () => client.destroy());
      return;
    }
    const upstream = connect({ host: target.host, port: target.port });
    track(upstream);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    for (const socket of pair) {
      socket.once("close", () => pairs.delete(pair));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const port = await listen(0);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
  const user = new URL(target.url).username;
  return {
    port,
    url: (protocol: string, path = "") => `${protocol}://${user ? `${user}@` : ""}127.0.0.1:${port}${path}`,
    /** Listens again; connections that hung are dropped, as a restarted server would. */
    async start() {
      hanging = false;
      for (const socket of frozen) socket.destroy();
      frozen.clear();
      if (!server.listening) await listen(port);
      await settle();
    },
    /** Open connections stop carrying data and new ones are accepted but never answered: a server that hangs. */
    hang() {
      hanging = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        frozen.add(client);
        frozen.add(upstream);
      }
      pairs.clear();
    },
    /** Closes the port (connections are refused) and drops every open connection. */
    async stop() {
      hanging = false;
      frozen.clear();
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      await settle();
    },
  };
}

/**
 * The load generator of `bench/load.ts`, in a child process of its own so it
 * does not take the server's event loop (on 2 cores: one for the server, one
 * for this). Not meant to be run by hand.
 *
 * Argument: one JSON object ({@link ClientArgs}). Runs autocannon (from
 * `bench/peers`) against `GET /api/auth/session`, every request with the next
 * session's cookie in turn (round robin over the cookie file, so 200
 * connections carry 200 different sessions at any moment), and checks each
 * answer's body for that session's own user. Sends one `{ type: "result" }`
 * over IPC and exits.
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface ClientArgs {
  url: string;
  cookieFile: string;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  duration: number;
  /** A fixed number of requests instead of a duration (the warm-up: one pass over every session). */
  amount?: number;
  /** Where in the cookie list to start. */
  offset: number;
}

export interface ClientResult {
  type: "result";
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Answers (of any status) whose body does not carry the session the request's cookie belongs to. */
  withoutSession: number;
  /** Answers with a Set-Cookie header. */
  setCookie: number;
  statusCodes: Record<string, number>;
  cpuMs: number;
  autocannon: string;
}

interface Histogram {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

interface AutocannonResult {
  requests: { total: number };
  latency: Histogram;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}

interface RawRequest {
  headers: Record<string, string>;
}

type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

const PEERS = fileURLToPath(new URL("./peers/package.json", import.meta.url));

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? "{}") as ClientArgs;
  const peerRequire = createRequire(PEERS);
  const autocannon = peerRequire("autocannon") as Autocannon;
  const version = (peerRequire("autocannon/package.json") as { version: string }).version;
  const lines = readFileSync(args.cookieFile, "utf8").split("\n");
  const cookies = lines.map((line) => line.slice(0, line.indexOf("\t")));
  const expected = lines.map((line) => line.slice(line.indexOf("\t") + 1));
  const n = cookies.length;
  let next = args.offset;
  let withoutSession = 0;
  let setCookie = 0;
  const cpu = process.cpuUsage();
  const result = await autocannon({
    url: args.url,
    connections: args.connections,
    pipelining: 1,
    timeout: 10,
    ...(args.amount ? { amount: args.amount } : { duration: args.duration }),
    requests: [
      {
        method: "GET",
        path: "/api/auth/session",
        setupRequest: (request: RawRequest, context: { session?: number }) => {
          const i = next++ % n;
          context.session = i;
          request.headers = { cookie: cookies[i]!, accept: "application/json" };
          return request;
        },
        onResponse: (_status: number, body: string, context: { session?: number }, headers: Record<string, unknown>) => {
          if (context.session === undefined || !body.includes(expected[context.session]!)) withoutSession++;
          if (headers["set-cookie"] !== undefined) setCookie++;
        },
      },
    ],
  });
  const used = process.cpuUsage(cpu);
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number(count);
  const message: ClientResult = {
    type: "result",
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    withoutSession,
    setCookie,
    statusCodes,
    cpuMs: (used.user + used.system) / 1000,
    autocannon: version,
  };
  process.send?.(message, () => process.exit(0));
}

main().catch((error: unknown) => {
  process.send?.({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1));
});

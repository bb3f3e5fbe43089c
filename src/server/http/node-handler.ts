import { MAX_BODY_BYTES, concatBytes } from "./body.js";
import { HOST } from "./host.js";

/** The parts of `node:http`'s `IncomingMessage` the adapter reads (typed here so the server needs no Node types). */
export interface NodeRequestLike extends AsyncIterable<unknown> {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  /**
   * `encrypted` is true on a TLS socket and absent on a plain `net.Socket`. The
   * `object &` keeps this from being a "weak type", which a `net.Socket` (sharing
   * no property with it) would fail to match, breaking `createServer(toNodeHandler(…))`.
   */
  socket?: (object & { encrypted?: boolean }) | undefined;
}

/** The parts of `node:http`'s `ServerResponse` the adapter writes. */
export interface NodeResponseLike {
  statusCode: number;
  setHeader(name: string, value: string | string[]): unknown;
  end(chunk?: Uint8Array | string): unknown;
}

async function readBody(request: NodeRequestLike): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request) {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
    size += bytes.byteLength;
    chunks.push(bytes);
    // Past the handler's cap: stop reading, but keep the chunk that crossed it so the
    // handler sees an oversized body and answers 413. Dropping it could hand over
    // exactly 64 KB of a truncated body that still parses (a form cut mid-field).
    if (size > MAX_BODY_BYTES) break;
  }
  return size === 0 ? undefined : concatBytes(chunks, size);
}

/**
 * Adapts a Fetch handler to `node:http` (also Express and Fastify's raw
 * request/response). Multiple `Set-Cookie` headers stay separate.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * const auth = createSessionHandler({ secret });
 * createServer(toNodeHandler(auth.handler)).listen(3000);
 * ```
 */
export function toNodeHandler(handler: (request: Request) => Promise<Response>) {
  return async (request: NodeRequestLike, response: NodeResponseLike): Promise<void> => {
    try {
      const method = request.method ?? "GET";
      const protocol = request.socket?.encrypted ? "https" : "http";
      // HTTP/1.0 may omit Host (node:http itself refuses an HTTP/1.1 request without one).
      const host = request.headers.host === undefined ? "localhost" : request.headers.host;
      if (typeof host !== "string" || !HOST.test(host)) throw new Error("Host is not host[:port]");
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (name.startsWith(":") || value === undefined) continue;
        for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
      }
      const body = method === "GET" || method === "HEAD" ? undefined : await readBody(request);
      const path = request.url ?? "/";
      // Join rather than resolve: a request line like `//evil.example/x` must stay a path on our host.
      if (!path.startsWith("/")) throw new Error("request target is not a path");
      const answer = await handler(new Request(new URL(`${protocol}://${host}${path}`), { method, headers, body: body ?? null }));
      response.statusCode = answer.status;
      answer.headers.forEach((value, name) => {
        if (name !== "set-cookie") response.setHeader(name, value);
      });
      const cookies = answer.headers.getSetCookie();
      if (cookies.length > 0) response.setHeader("set-cookie", cookies);
      response.end(new Uint8Array(await answer.arrayBuffer()));
    } catch {
      // Only a malformed request line or Host header gets here (the handler itself never throws).
      response.statusCode = 400;
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ error: "bad_request" }));
    }
  };
}

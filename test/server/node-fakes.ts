import { toNodeHandler } from "../../src/server/http/node-handler.ts";

/**
 * Calls `toNodeHandler(handler)` with a request object shaped like node:http's
 * (no server, no socket), and returns what it wrote: for cases a real client
 * would not send, such as a path-shaped Host header.
 */
export async function callNodeAdapter(
  handler: (request: Request) => Promise<Response>,
  request: { url: string; headers: Record<string, string>; method?: string },
): Promise<{ status?: number; body?: string }> {
  const written: { status?: number; body?: string } = {};
  const response = {
    statusCode: 0,
    setHeader: () => undefined,
    end(chunk?: Uint8Array | string) {
      written.status = this.statusCode;
      written.body = typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
    },
  };
  await toNodeHandler(handler)({ method: request.method ?? "GET", url: request.url, headers: request.headers, async *[Symbol.asyncIterator]() {} }, response);
  return written;
}

import { SessionServerError } from "../errors.js";

/** Largest request body read, in bytes; session updates must fit a cookie anyway. */
export const MAX_BODY_BYTES = 65_536;

export type RequestFields = Record<string, unknown>;

/** Drops keys that would reach an object's prototype if a caller ever merged the body with `Object.assign`. */
function withoutPrototypeKeys(key: string, value: unknown): unknown {
  return key === "__proto__" || key === "constructor" || key === "prototype" ? undefined : value;
}

async function readText(request: Request): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw new SessionServerError("body_too_large", `request body over ${MAX_BODY_BYTES} bytes`);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw new SessionServerError("body_too_large", `request body over ${MAX_BODY_BYTES} bytes`);
    }
    parts.push(value);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(concatBytes(parts, size));
  } catch {
    throw new SessionServerError("body_malformed", "request body is not UTF-8");
  }
}

/** The parts joined into one array of `size` bytes (their total). */
export function concatBytes(parts: readonly Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}

/**
 * Reads a JSON object or a form (`application/x-www-form-urlencoded`) body,
 * the two encodings the Auth.js clients send. Anything else is refused, which
 * also refuses the `text/plain` and multipart bodies a cross-site form can
 * send without a preflight.
 */
export async function readFields(request: Request): Promise<RequestFields> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && type !== "application/x-www-form-urlencoded") {
    throw new SessionServerError("unsupported_media_type", "send application/json or application/x-www-form-urlencoded");
  }
  const text = await readText(request);
  if (type === "application/x-www-form-urlencoded") {
    const fields = Object.create(null) as RequestFields;
    for (const [key, value] of new URLSearchParams(text)) {
      if (withoutPrototypeKeys(key, value) !== undefined && !(key in fields)) fields[key] = value;
    }
    return fields;
  }
  let parsed: unknown;
  try {
    parsed = text === "" ? {} : JSON.parse(text, withoutPrototypeKeys);
  } catch {
    throw new SessionServerError("body_malformed", "request body is not valid JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new SessionServerError("body_malformed", "request body must be a JSON object");
  }
  return parsed as RequestFields;
}

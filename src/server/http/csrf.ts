import { base64url } from "jose";

const encoder = new TextEncoder();
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;

async function deriveMacKey(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("sessionpulse.csrf"), info: encoder.encode("sessionpulse CSRF token MAC") },
    material,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

/** Same length and same characters, compared in time independent of where they differ. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/**
 * Double-submit CSRF tokens. The cookie holds `token.mac`, where `mac` is an
 * HMAC of the token under a key derived from the secret, so a cookie planted by
 * an attacker who does not know the secret is refused; a state-changing request
 * must echo `token` in its body. Every secret in the rotation list verifies.
 */
export interface CsrfTokens {
  /** A fresh token and the cookie value that binds it. */
  issue(): Promise<{ token: string; cookieValue: string }>;
  /** The token inside a genuine cookie value, or `null`. */
  read(cookieValue: string | undefined): Promise<string | null>;
  /** Whether the submitted token matches a genuine cookie. */
  verify(cookieValue: string | undefined, submitted: unknown): Promise<boolean>;
}

export function createCsrfTokens(secrets: readonly string[]): CsrfTokens {
  let keys: Promise<CryptoKey[]> | undefined;
  const macKeys = () => (keys ??= Promise.all(secrets.map(deriveMacKey)));

  async function read(cookieValue: string | undefined): Promise<string | null> {
    if (typeof cookieValue !== "string") return null;
    const dot = cookieValue.indexOf(".");
    const token = cookieValue.slice(0, dot);
    const mac = cookieValue.slice(dot + 1);
    if (dot < 0 || !TOKEN.test(token) || !MAC.test(mac)) return null;
    const signature = new Uint8Array(base64url.decode(mac));
    for (const key of await macKeys()) {
      if (await crypto.subtle.verify("HMAC", key, signature, encoder.encode(token))) return token;
    }
    return null;
  }

  return {
    async issue() {
      const token = base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
      const [primary] = await macKeys();
      const mac = base64url.encode(new Uint8Array(await crypto.subtle.sign("HMAC", primary!, encoder.encode(token))));
      return { token, cookieValue: `${token}.${mac}` };
    },
    read,
    async verify(cookieValue, submitted) {
      if (typeof submitted !== "string" || !TOKEN.test(submitted)) return false;
      const token = await read(cookieValue);
      return token !== null && constantTimeEqual(token, submitted);
    },
  };
}

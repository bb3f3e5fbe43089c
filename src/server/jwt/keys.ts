import { base64url, calculateJwkThumbprint } from "jose";
import { importContentKeys, type ContentKeys } from "./jwe-cbc-hs512.js";

/** A content-encryption key derived from one secret for one cookie name. */
export interface DerivedKey {
  /** RFC 7638 SHA-512 thumbprint of the key, as Auth.js computes it: the JWE `kid`. */
  kid: string;
  /** 64 bytes: A256CBC-HS512 splits it into a MAC key and an AES key. */
  key: Uint8Array;
  /** The two halves, imported once. */
  content: ContentKeys;
  /** The protected header tokens under this key carry, base64url-encoded (it is also the AAD). */
  encodedHeader: string;
}

const encoder = new TextEncoder();

/**
 * HKDF-SHA256 of the secret with the cookie name as salt, 64 bytes, the info
 * string Auth.js v5 uses. Tokens minted by Auth.js v5 under the same secret and
 * cookie name therefore decrypt here, and a token made for one cookie (purpose)
 * never decrypts as another (the CVE-2023-48309 class).
 */
export async function deriveEncryptionKey(secret: string, salt: string): Promise<DerivedKey> {
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode(salt), info: encoder.encode(`Auth.js Generated Encryption Key (${salt})`) },
    material,
    512,
  );
  const key = new Uint8Array(bits);
  const kid = await calculateJwkThumbprint({ kty: "oct", k: base64url.encode(key) }, "sha512");
  const encodedHeader = base64url.encode(JSON.stringify({ alg: "dir", enc: "A256CBC-HS512", kid }));
  return { kid, key, content: await importContentKeys(key), encodedHeader };
}

/**
 * Derives each secret's key once per salt and keeps it: Auth.js re-derives on
 * every request, which costs more than the decryption itself.
 */
export function createKeyring(secrets: readonly string[]): (salt: string) => Promise<readonly DerivedKey[]> {
  const cache = new Map<string, Promise<readonly DerivedKey[]>>();
  return (salt) => {
    let keys = cache.get(salt);
    if (!keys) {
      keys = Promise.all(secrets.map((secret) => deriveEncryptionKey(secret, salt)));
      cache.set(salt, keys);
    }
    return keys;
  };
}
